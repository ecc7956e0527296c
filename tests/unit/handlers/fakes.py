"""Fakes for the handler contract: the collaborators a ``HandlerContext`` holds, answering
from canned data and recording what handlers ask, with no network.

``FakeGenesys`` answers every ``GenesysApi`` endpoint from dicts (a missing entry is a 404,
``NotFound``, as the API says; there are no external contacts, and no batch: a call fails
the test) and logs each call; ``FakeFetcher`` "downloads" bytes from a
URL table into the work folder (or raises what the table says); the sinks keep what they
were given. ``handler_context`` builds the context through ``HandlerSettings.from_settings``
with the real pure pieces (speaker describer, consent checker, message reads).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from media_bridge.audio import AudioProcessor
from media_bridge.audio.normalize import normalize, split_stereo
from media_bridge.audio.report import AudioReport, StereoSplitReport
from media_bridge.audio.settings import ChannelChoice
from media_bridge.config import Settings
from media_bridge.consent import ConsentChecker
from media_bridge.errors import NotFound
from media_bridge.fetch import DownloadedFile, sniff
from media_bridge.genesys import GenesysSettings, RecordingAnswer, RecordingsAnswer, resolve_hosts
from media_bridge.identity import SpeakerDescriber
from media_bridge.ledger.base import SpeechTotals
from media_bridge.types import Delivery, Job, JobKind, JobState
from media_bridge.worker.context import HandlerContext, HandlerSettings
from media_bridge.worker.message_reads import MessageReads

K = TypeVar("K")
V = TypeVar("V")


def job(key: str, kind: JobKind, payload: dict[str, Any], *, age_s: float = 0.0) -> Job:
    """A claimed job as the worker hands it to a handler; ``age_s`` since it was planned."""
    now = datetime.now(UTC)
    created = datetime.fromtimestamp(now.timestamp() - age_s, UTC)
    return Job(key, kind, payload, JobState.RUNNING, 1, now, created, now)


class FakeGenesys:
    """``GenesysApi`` from canned answers; ``calls`` lists (endpoint, *ids) in order."""

    def __init__(self) -> None:
        self.hosts = resolve_hosts(GenesysSettings())
        self.calls: list[tuple[str, ...]] = []
        self.conversations: dict[str, dict[str, Any]] = {}
        self.message_conversations: dict[str, dict[str, Any]] = {}
        #: (conversation, message) -> MessageData
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        #: conversation -> the answers of successive ``get_recordings`` calls (the last repeats)
        self.recordings: dict[str, list[RecordingsAnswer]] = {}
        #: (conversation, recording) -> the answers of successive ``get_recording`` calls
        self.recording: dict[tuple[str, str], list[RecordingAnswer]] = {}
        #: (conversation, communication) -> successive transcript URLs (the last repeats)
        self.transcript_urls: dict[tuple[str, str], list[str]] = {}

    @staticmethod
    def _next(answers: list[V]) -> V:
        return answers.pop(0) if len(answers) > 1 else answers[0]

    async def get_message_conversation(self, conversation_id: str) -> dict[str, Any]:
        self.calls.append(("get_message_conversation", conversation_id))
        return _found(self.message_conversations, conversation_id)

    async def get_message(self, conversation_id: str, message_id: str) -> dict[str, Any]:
        self.calls.append(("get_message", conversation_id, message_id))
        return _found(self.messages, (conversation_id, message_id))

    async def get_messages_bulk(
        self, conversation_id: str, message_ids: list[str]
    ) -> dict[str, Any]:
        self.calls.append(("get_messages_bulk", conversation_id, *message_ids))
        found = [self.messages.get((conversation_id, mid)) for mid in message_ids]
        return {"entities": [m for m in found if m is not None]}

    async def get_external_contact(self, contact_id: str) -> dict[str, Any]:
        self.calls.append(("get_external_contact", contact_id))
        raise NotFound(f"external contact {contact_id}")

    async def get_conversation(self, conversation_id: str) -> dict[str, Any]:
        self.calls.append(("get_conversation", conversation_id))
        return _found(self.conversations, conversation_id)

    async def get_recordings(
        self, conversation_id: str, format_id: str = "WAV", max_wait_ms: int = 5000
    ) -> RecordingsAnswer:
        self.calls.append(("get_recordings", conversation_id, format_id))
        return self._next(_found(self.recordings, conversation_id))

    async def get_recording(
        self, conversation_id: str, recording_id: str, format_id: str = "WAV"
    ) -> RecordingAnswer:
        self.calls.append(("get_recording", conversation_id, recording_id, format_id))
        return self._next(_found(self.recording, (conversation_id, recording_id)))

    async def submit_recording_batch(self, entries: list[tuple[str, str | None]]) -> str:
        raise AssertionError("no recording batch in these tests")

    async def get_recording_batch(self, job_id: str) -> dict[str, Any]:
        raise AssertionError("no recording batch in these tests")

    async def get_transcript_url(self, conversation_id: str, communication_id: str) -> str:
        self.calls.append(("get_transcript_url", conversation_id, communication_id))
        return self._next(_found(self.transcript_urls, (conversation_id, communication_id)))


def _found(table: dict[K, V], key: K) -> V:
    if key not in table:
        raise NotFound(f"{key} (404)")
    return table[key]


class FakeFetcher:
    """``Fetcher`` from a URL table: bytes are written to the work folder as a download
    would be (sha256, size and sniffed type computed from them), an exception is raised.
    A URL mapped to a list answers its items in turn (the last repeats)."""

    def __init__(self) -> None:
        self.media: dict[str, bytes | BaseException | list[bytes | BaseException]] = {}
        self.json: dict[str, Any] = {}
        self.fetched: list[str] = []
        self._names = itertools.count()

    async def fetch_media(
        self,
        url: str,
        dest_dir: Path,
        *,
        max_bytes: int,
        expected_sha256: str | None = None,
        expected_size: int | None = None,
        declared_mime: str | None = None,
    ) -> DownloadedFile:
        self.fetched.append(url)
        answer = self.media.get(url)
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        if answer is None:
            raise NotFound(f"{url} (404)")
        if isinstance(answer, BaseException):
            raise answer
        path = dest_dir / f"download-{next(self._names)}"
        path.write_bytes(answer)
        sniffed = sniff(answer[:64])
        return DownloadedFile(
            path,
            len(answer),
            hashlib.sha256(answer).hexdigest(),
            sniffed.mime if sniffed else None,
            declared_mime,
        )

    async def fetch_json_unauthenticated(self, url: str, *, max_bytes: int = 64 << 20) -> Any:
        self.fetched.append(url)
        answer = self.json.get(url)
        if answer is None:
            raise NotFound(f"{url} (404)")
        if isinstance(answer, BaseException):
            raise answer
        return answer


@dataclass
class FakeLedger:
    """``HandlerLedger``: the keys that exist, the jobs ``get`` returns, speech per key."""

    jobs: dict[str, Job] = field(default_factory=dict)
    keys: set[str] = field(default_factory=set)
    speech: dict[str, dict[str, float]] = field(default_factory=dict)

    async def existing_keys(self, keys: Iterable[str]) -> set[str]:
        return {k for k in keys if k in self.keys or k in self.jobs}

    async def get(self, key: str) -> Job | None:
        return self.jobs.get(key)

    async def record_speech(
        self, speaker_key: str, job_key: str, net_speech_s: float
    ) -> SpeechTotals:
        self.speech.setdefault(speaker_key, {}).setdefault(job_key, net_speech_s)
        return await self.speech_totals(speaker_key)

    async def speech_totals(self, speaker_key: str) -> SpeechTotals:
        clips = self.speech.get(speaker_key, {})
        return SpeechTotals(len(clips), sum(clips.values()))


@dataclass
class KeptMedia:
    """A ``MediaSink`` that keeps each delivery (its files' bytes read at delivery time,
    as the handler deletes its temporary files afterwards)."""

    name: str = "kept"
    deliveries: list[Delivery] = field(default_factory=list)
    contents: list[dict[str, bytes]] = field(default_factory=list)

    async def deliver(self, delivery: Delivery) -> dict[str, Any]:
        self.deliveries.append(delivery)
        self.contents.append({f.role: f.path.read_bytes() for f in delivery.files})
        return {"location": f"kept/{delivery.key}"}

    async def close(self) -> None:
        return None


@dataclass
class KeptTexts:
    """A ``TextSink`` that keeps each record by key."""

    name: str = "kept-texts"
    records: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def deliver_text(self, key: str, record: dict[str, Any]) -> dict[str, Any]:
        self.records[key] = record
        return {"location": f"kept/{key}"}

    async def close(self) -> None:
        return None


@dataclass
class Fakes:
    """One handler context and the fakes inside it, for a test's assertions."""

    ctx: HandlerContext
    genesys: FakeGenesys
    fetcher: FakeFetcher
    ledger: FakeLedger
    media: KeptMedia
    texts: KeptTexts


