"""Genesys Cloud connection settings: region, OAuth client, and host overrides."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator


class GenesysSettings(BaseModel):
    #: the region's domain, e.g. ``mypurecloud.ie`` (eu-west-1) or ``usw2.pure.cloud``;
    #: AWS region names (``eu-west-1``) are accepted too
    region: str = "mypurecloud.com"
    #: OAuth client-credentials client id (README: the permissions its role needs)
    client_id: str = ""
    #: the org id given to events that carry none (a bare Notifications API frame without
    #: ``eventBody.organizationId``); EventBridge events name their org in ``source``
    org_id: str | None = None
    #: OAuth client secret (use ``*_FILE`` or a secret store)
    client_secret: SecretStr = SecretStr("")
    #: overrides for the emulator or a proxy: full base URLs (scheme://host[:port]).
    #: When set, they replace the region's hosts (and so the token allow-list).
    #: With ``api_url`` set, ``login_url`` and ``downloads_url`` default to it (never
    #: to the real region: emulator credentials must not travel to Genesys).
    api_url: str | None = None
    #: login host override (see ``api_url``)
    login_url: str | None = None
    #: downloads host override (see ``api_url``)
    downloads_url: str | None = None
    #: refresh the token this many seconds before it expires (clamped to half the
    #: token's lifetime for short-lived tokens)
    token_refresh_margin_s: float = Field(default=300.0, ge=0)
    #: after the login host rejected the credentials, fail fast for this long
    #: instead of asking it again for every job
    credentials_retry_s: float = Field(default=30.0, ge=0)
    #: attempts of one API call on 5xx, dropped connections and 429 before the job is
    #: retried later
    max_attempts: int = Field(default=6, ge=1)
    #: first wait of the jittered exponential backoff between those attempts
    backoff_base_s: float = Field(default=0.2, gt=0)
    #: longest wait of that backoff
    backoff_max_s: float = Field(default=30.0, gt=0)
    #: time limit of one API request (downloads have their own throughput floor)
    request_timeout_s: float = Field(default=30.0, gt=0)
    #: connections open at once to Genesys hosts (per process)
    max_connections: int = Field(default=64, ge=1)
    #: TLS verification of Genesys hosts; only for a local emulator may it be turned off
    verify_tls: bool = True
    #: client-side pacing of Platform API calls, on by default: Genesys allows 300 requests
    #: per minute per client-credentials token, and each worker process has its own token,
    #: so N processes may use N budgets (Genesys warns that working around the limit can
    #: affect the whole org). ``off``: only 429s pace the client.
    pacing: Literal["on", "off"] = "on"
    #: the budget per token (GENESYS.md section 8); ``read_org_limit`` reads the org's own
    budget_per_minute: float = Field(default=300.0, gt=0)
    #: the share of the budget this process uses
    pacing_share: float = Field(default=0.9, gt=0, le=1)
    #: read the org's effective limit at start (``GET /api/v2/organizations/limits/
    #: namespaces/platform.api``) and use it as the budget
    read_org_limit: bool = False
    #: an explicit rate (requests per minute): overrides budget, share and ``pacing``
    rate_limit_per_minute: float | None = Field(default=None, gt=0)
    #: how many calls the bucket lets through at once before pacing starts
    rate_limit_burst: int = Field(default=10, ge=1)
    #: the share of the paced rate kept for live work: requests of backfill and deferred
    #: (transcript) jobs use at most the rest, and wait while live requests go first
    #: (``media_bridge.jobs.priority``); 0: they may use the whole rate, still after live ones
    live_reserve: float = Field(default=0.3, ge=0, lt=1)
    #: a Retry-After longer than this is not waited out inside a call: RateLimited is
    #: raised at once so the ledger can park the job (the pacing gate still holds)
    max_retry_after_s: float = Field(default=60.0, gt=0)
    #: whole-download attempts for a media file (truncated bodies, 5xx, dropped connections)
    download_attempts: int = Field(default=3, ge=1)
    #: redirects followed (manually, never with the token) when fetching media
    max_redirects: int = Field(default=5, ge=0)
    #: read size of streamed downloads
    download_chunk_bytes: int = Field(default=256 * 1024, ge=4096)
    #: a media body slower than this (after a 30 s grace) is cut off and retried: a server
    #: trickling bytes must not hold a worker slot for ever (0 turns the guard off)
    download_min_bytes_per_s: float = Field(default=16 * 1024, ge=0)

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        from media_bridge.errors import BadInput
        from media_bridge.genesys.regions import normalize_domain

        try:
            normalize_domain(value)
        except BadInput as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("api_url", "login_url", "downloads_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        from urllib.parse import urlsplit

        if value is not None:
            parts = urlsplit(value.strip())
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                raise ValueError(f"must be an http(s) URL with a host, not {value!r}")
        return value

    @property
    def paced_per_minute(self) -> float | None:
        """The client-side rate in force (None: pacing off)."""
        if self.rate_limit_per_minute is not None:  # an explicit rate always paces
            return self.rate_limit_per_minute
        if self.pacing == "off":
            return None
        return self.budget_per_minute * self.pacing_share
