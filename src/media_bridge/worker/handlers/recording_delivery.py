"""Download one ready recording's files, split out the customer, deliver (job side effects).

Token rules are the attachments' (``MediaFetcher``): ``mediaUri`` is a signed storage
URL fetched without the token. A stale URL (401/403/404/410) is replaced by reading the
recording again, at most ``fetch.max_url_refreshes`` times per file. A batch ``resultUrl``
(``via="batch"``) is not refreshed here: its job falls back to the per-recording read,
as it does when the file is not audio (``BatchNotAudio``).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from media_bridge import metrics
from media_bridge.audio.errors import NotStereo
from media_bridge.audio.levels import frame_levels_db
from media_bridge.audio.report import AudioReport, output_mime
from media_bridge.errors import BatchNotAudio, BridgeError, Transient, UrlExpired
from media_bridge.fetch import DownloadedFile
from media_bridge.fetch.refresh import with_fresh_url
from media_bridge.identity import SpeakerFacts
from media_bridge.jobs.payloads import EVENT_TRAIL, ORGANIZATION, RecordingPayload
from media_bridge.observability import get_logger
from media_bridge.sinks.metadata import SCHEMA_VERSION
from media_bridge.types import DeliveredFile, Delivery, Job, JobKind
from media_bridge.voice.channels import ChannelDecision, Side, decide_from_levels, fixed_decision
from media_bridge.voice.recordings import MediaFile, media_files, recording_summary
from media_bridge.voice.transcripts import Span, speaker_spans
from media_bridge.worker.context import HandlerContext
from media_bridge.worker.handlers import enrolment, speech_gate

log = get_logger(__name__)

_FRAME_S = 0.1


async def fresh_recording(ctx: HandlerContext, conv: str, rid: str) -> dict[str, Any]:
    """The recording read again: new signed mediaUris after a stale one."""
    answer = await ctx.genesys.get_recording(conv, rid, ctx.settings.voice.format_id)
    if not answer.ready or answer.recording is None:
        raise Transient(f"recording {rid} is transcoding again while refreshing its URL")
    return answer.recording


async def _download(
    ctx: HandlerContext, conv: str, rid: str, media: MediaFile, max_refreshes: int
) -> tuple[DownloadedFile, int]:
    async def fetch(url: str) -> DownloadedFile:
        return await ctx.fetcher.fetch_media(
            url, ctx.work_dir, max_bytes=ctx.settings.voice.max_recording_bytes
        )

    async def refresh() -> str:
        fresh = {m.key: m for m in media_files(await fresh_recording(ctx, conv, rid))}
        if media.key not in fresh:
            raise UrlExpired(f"recording {rid} no longer lists media {media.key!r}")
        return fresh[media.key].url

    return await with_fresh_url(media.url, fetch, refresh, max_refreshes)


def _file(role: str, path: Path, mime: str, sha256: str, size: int) -> DeliveredFile:
    return DeliveredFile(role, path, mime, sha256, size)


def _output_file(role: str, report: AudioReport) -> DeliveredFile:
    out = report.output
    return _file(role, out.path, output_mime(out.format), out.sha256, out.bytes)


def _output_files(role: str, report: AudioReport, temporary: list[Path]) -> list[DeliveredFile]:
    """The normalised file, then its pieces when ``audio.max_segment_s`` cut it
    (``<role>-segment-N``; ``metadata.audio.<role>.segments`` has their offsets)."""
    mime = output_mime(report.output.format)
    found = [_output_file(role, report)]
    for segment in report.segments or ():
        temporary.append(segment.path)
        found.append(
            _file(f"{role}-{segment.role}", segment.path, mime, segment.sha256, segment.bytes)
        )
    return found


async def _transcript_spans(
    ctx: HandlerContext, conv: str, communication: str | None
) -> tuple[list[Span] | None, str | None]:
    """Speaker spans for ``auto``; (spans, None) or (None, why not)."""
    if not communication:
        return None, "no communication id for the transcript"
    try:
        url = await ctx.genesys.get_transcript_url(conv, communication)
        document = await ctx.fetcher.fetch_json_unauthenticated(url)
    except BridgeError as exc:
        return None, f"transcript unavailable ({exc.code})"
    if not isinstance(document, dict):
        return None, "transcript is not a JSON object"
    return speaker_spans(document), None


async def _decide(
    ctx: HandlerContext, payload: RecordingPayload, left: Path, right: Path
) -> ChannelDecision:
    voice = ctx.settings.voice
    if voice.customer_channel != "auto":
        return fixed_decision(voice.customer_channel)
    spans, why_not = await _transcript_spans(
        ctx, payload.conversation_id, payload.call.get("communication_id")
    )
    if spans is None:
        return ChannelDecision(voice.auto_fallback, "fallback", 0.0, "auto", reason=why_not)
    left_levels, right_levels = await asyncio.gather(
        asyncio.to_thread(frame_levels_db, left, _FRAME_S),
        asyncio.to_thread(frame_levels_db, right, _FRAME_S),
    )
    return decide_from_levels(
        left_levels,
        right_levels,
        spans,
        frame_s=_FRAME_S,
        fallback=voice.auto_fallback,
        min_confidence=voice.auto_min_confidence,
    )


async def _channel_reports(
    ctx: HandlerContext, downloads: list[tuple[MediaFile, DownloadedFile]], temporary: list[Path]
) -> tuple[dict[Side, AudioReport] | None, AudioReport | None]:
    """({left, right} reports) for a stereo file or two per-channel files; or the mono report."""
    assert ctx.audio is not None
    if len(downloads) >= 2:
        reports: dict[Side, AudioReport] = {}
        for side, (_, downloaded) in zip(("left", "right"), downloads[:2], strict=True):
            out = downloaded.path.with_name(f"{downloaded.path.name}.{side}")
            temporary.append(out)
            reports[side] = await ctx.audio.process(downloaded.path, out)  # type: ignore[index]
        return reports, None
    source = downloads[0][1].path
    left, right = source.with_name(f"{source.name}.left"), source.with_name(f"{source.name}.right")
    temporary.extend((left, right))
    try:
        split = await ctx.audio.split(source, left, right)
    except NotStereo:
        mono = source.with_name(f"{source.name}.mono")
        temporary.append(mono)
        return None, await ctx.audio.process(source, mono)
    return {"left": split.left, "right": split.right}, None


async def deliver_recording(
    job: Job,
    ctx: HandlerContext,
    recording: dict[str, Any],
    consent: dict[str, Any],
    *,
    via: str = "per_recording",
) -> dict[str, Any]:
    """``via``: ``per_recording`` (the recording read's ``mediaUris``, in ``format_id``) or
    ``batch`` (one batch ``resultUrl``, the original format)."""
    voice = ctx.settings.voice
    batch = via == "batch"
    payload = RecordingPayload.from_dict(job.payload)
    conv, rid = payload.conversation_id, payload.recording_id
    assert rid is not None, "a recording's job names it (handlers.recording)"
    temporary: list[Path] = []
    try:
        downloads, refreshes = await _download_all(ctx, conv, rid, recording, batch, temporary)
        files = _original_files(downloads) if voice.deliver_original else []
        meta = _metadata(job.key, payload, recording, downloads, refreshes)
        meta.update(_speakers(ctx, payload))
        meta["consent"] = consent
        meta["format_id"] = None if batch else voice.format_id  # batch: the original format
        meta["via"] = via
        # the customer's (or the mono mix's) report
        gated = await _process_audio(ctx, payload, downloads, meta, files, temporary)
        gate = speech_gate.decide(ctx, "recording", gated)
        result: dict[str, Any] = {}
        if gate.sink is not None:
            # the customer's progress (meta["speakers"]["customer"] is the same dict); a
            # mono mix holds both sides and is not the customer's speech
            separated = "customer" in (meta.get("audio") or {})
            await enrolment.annotate(
                ctx, meta["speaker"], job.key, gated if separated else None, gate
            )
            meta["delivered_at"] = datetime.now(UTC).isoformat()
            delivery = Delivery(job.key, JobKind.RECORDING, conv, meta, files)
            result = await gate.sink.deliver(delivery)
        channels = meta.get("channels") or {}
        decision_meta = channels.get("decision") or {}
        return {
            "sink": None if gate.sink is None else gate.sink.name,
            **result,
            **gate.settle(job, conv),
            "recording_id": rid,
            "customer_channel": decision_meta.get("customer"),
            "channel_method": decision_meta.get("method"),
            "bytes": sum(d.size for _, d in downloads),
        }
    finally:
        for path in temporary:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)


async def _download_all(
    ctx: HandlerContext,
    conv: str,
    rid: str,
    recording: dict[str, Any],
    batch: bool,
    temporary: list[Path],
) -> tuple[list[tuple[MediaFile, DownloadedFile]], int]:
    """Every file of the recording (into ``temporary``), and the URL refreshes it took."""
    max_refreshes = 0 if batch else ctx.settings.fetch.max_url_refreshes
    downloads: list[tuple[MediaFile, DownloadedFile]] = []
    refreshes = 0
    for media in media_files(recording):
        done, used = await _download(ctx, conv, rid, media, max_refreshes)
        temporary.append(done.path)
        mime = done.sniffed_mime or done.declared_mime or ""
        if batch and mime and not mime.startswith("audio/"):
            raise BatchNotAudio(f"recording {rid}: the batch result is {mime}")
        downloads.append((media, done))
        refreshes += used
        metrics.BYTES.inc(done.size)
    return downloads, refreshes


def _original_files(downloads: list[tuple[MediaFile, DownloadedFile]]) -> list[DeliveredFile]:
    files: list[DeliveredFile] = []
    for media, done in downloads:
        role = "original" if len(downloads) == 1 else f"original-ch{media.key}"
        mime = done.sniffed_mime or done.declared_mime or "application/octet-stream"
        files.append(_file(role, done.path, mime, done.sha256, done.size))
    return files


async def _process_audio(
    ctx: HandlerContext,
    payload: RecordingPayload,
    downloads: list[tuple[MediaFile, DownloadedFile]],
    meta: dict[str, Any],
    files: list[DeliveredFile],
    temporary: list[Path],
) -> AudioReport | None:
    """Normalise, split the customer out (a mono recording stays mixed), add the outputs
    to ``files`` and their figures to ``meta``; the report the speech gate judges."""
    if ctx.audio is None:
        meta["channels"] = {"decision": None, "reason": "audio processing is off"}
        return None
    reports, mono = await _channel_reports(ctx, downloads, temporary)
    if reports is None:
        assert mono is not None
        meta["channels"] = {
            "decision": None,
            "reason": "mono recording: customer and agent cannot be separated",
        }
        meta["audio"] = {"mixed": mono.to_metadata()}
        files.extend(_output_files("mixed", mono, temporary))
        return mono
    left, right = reports["left"].output.path, reports["right"].output.path
    decision = await _decide(ctx, payload, left, right)
    if len(downloads) >= 2 and decision.method == "setting":
        decision = fixed_decision(decision.customer, "per_channel_files")
    customer, agent = reports[decision.customer], reports[decision.agent]
    meta["channels"] = {"decision": decision.to_dict()}
    meta["audio"] = {"customer": customer.to_metadata(), "agent": agent.to_metadata()}
    files.extend(_output_files("customer", customer, temporary))
    if ctx.settings.voice.deliver_agent:
        files.extend(_output_files("agent", agent, temporary))
    return customer


def _speakers(ctx: HandlerContext, payload: RecordingPayload) -> dict[str, Any]:
    """``speaker`` (the customer), ``speakers`` (by role: the customer and agent files),
    and the older ``ani`` field as pseudonymisation allows."""
    conv, call = payload.conversation_id, payload.call
    known = call.get("speakers") or {}
    customer = SpeakerFacts.from_payload(known.get("customer")) or SpeakerFacts(
        participant_id=call.get("customer_participant_id"), platform="voice"
    )
    agent = SpeakerFacts.from_payload(known.get("agent")) or SpeakerFacts(
        role="agent", platform="voice"
    )
    speakers = {
        "customer": ctx.speakers.describe(customer, conv),
        "agent": ctx.speakers.describe(agent, conv),
    }
    return {
        "speaker": speakers["customer"],
        "speakers": speakers,
        "ani": ctx.speakers.address(call.get("ani"), customer),
    }


def _metadata(
    key: str,
    payload: RecordingPayload,
    recording: dict[str, Any],
    downloads: list[tuple[MediaFile, DownloadedFile]],
    refreshes: int,
) -> dict[str, Any]:
    event, call = payload.event, payload.call
    summary = recording_summary(recording)
    return {
        "schema_version": SCHEMA_VERSION,
        "key": key,
        "kind": "recording",
        **event.provenance(ORGANIZATION),
        "conversation_id": payload.conversation_id,
        "recording_id": payload.recording_id,
        "session_id": summary["sessionId"],
        "communication_id": call.get("communication_id"),
        "customer_participant_id": call.get("customer_participant_id"),
        "ani": call.get("ani"),
        "dnis": call.get("dnis"),
        "media_subtype": summary["mediaSubtype"],
        "file_state": summary["fileState"],
        "start_time": summary["startTime"],
        "end_time": summary["endTime"],
        "duration_ms": summary["outputDurationMs"],
        "output_size_bytes": summary["outputSizeInBytes"],
        "media_uri_keys": [m.key for m, _ in downloads],
        "originals": [
            {
                "key": m.key,
                "mime": d.sniffed_mime or d.declared_mime,
                "size": d.size,
                "sha256": d.sha256,
            }
            for m, d in downloads
        ],
        "url_refreshes": refreshes,
        **event.provenance(EVENT_TRAIL),
    }
