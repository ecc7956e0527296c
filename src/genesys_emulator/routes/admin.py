"""Control API under /__emulator__/ on the api host (no auth): steer the org from tests."""

from __future__ import annotations

import json as jsonlib
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, get_args

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from genesys_emulator import errors, media
from genesys_emulator.config import MessagingChannel
from genesys_emulator.routes.common import org
from genesys_emulator.state import Conversation, OrgState

if TYPE_CHECKING:
    from genesys_emulator.scenario import ScenarioBuilder

MESSAGING_CHANNELS: tuple[str, ...] = get_args(MessagingChannel)
ATTACHMENT_KINDS: tuple[str, ...] = (*media.AUDIO_KINDS, "png", "jpeg", "pdf")

_FAULT_FIELDS = {
    "latencyMs": "latency_ms",
    "jitterMs": "jitter_ms",
    "errorRate": "error_rate",
    "dropRate": "drop_rate",
    "truncateRate": "truncate_rate",
    "seed": "seed",
}


def stats_body(state: OrgState) -> dict[str, Any]:
    with state.lock:
        requests = [
            {"host": host, "path": path, "status": status, "count": count}
            for (host, path, status), count in sorted(state.stats.items())
        ]
        return {
            "requests": requests,
            "storageRequestsWithAuthorization": state.storage_requests_with_authorization,
            "faults": dict(state.fault_counts),
            "tokensIssued": len(state.tokens),
            "downloadLinksIssued": len(state.downloads),
            "events": len(state.events),
        }


def conversation_summary(state: OrgState, conversation: Conversation) -> dict[str, Any]:
    """What a test needs to check a client's results: ids, media ids, hashes."""
    attachments = []
    for message in conversation.messages:
        for attachment in message.attachments:
            obj = state.attachment_object(attachment)
            attachments.append(
                {
                    "messageId": message.id,
                    "mediaId": attachment.id,
                    "mediaType": attachment.media_type,
                    "mime": attachment.mime,
                    "filename": attachment.filename,
                    "sha256": obj.sha256,
                    "contentSizeBytes": obj.size,
                }
            )
    return {
        "id": conversation.id,
        "kind": conversation.kind,
        "channel": conversation.channel,
        "customerCommunicationId": conversation.customer_session_id,
        "recordings": [{"id": r.id, "fileState": r.file_state} for r in conversation.recordings],
        "attachments": attachments,
    }


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    value = jsonlib.loads(raw)
    return value if isinstance(value, dict) else {}


async def get_faults(request: Request) -> Response:
    return JSONResponse(org(request).faults.to_json())


async def put_faults(request: Request) -> Response:
    state = org(request)
    body = await _json_body(request)
    changes: dict[str, Any] = {
        attr: float(body[key]) if attr != "seed" else int(body[key])
        for key, attr in _FAULT_FIELDS.items()
        if key in body
    }
    if "hosts" in body:
        changes["hosts"] = frozenset(body["hosts"])
    state.set_faults(replace(state.faults, **changes))
    return JSONResponse(state.faults.to_json())


async def expire_links(request: Request) -> Response:
    org(request).expire_links()
    return Response(status_code=204)


async def expire_tokens(request: Request) -> Response:
    org(request).expire_tokens()
    return Response(status_code=204)


async def list_conversations(request: Request) -> Response:
    state = org(request)
    with state.lock:
        conversations = list(state.conversations.values())
    return JSONResponse([conversation_summary(state, c) for c in conversations])


