"""Assembly of one bridge process: ledger, Genesys client, sinks, audio, intake, worker.

Composition only: ``Bridge`` opens and closes what a process is made of (the handlers'
context in ``_context``) and ``HANDLERS`` is the one registry of job handlers. Running
it (the intake runners and the worker until idle or cancelled) is ``runtime.run_pipeline``;
the sub-commands ``run``, ``replay``, ``backfill`` and ``demo`` are thin layers over both.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from media_bridge import metrics
from media_bridge.config import Settings, secret_value
from media_bridge.consent import ConsentChecker
from media_bridge.errors import BridgeError
from media_bridge.files import private_dir
from media_bridge.genesys import GenesysClient
from media_bridge.identity import SpeakerDescriber
from media_bridge.intake.ingest import Intake, IntakeResult
from media_bridge.jobs import JobHandler
from media_bridge.jobs.media_types import wanted_media_types
from media_bridge.ledger.base import Ledger
from media_bridge.ledger.sealed import ledger_for
from media_bridge.observability import get_logger
from media_bridge.purposes import set_customer_purposes
from media_bridge.types import JobKind
from media_bridge.worker.context import HandlerContext, HandlerSettings
from media_bridge.worker.handlers.attachment import handle_attachment
from media_bridge.worker.handlers.conversation import handle_conversation
from media_bridge.worker.handlers.recording import handle_recording
from media_bridge.worker.handlers.recording_batch import RecordingBatches
from media_bridge.worker.handlers.text import handle_text
from media_bridge.worker.handlers.transcript import handle_transcript
from media_bridge.worker.loop import RetryPolicy, Worker
from media_bridge.worker.message_reads import MessageReads

if TYPE_CHECKING:  # imported when the context is built (it pulls in aiohttp)
    from media_bridge.fetch import MediaFetcher

log = get_logger(__name__)


def _with_option(url: str, name: str, value: object) -> str:
    """Add a ledger URL option unless the URL sets it: both backends read ``max_attempts``
    from the URL and park a job whose runs keep ending without an outcome (a job that
    kills its worker) instead of claiming it for ever."""
    if name in parse_qs(urlsplit(url).query):
        return url
    # appended as text: urlunsplit would fold sqlite:///relative into sqlite:/relative
    return f"{url}{'&' if '?' in url else '?'}{urlencode({name: value})}"


async def _unregister(collector: Any) -> None:
    metrics.REGISTRY.unregister(collector)


def _sweep_stale_files(work_dir: Path, older_than_s: float = 3600.0) -> None:
    """Temporary files a killed process left behind (other live workers may share the
    folder, so only files untouched for an hour go)."""
    cutoff = time.time() - older_than_s
    for path in work_dir.iterdir():
        with contextlib.suppress(OSError):
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()


#: the handler of each job kind: one registry, read by every process that runs jobs
HANDLERS: dict[JobKind, JobHandler] = {
    JobKind.ATTACHMENT: handle_attachment,
    JobKind.TEXT: handle_text,
    JobKind.CONVERSATION: handle_conversation,
    JobKind.RECORDING: handle_recording,
    JobKind.TRANSCRIPT: handle_transcript,
}
#: the kinds that run only with ``voice.enabled``
VOICE_KINDS = frozenset({JobKind.RECORDING, JobKind.TRANSCRIPT})


def _handlers(settings: Settings) -> dict[JobKind, JobHandler]:
    """The job kinds this process runs (recordings and transcripts only with voice on)."""
    return {
        kind: handler
        for kind, handler in HANDLERS.items()
        if settings.voice.enabled or kind not in VOICE_KINDS
    }


class Bridge:
    """One bridge process. Use as ``async with Bridge(settings) as bridge: ...``."""

    def __init__(self, settings: Settings, *, worker_id: str | None = None) -> None:
        self.settings = settings
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.ledger: Ledger = ledger_for(
            _with_option(settings.ledger.url, "max_attempts", settings.ledger.max_attempts),
            secret_value(settings.ledger.payload_key),
        )
        self.intake_result = IntakeResult()
        self._closers: list[Callable[[], Awaitable[Any]]] = []
        #: the process's Genesys client (the handlers see it as ``context.genesys``, typed
        #: by the endpoints they call; sources and tests need the client itself)
        self.genesys: GenesysClient | None = None
        #: the process's media fetcher (``context.fetcher``; its counters are the metrics')
        self.fetcher: MediaFetcher | None = None
        self.context: HandlerContext | None = None
        self.worker: Worker | None = None
        self.intake: Intake | None = None

    async def __aenter__(self) -> Bridge:
        try:
            await self._start()
        except BaseException:
            # a start that fails (a setting refused, a missing extra) closes what it opened:
            # no unclosed-session noise after the one-line error
            await self._close_opened()
            raise
        return self

    async def _start(self) -> None:
        settings = self.settings
        set_customer_purposes(settings.identity.customer_purposes)
        await self.ledger.open()
        self._closers.append(self.ledger.close)
        genesys = GenesysClient(settings.genesys)
        genesys.start()
        self._closers.append(genesys.close)
        self.genesys = genesys
        self.context = await self._context(genesys)
        handlers = _handlers(settings)
        self.worker = Worker(
            self.ledger,
            handlers,
            self.context,
            worker_id=self.worker_id,
            concurrency=self.settings.worker.concurrency,
            lease_seconds=self.settings.ledger.lease_seconds,
            retry=RetryPolicy(max_attempts=self.settings.ledger.max_attempts),
            scrub_done=self.settings.ledger.tombstone_after_s == 0,
            live_reserve=settings.genesys.live_reserve,
        )
        self.intake = Intake(
            self.ledger,
            media_types=wanted_media_types(self.settings.fetch.media_types),
            recording_delay_s=settings.voice.recording_delay_s,
            kinds=frozenset(handlers),
            on_new_jobs=self.worker.wake,
            consent_attribute=_consent_attribute(settings),
            max_media_per_message=settings.intake.max_media_per_message,
            default_org_id=settings.genesys.org_id,
            # the real-time transcription's end asks for the call's STA transcript (the
            # recording path plans the same key: the ledger keeps one)
            session_transcripts=settings.voice.enabled and settings.voice.transcripts,
        )
        await _apply_org_limit(genesys, settings)
        log.info(
            "bridge.start",
            worker=self.worker_id,
            ledger=settings.ledger.url.split(":", 1)[0],
            media_sink=settings.sinks.media,
            text_sink=settings.sinks.text,
            consent_mode=settings.consent.mode,
            pseudonymized=settings.identity.pseudonymize_secret is not None,
            below_gate=settings.audio.below_gate,
            api_budget_per_minute=genesys.gate.per_minute,
        )

    async def _context(self, genesys: GenesysClient) -> HandlerContext:
        """What the handlers work with: sinks, audio, the work folder, the fetcher; each
        thing that holds a resource is closed on exit (in reverse order)."""
        import aiohttp

        from media_bridge.audio import AudioProcessor
        from media_bridge.fetch import MediaFetcher
        from media_bridge.sinks import DirSink, sinks_from_settings
        from media_bridge.sinks.timed import TimedMediaSink, TimedTextSink

        settings = self.settings
        sink_session = aiohttp.ClientSession()
        self._closers.append(sink_session.close)
        sinks = sinks_from_settings(settings.sinks, sink_session)
        self._closers.append(sinks.close)
        # audio.below_gate = hold_local: clips below the gate are kept locally instead of
        # sent to a remote engine (with the dir sink they are where they would be anyway)
        hold = settings.audio.below_gate == "hold_local" and settings.sinks.media != "dir"
        audio = None
        if settings.audio.enabled:
            audio = AudioProcessor(settings.audio)
            self._closers.append(audio.close)
        work_dir = settings.fetch.tmp_dir or settings.sinks.dir_path.parent / ".bridge-tmp"
        private_dir(work_dir)
        await asyncio.to_thread(_sweep_stale_files, work_dir)
        fetcher = MediaFetcher(genesys)
        self.fetcher = fetcher
        collector = metrics.GenesysClientCollector(genesys, fetcher)
        metrics.REGISTRY.register(collector)
        self._closers.append(lambda: _unregister(collector))
        context = HandlerContext(
            settings=HandlerSettings.from_settings(settings),
            ledger=self.ledger,
            genesys=genesys,
            fetcher=fetcher,
            media_sink=TimedMediaSink(sinks.media),
            text_sink=TimedTextSink(sinks.text),
            keep_sink=DirSink(settings.sinks.dir_path) if hold else None,
            audio=audio,
            work_dir=work_dir,
            speakers=SpeakerDescriber(settings.identity),
            consent=ConsentChecker(settings.consent, genesys),
            messages=MessageReads(genesys, batch_window_s=settings.fetch.text_batch_window_s),
        )
        self._closers.append(context.messages.close)
        context.recording_batches = self._recording_batches(genesys)
        return context

    def _recording_batches(self, genesys: GenesysClient) -> RecordingBatches | None:
        voice = self.settings.voice
        if not (voice.enabled and voice.recording_batch):
            return None
        batches = RecordingBatches(
            genesys,
            linger_s=voice.recording_batch_linger_s,
            min_count=voice.recording_batch_min,
            poll_initial_s=voice.poll_initial_s,
            poll_max_s=voice.poll_max_s,
            max_wait_s=voice.recording_batch_max_wait_s,
        )
        self._closers.append(batches.close)
        return batches

    async def __aexit__(self, *exc: object) -> None:
        jobs: dict[str, int] | None = None
        with contextlib.suppress(Exception):
            jobs = {k.value: v for k, v in (await self.ledger.counts()).items()}
        log.info(
            "bridge.stop",
            worker=self.worker_id,
            events=self.intake_result.events,
            rejected=len(self.intake_result.rejected),
            jobs=jobs,
        )
        await self._close_opened()

    async def _close_opened(self) -> None:
        for close in reversed(self._closers):
            with contextlib.suppress(Exception):
                await close()
        self._closers.clear()


def _consent_attribute(settings: Settings) -> str | None:
    """The participant attribute whose value the planner keeps as the job's consent hint."""
    if settings.consent.mode != "participant_attribute":
        return None
    return settings.consent.attribute


async def _apply_org_limit(genesys: GenesysClient, settings: Settings) -> None:
    """``genesys.read_org_limit``: pace at the share of the org's own limit."""
    wanted = settings.genesys
    if not wanted.read_org_limit or wanted.paced_per_minute is None or wanted.rate_limit_per_minute:
        return
    try:
        limit = await genesys.get_api_limit_per_minute()
    except BridgeError as exc:  # the configured budget stays: say so, do not stop
        log.warning("genesys.org_limit_unread", error=str(exc))
        return
    if limit is not None:
        genesys.gate.set_rate(limit * wanted.pacing_share)
        log.info("genesys.org_limit", per_minute=limit, paced_at=limit * wanted.pacing_share)
