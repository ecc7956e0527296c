"""Run an attachment job: resolve a fresh URL when needed, download, normalise, deliver.

Token safety: a URL taken from an event is used only when it is a Downloads API link
on the region's downloads host (``fetch.urls.event_download_link``); any other URL,
an API path or a signed URL alike, is never fetched: the attachment is looked up
through the message endpoint, whose URL is trusted. Whatever goes wrong with an
event's URL (refused, redirected, stale, broken) drops it for that lookup, so a bad
URL in the payload cannot park the job. A stale URL (401/403/404/410 from media) is
re-resolved through the message endpoint, a bounded number of times, before the job
goes back to the ledger.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from media_bridge import metrics
from media_bridge.audio.report import output_mime
from media_bridge.consent import Verdict, not_checked, settle
from media_bridge.errors import NotFound
from media_bridge.fetch import DownloadedFile
from media_bridge.fetch.refresh import with_fresh_url
from media_bridge.fetch.urls import event_download_link
from media_bridge.genesys import attachment_from_message
from media_bridge.identity import SpeakerFacts, merge
from media_bridge.identity.facts import from_message
from media_bridge.jobs import JobOutcome
from media_bridge.jobs.payloads import EVENT_TRAIL, ORGANIZATION, AttachmentPayload, EventMeta
from media_bridge.observability import get_logger
from media_bridge.redact import redact_url
from media_bridge.sinks.metadata import SCHEMA_VERSION
from media_bridge.types import AttachmentRef, DeliveredFile, Delivery, Job, JobKind
from media_bridge.worker.context import HandlerContext
from media_bridge.worker.handlers import enrolment, speech_gate

if TYPE_CHECKING:
    from media_bridge.audio.processor import AudioProcessor
    from media_bridge.audio.report import AudioReport

log = get_logger(__name__)


@dataclass(slots=True)
class _Target:
    url: str
    sha256: str | None
    size: int | None
    mime: str | None
    filename: str | None
    #: the sender as the message read says (None when the event's link was used)
    sender: SpeakerFacts | None = None


async def _fresh_target(ctx: HandlerContext, ref: AttachmentRef, *, fresh: bool) -> _Target:
    """The attachment as a message read lists it: the read the message's text job made
    (``ctx.messages`` keeps it a short while) unless ``fresh``, else a new one."""
    message = await ctx.messages.read(ref.conversation_id, ref.message_id, fresh=fresh)
    return _target_in(message, ref)


def _target_in(message: dict[str, Any], ref: AttachmentRef) -> _Target:
    found = attachment_from_message(message, ref.media_id)
    if found is None or not found.get("url"):
        raise NotFound(f"attachment {ref.media_id} is not in message {ref.message_id}")
    return _Target(
        url=str(found["url"]),
        sha256=found.get("sha256"),
        size=found.get("contentSizeBytes"),
        mime=found.get("mime"),
        filename=found.get("filename"),
        sender=from_message(message),
    )


async def _fetch(ctx: HandlerContext, target: _Target, dest: Path) -> DownloadedFile:
    return await ctx.fetcher.fetch_media(
        target.url,
        dest,
        max_bytes=ctx.settings.fetch.max_bytes,
        expected_sha256=target.sha256,
        expected_size=target.size,
        declared_mime=target.mime,
    )


async def _download(
    ctx: HandlerContext, ref: AttachmentRef, dest: Path
) -> tuple[DownloadedFile, _Target, int]:
    """Download with bounded URL refreshes; returns (file, target used, refreshes).

    Requests (GENESYS.md section 8): a fresh link costs its Downloads request alone. A
    stale one costs that failed request, one message read (none when the message's text
    job has just read it: the read is shared) and the new link's request; never two reads.
    """
    link = event_download_link(ref.url, ctx.genesys.hosts) if ref.url else None
    refreshes = 0
    if link is not None:
        target = _Target(link, ref.sha256, ref.size, ref.mime, ref.name)
        try:
            return await _fetch(ctx, target, dest), target, refreshes
        except Exception as exc:  # any refusal or failure: the message endpoint knows better
            log.info("event_url_dropped", url=redact_url(link), error=f"{type(exc).__name__}")
            refreshes = 1  # the dropped event link counts as the first refresh
            metrics.URL_REFRESHES.inc()

    async def fetch(target: _Target) -> tuple[DownloadedFile, _Target]:
        return await _fetch(ctx, target, dest), target

    async def reread() -> _Target:  # once a read's link has failed, only a new read helps
        return await _fresh_target(ctx, ref, fresh=True)

    # the first read may be the one the message's text job just made (ctx.messages)
    (downloaded, used), refreshes = await with_fresh_url(
        await _fresh_target(ctx, ref, fresh=False),
        fetch,
        reread,
        ctx.settings.fetch.max_url_refreshes,
        refreshes=refreshes,
    )
    return downloaded, used, refreshes


def _metadata(
    ctx: HandlerContext,
    job: Job,
    event: EventMeta,
    ref: AttachmentRef,
    target: _Target,
    downloaded: DownloadedFile,
) -> dict[str, Any]:
    speaker = merge(ref.speaker, target.sender)
    return {
        "schema_version": SCHEMA_VERSION,
        "key": job.key,
        "kind": "attachment",
        **event.provenance(ORGANIZATION),
        "conversation_id": ref.conversation_id,
        "message_id": ref.message_id,
        "media_id": ref.media_id,
        "media_type": ref.media_type,
        "channel": ref.channel,
        "participant_id": ref.participant_id,
        "participant_purpose": ref.participant_purpose,
        "speaker": ctx.speakers.describe(_with_participant(speaker, ref), ref.conversation_id),
        "message_time": ref.message_time.isoformat() if ref.message_time else None,
        "original_filename": target.filename or ref.name,
        "declared_mime": target.mime or ref.mime,
        "mime": downloaded.sniffed_mime,
        "size": downloaded.size,
        "sha256": downloaded.sha256,
        **event.provenance(EVENT_TRAIL),
        "delivered_at": datetime.now(UTC).isoformat(),
    }


async def _consent(ctx: HandlerContext, payload: AttachmentPayload) -> Verdict:
    """Audio is biometric: its sender's consent is decided before anything is fetched."""
    if not ctx.consent.enabled or payload.media_type.lower() != "audio":
        return not_checked()
    return await ctx.consent.check(
        conversation_id=payload.conversation_id,
        kind="message",
        facts=payload.speaker_facts,
        hint=payload.consent_hint,
    )


