"""The server side of one AudioHook session: the protocol state machine.

Transport-agnostic: it is fed text and binary messages and sends through an async
callable, so it is unit-testable without sockets. Sequence numbers follow the
reference implementation: every server message has ``seq = previous + 1`` and
``clientseq`` = the last client ``seq`` seen; a client message must carry
``seq = clientseq + 1`` and a ``serverseq`` no higher than ours.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from media_bridge import metrics
from media_bridge.audiohook import protocol as p
from media_bridge.audiohook.codec import decode_frame
from media_bridge.audiohook.delivery import SessionDelivery
from media_bridge.audiohook.recorder import INPUT_RATE, ChannelRecorder, FinishedChunk
from media_bridge.audiohook.session_meta import participant_of, speakers_of
from media_bridge.audiohook.settings import AudioHookSettings
from media_bridge.audiohook.sinks import AudioChunkSink
from media_bridge.consent import Verdict, not_checked
from media_bridge.consent.verdict import from_value
from media_bridge.identity import SpeakerDescriber
from media_bridge.jobs.keys import audiohook_chunk_key, audiohook_final_key, audiohook_key
from media_bridge.observability import get_logger
from media_bridge.sinks.metadata import SCHEMA_VERSION

log = get_logger(__name__)

Send = Callable[[str], Awaitable[None]]
_NO_ERROR_SIGNAL = {"CLOSED", "SIGNALED-ERROR", "UNAUTHORIZED", "FINALIZING"}
_CAN_DISCONNECT = {"PREPARING", "ACTIVE", "PAUSED"}


class ServerSession:
    def __init__(
        self,
        session_id: str,
        *,
        settings: AudioHookSettings,
        sink: AudioChunkSink,
        spool_root: Path,
        send: Send,
        header_org_id: str | None = None,
        correlation_id: str | None = None,
        auth_failure: str | None = None,
    ) -> None:
        self.id = session_id
        self.settings = settings
        self.speakers = SpeakerDescriber(settings.identity)
        self.consent: Verdict = not_checked()
        self.sink = sink
        self.spool_root = spool_root
        self._send = send
        self.header_org_id = header_org_id
        self.correlation_id = correlation_id
        self.auth_failure = auth_failure
        self.state = "PREPARING"
        self.seq = 0
        self.clientseq = 0
        self.selected: dict[str, Any] | None = None
        self.open_params: dict[str, Any] = {}
        self.language: str | None = None
        self.probe = False
        self.samples = 0  # per channel, at 8 kHz
        self.skipped_s = 0.0  # paused/discarded time the client reported
        self.recorders: dict[str, ChannelRecorder] = {}
        self.delivery: SessionDelivery | None = None
        self.auto_paused = False
        self.close_reason: str | None = None
        self.client_errors: list[dict[str, Any]] = []
        self.finalized = False
        self.sent_types: list[str] = []

    # ---- sending -------------------------------------------------------------------

    async def send(self, type_: str, parameters: dict[str, Any]) -> None:
        self.seq += 1
        msg = p.server_message(self.id, self.seq, self.clientseq, type_, parameters)
        self.sent_types.append(type_)
        await self._send(json.dumps(msg, separators=(",", ":")))

    async def signal_client_error(self, info: str) -> None:
        if self.state in _NO_ERROR_SIGNAL:
            log.info("audiohook.error_suppressed", session=self.id, state=self.state, info=info)
            return
        log.warning("audiohook.client_error", session=self.id, state=self.state, info=info)
        self.state = "SIGNALED-ERROR"
        await self.send("disconnect", {"reason": "error", "info": f"Client Error: {info}"})

    async def disconnect(self, reason: str, info: str | None = None) -> bool:
        """Server-initiated ``disconnect`` (``completed``, ``unauthorized`` or ``error``)."""
        if self.state not in _CAN_DISCONNECT:
            return False
        if reason == "unauthorized":
            self.state = "UNAUTHORIZED"
        elif reason == "error":
            self.state = "SIGNALED-ERROR"
        params: dict[str, Any] = {"reason": reason}
        if info:
            params["info"] = info
        await self.send("disconnect", params)
        return True

    async def pause(self) -> bool:
        if self.state not in ("ACTIVE", "PAUSED") or self.probe:
            return False
        await self.send("pause", {})
        return True

    async def resume(self) -> bool:
        if self.state not in ("ACTIVE", "PAUSED") or self.probe:
            return False
        self.auto_paused = True  # an explicit resume is not undone by the auto-pause
        await self.send("resume", {})
        return True

    # ---- receiving -----------------------------------------------------------------

    @property
    def timeline(self) -> float:
        return self.samples / INPUT_RATE + self.skipped_s

    async def on_text(self, text: str) -> None:
        if len(text) > p.MAX_TEXT_CHARS:
            await self.signal_client_error(f"Text message too large (>64K). Length: {len(text)}")
            return
        try:
            msg = json.loads(text)
        except ValueError:
            await self.signal_client_error("Text message not valid JSON")
            return
        if not p.is_client_message_base(msg):
            await self.signal_client_error("Message not a well-formed client message")
            return
        seq = int(msg["seq"])
        if seq != self.clientseq + 1:
            # Count it as seen, so a following close still gets a correct closed.
            expected = self.clientseq + 1
            self.clientseq = max(self.clientseq, seq)
            await self.signal_client_error(f"Invalid seq value {seq} (expected {expected})")
            return
        self.clientseq = seq
        if int(msg["serverseq"]) > self.seq:
            await self.signal_client_error("Invalid serverseq value")
            return
        if msg["id"] != self.id:
            await self.signal_client_error("Session identifier mismatch")
            return
        type_ = msg["type"]
        check = p.CLIENT_PARAMS.get(type_)
        if check is None:
            await self.signal_client_error(
                f"Invalid Message: '{type_}' is not a supported client message"
            )
            return
        if not check(msg["parameters"]):
            await self.signal_client_error("Invalid Message: Invalid/missing parameters")
            return
        await getattr(self, f"_on_{type_}")(msg)

    async def on_binary(self, data: bytes) -> None:
        if self.state != "ACTIVE":
            if self.state in ("CLOSING", "CLOSED", "SIGNALED-ERROR", "UNAUTHORIZED"):
                return  # frames in flight after a disconnect/close: drop quietly
            await self.signal_client_error(f"Received audio in state {self.state}")
            return
        if self.selected is None:
            await self.signal_client_error("Unexpected binary message: No media selected")
            return
        channels: list[str] = self.selected["channels"]
        try:
            frame = decode_frame(data, self.selected["format"], len(channels))
        except ValueError as exc:
            await self.signal_client_error(f"Binary data not a valid audio frame: {exc}")
            return
        start = self.timeline
        self.samples += frame.shape[0]
        for col, channel in enumerate(channels):
            rec = self.recorders.get(channel)
            if rec is None:
                continue
            chunk = rec.add(frame[:, col], start)
            if chunk is not None:
                await self._submit(chunk)
        await self._maybe_auto_pause()

    # ---- per message type ----------------------------------------------------------

    async def _on_open(self, msg: dict[str, Any]) -> None:
        if self.state != "PREPARING":
            log.warning("audiohook.open_ignored", session=self.id, state=self.state)
            return
        params = msg["parameters"]
        self.open_params = params
        if self.auth_failure is not None:
            await self.disconnect("unauthorized", "Unauthorized")
            return
        if self.header_org_id is not None and params["organizationId"] != self.header_org_id:
            await self.disconnect(
                "unauthorized",
                'Mismatch between "organizationId" open parameter and '
                '"audiohook-organization-id" header field',
            )
            return
        self.language = params.get("language")
        self.probe = (
            params["conversationId"] == p.NULL_UUID and params["participant"]["id"] == p.NULL_UUID
        )
        opened: dict[str, Any] = {"media": [], "startPaused": False}
        if not self.probe:
            self.consent = self._consent_at_open(params)
        if not self.probe and self.consent.verdict != "refused":
            self.selected = p.choose_media(params["media"], self.settings.keep_agent)
            if self.selected is not None:
                opened["media"] = [self.selected]
                self._start_recording(self.selected["channels"])
        if params.get("supportedLanguages"):
            opened["supportedLanguages"] = []
        await self.send("opened", opened)
        self.state = "ACTIVE"
        log.info(
            "audiohook.opened",
            session=self.id,
            conversation=params["conversationId"],
            probe=self.probe,
            media=opened["media"],
        )

    def _consent_at_open(self, params: dict[str, Any]) -> Verdict:
        """From ``customConfig[consent.attribute]``: refused means no media is accepted."""
        settings = self.settings.consent
        if settings.mode == "off":
            return not_checked()
        custom = params.get("customConfig")
        value = custom.get(settings.attribute) if isinstance(custom, dict) else None
        verdict = from_value(value, settings, "audiohook")
        label = "held" if verdict.verdict == "unknown" else verdict.verdict
        metrics.CONSENT_VERDICTS.labels(kind="audiohook", verdict=label).inc()
        if verdict.verdict != "granted":
            event = "consent.refused" if verdict.verdict == "refused" else "consent.held"
            log.info(event, session=self.id, conversation_id=params.get("conversationId"))
        return verdict

    def set_consent(self, verdict: Verdict) -> None:
        """Consent learnt during the call: granted delivers from now on (and the whole call
        at the end); anything else keeps holding, and the spool is discarded at the end."""
        self.consent = verdict
        if self.delivery is not None:
            self.delivery.held = not verdict.allows_delivery
        log.info("audiohook.consent", session=self.id, verdict=verdict.verdict)

    def _start_recording(self, channels: list[str]) -> None:
        s = self.settings
        wanted = [c for c in channels if c == "external" or (c == "internal" and s.keep_agent)]
        for channel in wanted:
            self.recorders[channel] = ChannelRecorder(
                channel,
                s.sample_rate,
                s.chunk_mode,
                s.chunk_seconds,
                s.max_chunk_audio_seconds,
                s.vad_aggressiveness,
            )
        if wanted:
            self.delivery = SessionDelivery(
                self.sink, self.spool_root, self.id, s.sample_rate, deliver_chunks_for={"external"}
            )
            self.delivery.held = not self.consent.allows_delivery
            self.delivery.start()

    async def _on_ping(self, msg: dict[str, Any]) -> None:
        await self.send("pong", {})

    async def _on_update(self, msg: dict[str, Any]) -> None:
        if self.state not in ("ACTIVE", "PAUSED"):
            log.warning("audiohook.update_ignored", session=self.id, state=self.state)
            return
        self.language = msg["parameters"]["language"]
        await self.send("updated", {})

    async def _on_paused(self, msg: dict[str, Any]) -> None:
        if self.state == "ACTIVE":
            self.state = "PAUSED"

    async def _on_resumed(self, msg: dict[str, Any]) -> None:
        if self.state == "PAUSED":
            self.state = "ACTIVE"
            self.skipped_s += p.parse_duration(msg["parameters"]["discarded"])

    async def _on_discarded(self, msg: dict[str, Any]) -> None:
        self.skipped_s += p.parse_duration(msg["parameters"]["discarded"])

    async def _on_error(self, msg: dict[str, Any]) -> None:
        self.client_errors.append(msg["parameters"])
        log.warning("audiohook.client_reported_error", session=self.id, **msg["parameters"])

    async def _on_close(self, msg: dict[str, Any]) -> None:
        if self.state in ("CLOSING", "CLOSED"):
            return
        self.state = "CLOSING"
        self.close_reason = msg["parameters"]["reason"]
        await self.send("closed", {})
        self.state = "CLOSED"

    # ---- delivery ------------------------------------------------------------------

    def base_meta(self, channel: str) -> dict[str, Any]:
        params = self.open_params
        speakers = speakers_of(self.speakers, params, self.id)
        return {
            "schema_version": SCHEMA_VERSION,
            "key": audiohook_key(self.id, channel),
            "conversation_id": params.get("conversationId"),
            "speaker": speakers.get(channel, speakers["external"]),
            "speakers": speakers,
            "consent": self.consent.to_dict(),
            "sessionId": self.id,
            "correlationId": self.correlation_id,
            "organizationId": params.get("organizationId"),
            "conversationId": params.get("conversationId"),
            "participant": participant_of(self.speakers, params),
            "language": self.language,
            "channel": channel,
            "sourceFormat": (self.selected or {}).get("format"),
            "sourceChannels": (self.selected or {}).get("channels"),
            "sampleRate": self.settings.sample_rate,
        }

    async def _submit(self, chunk: FinishedChunk) -> None:
        if self.delivery is None:
            return
        base = self.base_meta(chunk.channel)
        meta = base | {
            "key": audiohook_chunk_key(self.id, chunk.channel, chunk.index),
            "kind": "chunk",
            "index": chunk.index,
            "start": round(chunk.start, 6),
            "end": round(chunk.end, 6),
            "segments": chunk.segments,
            "audioSeconds": chunk.audio_seconds,
            "speechSeconds": chunk.speech_seconds,
        }
        await self.delivery.submit(chunk, meta)

    async def _maybe_auto_pause(self) -> None:
        limit = self.settings.pause_after_speech_s
        rec = self.recorders.get("external")
        if limit is None or self.auto_paused or rec is None:
            return
        if rec.speech_seconds >= limit:
            self.auto_paused = True
            log.info("audiohook.auto_pause", session=self.id, speech=rec.speech_seconds)
            await self.pause()

    async def finalize(self, dropped: bool) -> None:
        """Flush everything received; called once when the socket is gone."""
        if self.finalized:
            return
        self.finalized = True
        if dropped and self.state not in ("CLOSED",):
            self.close_reason = self.close_reason or "dropped"
        self.state = "FINALIZING"
        if self.delivery is None:
            return
        metas: dict[str, dict[str, Any]] = {}
        for channel, rec in self.recorders.items():
            tail = rec.flush()
            if tail is not None:
                await self._submit(tail)
            meta = self.base_meta(channel) | rec.summary()
            if channel not in self.delivery.deliver_chunks_for:
                meta["chunks"] = 0  # this channel is delivered whole only: no chunk files
            metas[channel] = meta | {
                "key": audiohook_final_key(self.id, channel),
                "kind": "final",
                "closeReason": self.close_reason or "dropped",
            }
        await self.delivery.finish(metas)
