"""Settings of the job pipeline (fetching, the ledger, the worker, the NLP texts): their own
module so that ``config`` stays the loader and the one ``Settings`` object."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator


class FetchSettings(BaseModel):
    #: which ``mediaType``s to fetch: Audio by default; ``all`` fetches everything
    media_types: list[str] = Field(default_factory=lambda: ["Audio"])
    #: size cap of one downloaded media file (bytes); larger files are refused
    max_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    #: bounded re-resolutions of a stale URL before the job is retried later
    max_url_refreshes: int = Field(default=3, ge=0)
    #: no message read for a message-topic message whose ``messageMetadata.content[]``
    #: lists attachments only (all of them in ``media[]``): it has no text to read. That
    #: Genesys lists a ``Text`` entry for a captioned attachment is not verified
    #: (docs/emulator.md); ``false`` reads every message as before
    skip_textless_reads: bool = True
    #: texts of one conversation whose jobs start within this many seconds share one
    #: ``messages/bulk`` read (0 reads each message alone)
    text_batch_window_s: float = Field(default=0.1, ge=0)
    #: where downloads are written while in flight (default: ``.bridge-tmp`` beside
    #: ``sinks.dir_path``)
    tmp_dir: Path | None = None


class LedgerSettings(BaseModel):
    #: ``sqlite:///path/to/ledger.db`` (default) or ``postgresql://...``
    url: str = "sqlite:///var/media-bridge/ledger.db"
    #: a claimed job not finished within this long is taken up again by any worker
    lease_seconds: float = Field(default=120.0, gt=0)
    #: attempts of a job before it is dead (listed by ``jobs list --state dead``)
    max_attempts: int = Field(default=8, ge=1)
    #: done jobs keep their payload this long (for ``jobs show``), then become tombstones;
    #: 0 scrubs each job the moment it is done
    tombstone_after_s: float = Field(default=3600.0, ge=0)
    #: whole done rows are deleted after this long (30 days: longer than EventBridge's
    #: 4-day redelivery, so redelivered events are still refused)
    done_retention_s: float = Field(default=30 * 86400.0, ge=0)
    #: rejected events (kept for an operator to inspect) are deleted after this long
    rejected_retention_s: float = Field(default=7 * 86400.0, ge=0)
    #: how often a long-running process sweeps the ledger (0: never; ``purge`` for cron)
    sweep_interval_s: float = Field(default=600.0, ge=0)
    #: a random secret (32+ bytes; ``*_FILE`` reads it from a file): personal fields of
    #: pending payloads (speaker facts, texts, a call's ANI) are sealed with AES-256-GCM
    payload_key: SecretStr | None = None

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        from media_bridge.ledger import known_schemes

        scheme = urlsplit(value).scheme.lower().split("+", 1)[0]
        if scheme not in known_schemes():
            shown = f"{scheme!r}" if scheme else "none"
            raise ValueError(
                f"unsupported ledger URL scheme {shown}: use sqlite:///path/to/ledger.db "
                "or postgresql://USER@HOST:PORT/DB"
            )
        return value


class WorkerSettings(BaseModel):
    #: jobs in flight per process
    concurrency: int = Field(default=32, ge=1)
    #: how often a messaging conversation without a customer.end is read again, at first:
    #: while nothing changes the interval grows by ``conversation_poll_backoff`` per read
    #: (1 keeps it fixed) up to ``conversation_poll_max_s``; a new message or a new event
    #: brings it back to ``conversation_poll_s``
    conversation_poll_s: float = Field(default=30.0, gt=0)
    #: growth factor of that interval per unchanged read
    conversation_poll_backoff: float = Field(default=2.0, ge=1.0)
    #: longest interval between reads of a watched conversation
    conversation_poll_max_s: float = Field(default=300.0, gt=0)
    #: stop watching a conversation after this long without an end event
    conversation_watch_max_s: float = Field(default=6 * 3600.0, gt=0)


class NlpSettings(BaseModel):
    #: mask phone numbers, Luhn-valid card numbers and e-mail addresses in texts and
    #: transcript lines before they reach the NLP sink (offline; national phone numbers
    #: only with ``identity.default_region``)
    redact: bool = False
