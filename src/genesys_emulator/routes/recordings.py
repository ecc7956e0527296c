"""Recordings: 202 while transcoding, then mediaUris to signed files in the asked format."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from genesys_emulator import errors, media, render, times
from genesys_emulator.config import OAuthClientConfig
from genesys_emulator.routes.common import api_endpoint, json
from genesys_emulator.state import Conversation, OrgState, Recording

RECORDING_VIEW = (
    "recording:recording:view",
    "recording:recordingSegment:view",
    "recording:snippetRecording:view",
    "recording:screenRecording:view",
)
KNOWN_FORMATS = ("WAV", "WEBM", "WAV_ULAW", "OGG_VORBIS", "OGG_OPUS", "MP3", "NONE")


def _format(request: Request) -> str:
    """mediaFormats (first one we can encode) overrides formatId; the default is WEBM."""
    media_formats = [
        f.strip().upper()
        for value in request.query_params.getlist("mediaFormats")
        for f in value.split(",")
        if f.strip()
    ]
    if media_formats:
        for candidate in media_formats:
            if candidate in media.RECORDING_KINDS:
                return candidate
        raise errors.bad_request(f"None of the media formats {media_formats} can be produced.")
    format_id = request.query_params.get("formatId", "WEBM").upper()
    if format_id not in KNOWN_FORMATS:
        raise errors.bad_request(f"Invalid formatId {format_id}.", "invalid.value")
    if format_id == "OGG_VORBIS":
        raise errors.bad_request("The emulator cannot encode OGG_VORBIS; use OGG_OPUS.")
    return format_id


def _waveform(recording: Recording) -> list[float]:
    seconds = (recording.end - recording.start).total_seconds()
    turns = media.dialogue_turns(recording.seed, seconds)
    points = 50
    values = []
    for i in range(points):
        moment = seconds * i / points
        active = any(t.start_s <= moment < t.end_s for t in turns)
        values.append(0.6 if active else 0.02)
    return values


def _messaging_transcript(state: OrgState, conversation: Conversation) -> list[dict[str, Any]]:
    entries = []
    for message in conversation.messages:
        inbound = message.direction == "inbound"
        entry: dict[str, Any] = {
            "id": message.id,
            "from": conversation.customer_address if inbound else conversation.user_id,
            "to": conversation.queue_id if inbound else conversation.customer_address,
            "timestamp": times.iso(message.timestamp),
            "participantId": message.participant_id,
            "purpose": "customer" if inbound else "agent",
        }
        if message.text is not None:
            entry["messageText"] = message.text
        if message.attachments:
            entry["contentType"] = "Attachment"
            entry["messageMediaAttachments"] = []
            for attachment in message.attachments:
                obj = state.attachment_object(attachment)
                entry["messageMediaAttachments"].append(
                    {
                        "url": state.signed_url(attachment.object_key, "storage"),
                        "mediaType": attachment.mime,
                        "contentLength": obj.size,
                        "name": attachment.filename,
                        "id": attachment.id,
                    }
                )
        entries.append(entry)
    return entries


def recording_body(
    state: OrgState, conversation: Conversation, recording: Recording, format_id: str
) -> dict[str, Any]:
    body = render.recording_base(conversation, recording)
    if recording.media == "message":
        body["messagingTranscript"] = _messaging_transcript(state, conversation)
        return body
    if recording.file_state == "ARCHIVED":
        body["archiveDate"] = times.iso(recording.end)
        body["archiveMedium"] = "CLOUDARCHIVE"
    if recording.file_state == "DELETED":
        body["deleteDate"] = times.iso(recording.end)
    if recording.file_state not in ("AVAILABLE", "RESTORED") or format_id == "NONE":
        return body
    host = "downloads" if state.config.recording_uri_host == "downloads" else "storage"
    keys = (
        {"S": recording.object_keys[format_id]}
        if state.config.media_uri_keys == "S"
        else {str(i): recording.object_keys[f"{format_id}/{i}"] for i in (0, 1)}
    )
    waveform = _waveform(recording)
    body["mediaUris"] = {
        name: {"mediaUri": state.signed_url(key, host), "waveformData": waveform}  # type: ignore[arg-type]
        for name, key in keys.items()
    }
    if state.config.media_uri_keys == "S":
        obj = state.store.materialize(keys["S"])
        body["outputSizeInBytes"] = obj.size
    return body


def _transcoding_left(state: OrgState, recording: Recording) -> float:
    """Seconds until the recording is transcoded; the clock starts at the first request."""
    if recording.media != "audio" or recording.file_state not in ("AVAILABLE", "RESTORED"):
        return 0.0
    with state.lock:
        if recording.first_requested_at is None:
            recording.first_requested_at = time.monotonic()
        started = recording.first_requested_at
    return max(0.0, state.config.transcoding_delay_s - (time.monotonic() - started))


def _conversation(state: OrgState, conversation_id: str) -> Conversation:
    conversation = state.conversation(conversation_id)
    if conversation is None:
        raise errors.not_found(conversation_id)
    return conversation


async def list_recordings(request: Request, state: OrgState, _: OAuthClientConfig) -> Response:
    conversation = _conversation(state, request.path_params["conversationId"])
    format_id = _format(request)
    max_wait_ms = request.query_params.get("maxWaitMs", "5000")
    max_wait = int(max_wait_ms) / 1000 if max_wait_ms.isdigit() else 5.0
    left = max((_transcoding_left(state, r) for r in conversation.recordings), default=0.0)
    if left > 0:  # the real API holds the request up to maxWaitMs
        await asyncio.sleep(min(left, max_wait))
        if left > max_wait:
            return Response(status_code=202)
    return json(
        [recording_body(state, conversation, r, format_id) for r in conversation.recordings]
    )


async def get_recording(request: Request, state: OrgState, _: OAuthClientConfig) -> Response:
    conversation = _conversation(state, request.path_params["conversationId"])
    recording_id = request.path_params["recordingId"]
    recording = next((r for r in conversation.recordings if r.id == recording_id), None)
    if recording is None:
        raise errors.not_found(recording_id)
    format_id = _format(request)
    left = _transcoding_left(state, recording)
    if left > 0:
        if state.config.transcoding_body == "partial":
            body = render.recording_base(conversation, recording)
            body["estimatedTranscodeTimeMs"] = int(left * 1000)
            return json(body, status=202)
        return Response(status_code=202)
    return json(recording_body(state, conversation, recording, format_id))


routes = [
    Route(
        "/api/v2/conversations/{conversationId}/recordings",
        api_endpoint(list_recordings, any_of=RECORDING_VIEW),
        methods=["GET"],
    ),
    Route(
        "/api/v2/conversations/{conversationId}/recordings/{recordingId}",
        api_endpoint(get_recording, any_of=RECORDING_VIEW),
        methods=["GET"],
    ),
]