class _BadField(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _bad_request(field: str, message: str) -> Response:
    """An ErrorBody (400 bad.request) naming the offending field of the body."""
    error = errors.ApiError(
        400,
        "bad.request",
        f"{field}: {message}",
        message_params={"field": field},
    )
    return errors.error_response(error)


def _channel(value: Any) -> str:
    """A messaging channel, case-insensitively ("WhatsApp" = "whatsapp")."""
    name = str(value).strip().lower() if isinstance(value, str) else ""
    if name not in MESSAGING_CHANNELS:
        raise _BadField(
            "channel", f"unknown channel {value!r}; one of {', '.join(MESSAGING_CHANNELS)}"
        )
    return name


def _texts(value: Any) -> int | list[str]:
    """The texts the customer sends (a list of strings) or how many canned ones (a count)."""
    if isinstance(value, list) and all(isinstance(t, str) for t in value):
        return list(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise _BadField("texts", "a list of strings (the texts to send) or a count (0 or more)")


def _count(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise _BadField("count", "a count of conversations (0 or more)")


def _attachment_kinds(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        raise _BadField("attachments", "a list of media kinds")
    unknown = [k for k in value if k not in ATTACHMENT_KINDS]
    if unknown:
        raise _BadField(
            "attachments", f"unknown kind(s) {unknown}; one of {', '.join(ATTACHMENT_KINDS)}"
        )
    return tuple(value)


def _send_texts(conversation: Conversation, texts: list[str]) -> None:
    """Give the customer's text messages these texts, in order (the builder sent canned ones)."""
    sent = (m for m in conversation.messages if m.direction == "inbound" and m.text is not None)
    for message, text in zip(sent, texts, strict=False):
        message.text = text


async def add_conversations(request: Request) -> Response:
    """Body: {"kind": "message"|"voice", "channel", "attachments": [kinds], "texts": [...] or
    a count, "count", "emit", "start": "now"}; a field it cannot use answers 400 (an
    ErrorBody naming it)."""
    state = org(request)
    builder: ScenarioBuilder | None = request.app.state.builder
    if builder is None:
        error = errors.ApiError(409, "conflict", "this emulator has no scenario builder")
        return errors.error_response(error)
    body = await _json_body(request)
    kind = body.get("kind", "message")
    try:
        if kind not in ("message", "voice"):
            raise _BadField("kind", f"unknown kind {kind!r}; message or voice")
        count = _count(body.get("count", 1))
        if kind == "message":
            channel = _channel(body.get("channel", "whatsapp"))
            kinds = _attachment_kinds(body.get("attachments", ["ogg_opus"]))
            texts = _texts(body.get("texts", 1))
    except _BadField as bad:
        return _bad_request(bad.field, bad.message)
    # "start": "now" starts them now (a gap backfill's interval must hold them), else at the
    # scenario's anchor
    start = datetime.now(UTC) if body.get("start") == "now" else builder.anchor
    created = []
    for _ in range(count):
        if kind == "voice":
            created.append(builder.voice_conversation(start, body.get("fileState", "AVAILABLE")))
        else:
            conversation = builder.messaging_conversation(
                channel,
                start,
                kinds=kinds,
                texts=len(texts) if isinstance(texts, list) else texts,
            )
            if isinstance(texts, list):
                _send_texts(conversation, texts)
            created.append(conversation)
    if body.get("emit", True):
        from genesys_emulator.events import emit_for_conversations

        await emit_for_conversations(state, created)
    return JSONResponse([conversation_summary(state, c) for c in created], status_code=201)


async def set_recording_state(request: Request) -> Response:
    state = org(request)
    conversation = state.conversation(request.path_params["conversationId"])
    body = await _json_body(request)
    for recording in conversation.recordings if conversation else []:
        if recording.id == request.path_params["recordingId"]:
            recording.file_state = str(body.get("fileState", recording.file_state))
            return JSONResponse({"id": recording.id, "fileState": recording.file_state})
    return JSONResponse({"error": "no such recording"}, status_code=404)


async def list_events(request: Request) -> Response:
    state = org(request)
    with state.lock:
        return JSONResponse(list(state.events))


async def get_stats(request: Request) -> Response:
    return JSONResponse(stats_body(org(request)))


async def put_rate_limit(request: Request) -> Response:
    state = org(request)
    body = await _json_body(request)
    downloads = body.get("countDownloads")
    state.limiter.configure(
        int(body.get("requests", 300)),
        float(body.get("windowS", 60.0)),
        count_downloads=None if downloads is None else bool(downloads),
    )
    return JSONResponse(
        {
            "requests": state.limiter.limit,
            "windowS": state.limiter.window_s,
            "countDownloads": state.limiter.count_downloads,
        }
    )


async def drop_sockets(request: Request) -> Response:
    """Body {"channelId"?}: close the channel's socket (every socket without one) abruptly."""
    body = await _json_body(request)
    dropped = org(request).notifications.drop(body.get("channelId"))
    return JSONResponse({"dropped": dropped})


async def announce_socket_closing(request: Request) -> Response:
    """Body {"channelId"?}: send ``v2.system.socket_closing`` (the socket then stays open
    until the client goes, or is dropped with /__emulator__/notifications/drop)."""
    body = await _json_body(request)
    announced = org(request).notifications.drop(body.get("channelId"), announce=True)
    return JSONResponse({"announced": announced})


async def notifications_summary(request: Request) -> Response:
    return JSONResponse(org(request).notifications.summary())


async def get_urls(request: Request) -> Response:
    return JSONResponse(org(request).public_urls)


routes = [
    Route("/__emulator__/faults", get_faults, methods=["GET"]),
    Route("/__emulator__/faults", put_faults, methods=["PUT"]),
    Route("/__emulator__/ratelimit", put_rate_limit, methods=["PUT"]),
    Route("/__emulator__/expire-links", expire_links, methods=["POST"]),
    Route("/__emulator__/expire-tokens", expire_tokens, methods=["POST"]),
    Route("/__emulator__/conversations", list_conversations, methods=["GET"]),
    Route("/__emulator__/conversations", add_conversations, methods=["POST"]),
    Route(
        "/__emulator__/recordings/{conversationId}/{recordingId}",
        set_recording_state,
        methods=["PUT"],
    ),
    Route("/__emulator__/events", list_events, methods=["GET"]),
    Route("/__emulator__/stats", get_stats, methods=["GET"]),
    Route("/__emulator__/urls", get_urls, methods=["GET"]),
    Route("/__emulator__/notifications", notifications_summary, methods=["GET"]),
    Route("/__emulator__/notifications/drop", drop_sockets, methods=["POST"]),
    Route("/__emulator__/notifications/socket-closing", announce_socket_closing, methods=["POST"]),
]