async def handle_attachment(job: Job, ctx: HandlerContext) -> JobOutcome:
    payload = AttachmentPayload.from_dict(job.payload)
    ref = payload.to_ref()
    consent = await _consent(ctx, payload)
    held_or_refused = settle(job, consent, ctx.settings.consent)
    if held_or_refused is not None:
        return held_or_refused
    # temporary files live directly in the work dir under unique names: a folder per
    # job costs a mkdir and an rmdir on the event loop, which is slow on some disks
    temporary: list[Path] = []
    try:
        downloaded, target, refreshes = await _download(ctx, ref, ctx.work_dir)
        temporary.append(downloaded.path)
        metrics.BYTES.inc(downloaded.size)
        meta = _metadata(ctx, job, payload.event, ref, target, downloaded)
        meta["url_refreshes"] = refreshes
        meta["consent"] = consent.to_dict()
        mime = downloaded.sniffed_mime or downloaded.declared_mime or "application/octet-stream"
        files = [
            DeliveredFile("original", downloaded.path, mime, downloaded.sha256, downloaded.size)
        ]
        report = None
        if ctx.audio is not None and mime.startswith("audio/"):
            report = await _normalize(ctx.audio, downloaded.path, files, temporary)
            meta["audio"] = report.to_metadata()
        gate = speech_gate.decide(ctx, "attachment", report)
        if gate.sink is None:  # dropped by audio.below_gate: done, with the verdict
            verdict = gate.settle(job, ref.conversation_id)
            return JobOutcome(
                result={
                    "sink": None,
                    **verdict,
                    "consent": consent.to_dict(),
                    "sha256": downloaded.sha256,
                }
            )
        await enrolment.annotate(ctx, meta["speaker"], job.key, report, gate)
        delivery = Delivery(job.key, JobKind.ATTACHMENT, ref.conversation_id, meta, files)
        result = await gate.sink.deliver(delivery)
        metrics.DELIVERED.labels(kind="attachment", media_type=ref.media_type).inc()
        _observe_latency(payload.event)
        verdict = gate.settle(job, ref.conversation_id)
        return JobOutcome(
            result={
                "sink": gate.sink.name,
                **result,
                "bytes": downloaded.size,
                **verdict,
                "consent": consent.to_dict(),
                "sha256": downloaded.sha256,
            }
        )
    finally:
        for path in temporary:
            path.unlink(missing_ok=True)


async def _normalize(
    audio: AudioProcessor, original: Path, files: list[DeliveredFile], temporary: list[Path]
) -> AudioReport:
    """Normalise an audio original: the normalised file (and its segments, cut at pauses
    under ``audio.max_segment_s``) are added to ``files`` and ``temporary``."""
    normalized = original.with_name(f"{original.name}.normalized")
    temporary.append(normalized)
    report = await audio.process(original, normalized)
    out = report.output
    mime = output_mime(out.format)
    files.append(DeliveredFile("normalized", out.path, mime, out.sha256, out.bytes))
    for segment in report.segments or ():
        temporary.append(segment.path)
        files.append(DeliveredFile(segment.role, segment.path, mime, segment.sha256, segment.bytes))
    return report


def _with_participant(speaker: SpeakerFacts | None, ref: AttachmentRef) -> SpeakerFacts:
    """The facts, with the attachment's participant id as the conversation-scope fallback."""
    own = SpeakerFacts(participant_id=ref.participant_id, platform=ref.channel)
    return merge(speaker, own) or own


def _observe_latency(event: EventMeta) -> None:
    received = event.received_at
    if received:
        with contextlib.suppress(ValueError):
            delta = datetime.now(UTC) - datetime.fromisoformat(received)
            metrics.LATENCY.observe(delta.total_seconds())