def handler_context(
    work_dir: Path,
    settings: Settings | None = None,
    *,
    audio: AudioProcessor | None = None,
    ledger_jobs: Sequence[Job] = (),
) -> Fakes:
    """A context as ``Bridge._context`` builds one, around fakes (no network, no sinks)."""
    settings = settings or Settings()
    genesys, fetcher = FakeGenesys(), FakeFetcher()
    ledger = FakeLedger(jobs={j.key: j for j in ledger_jobs})
    media, texts = KeptMedia(), KeptTexts()
    ctx = HandlerContext(
        settings=HandlerSettings.from_settings(settings),
        ledger=ledger,
        genesys=genesys,
        fetcher=fetcher,
        media_sink=media,
        text_sink=texts,
        keep_sink=None,
        audio=audio,
        work_dir=work_dir,
        speakers=SpeakerDescriber(settings.identity),
        consent=ConsentChecker(settings.consent, genesys),
        messages=MessageReads(genesys),
    )
    return Fakes(ctx, genesys, fetcher, ledger, media, texts)


def unused_context() -> HandlerContext:
    """A context for handlers that touch none of it (the worker's own tests)."""
    return handler_context(Path("/nonexistent-work-dir")).ctx


class InlineAudio(AudioProcessor):
    """The real audio step (``normalize``, ``split_stereo``) in a thread instead of the
    process pool: unit tests keep the pure audio code and skip spawning processes."""

    async def process(
        self, src: Path, dst: Path, *, channel: ChannelChoice | None = None
    ) -> AudioReport:
        return await asyncio.to_thread(normalize, src, dst, self.settings, channel)

    async def split(self, src: Path, dst_left: Path, dst_right: Path) -> StereoSplitReport:
        return await asyncio.to_thread(split_stereo, src, dst_left, dst_right, self.settings)


def wav(*channels: npt.NDArray[np.float64], rate: int = 16000) -> bytes:
    """A PCM s16 WAV of one signal per channel (-1..1, equal lengths)."""
    pcm = np.clip(np.rint(np.stack(channels) * 32767), -32768, 32767).astype("<i2")
    data = np.ascontiguousarray(pcm.T).tobytes()
    block = 2 * len(channels)
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt "
    header += struct.pack("<IHHIIHH", 16, 1, len(channels), rate, rate * block, block, 16)
    return header + b"data" + struct.pack("<I", len(data)) + data
