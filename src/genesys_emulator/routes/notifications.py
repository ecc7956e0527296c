"""The Notifications API: channels, subscriptions, available topics, and the channel socket.

Paths and models from sdk-reference.json (``Channel``, ``ChannelTopicEntityListing``,
``AvailableTopicEntityListing``); limits from GENESYS.md section 7. The socket is served on
the api host at ``/channels/{channelId}`` (the real ``connectUri`` is on a streaming host).
"""

from __future__ import annotations

import asyncio
import contextlib
import json as jsonlib
import re
import time
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from genesys_emulator import errors, times
from genesys_emulator.config import OAuthClientConfig
from genesys_emulator.notifications import NotificationChannel, heartbeat_frame
from genesys_emulator.routes.common import api_endpoint, json
from genesys_emulator.state import OrgState

CHANNELS = "/api/v2/notifications/channels"
_ID = r"[A-Za-z0-9-]+"
#: topic pattern -> (description, offered over the WebSocket unless it is a detail topic)
TOPICS: dict[str, str] = {
    "v2.routing.queues.{id}.conversations.messages": "Messaging conversations of a queue",
    "v2.users.{id}.conversations.messages": "Messaging conversations of a user",
    "v2.conversations.{id}.transcription": "Real-time transcription of a call",
    "v2.detail.events.conversation.{id}.customer.start": "Analytics detail: customer start",
    "v2.detail.events.conversation.{id}.customer.end": "Analytics detail: customer end",
    "v2.detail.events.conversation.{id}.acd.end": "Analytics detail: ACD end",
    "v2.detail.events.conversation.{id}.acw": "Analytics detail: after-call work",
}
_PATTERNS = {
    pattern: re.compile("^" + re.escape(pattern).replace(r"\{id\}", _ID) + "$")
    for pattern in TOPICS
}


def _is_detail(pattern: str) -> bool:
    return pattern.startswith("v2.detail.")


def _transports(state: OrgState, pattern: str) -> list[str]:
    if _is_detail(pattern) and not state.config.notification_detail_topics_over_websocket:
        return ["EventBridge"]
    return ["Websocket", "EventBridge"]


def _channel_body(state: OrgState, channel: NotificationChannel) -> dict[str, Any]:
    api = state.public_urls.get("api", "")
    base = "ws" + api[len("http") :] if api.startswith("http") else api
    return {
        "id": channel.id,
        "connectUri": f"{base}/channels/{channel.id}",
        "expires": times.iso(datetime.fromtimestamp(channel.expires_at, UTC)),
    }


async def create_channel(request: Request, state: OrgState, client: OAuthClientConfig) -> Response:
    channel = state.notifications.create(client.client_id)
    return json(_channel_body(state, channel))


async def list_channels(request: Request, state: OrgState, client: OAuthClientConfig) -> Response:
    channels = state.notifications.of_client(client.client_id)
    return json({"entities": [_channel_body(state, c) for c in channels]})


def _topic_entity(state: OrgState, channel_id: str, topic: str) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "id": topic,
        "selfUri": f"{CHANNELS}/{channel_id}/subscriptions",
    }
    for pattern, regex in _PATTERNS.items():
        if regex.match(topic):
            if "Websocket" in _transports(state, pattern):
                entity["state"] = "Permitted"
            else:
                entity["state"] = "Rejected"
                entity["rejectionReason"] = "Topic is not available over this transport"
            return entity
    entity["state"] = "Rejected"
    entity["rejectionReason"] = "Unknown topic"
    return entity


def _owned(request: Request, state: OrgState, client: OAuthClientConfig) -> NotificationChannel:
    channel_id = request.path_params["channelId"]
    channel = state.notifications.get(channel_id, client.client_id)
    if channel is None:
        raise errors.not_found(channel_id)
    return channel


async def _topics_body(request: Request) -> list[str]:
    try:
        value = jsonlib.loads(await request.body() or b"null")
    except ValueError as exc:
        raise errors.bad_request("The request body is not valid JSON.", "invalid.json") from exc
    if not isinstance(value, list) or not all(
        isinstance(item, dict) and isinstance(item.get("id"), str) for item in value
    ):
        raise errors.bad_request("The request body must be a list of ChannelTopic objects.")
    return [str(item["id"]) for item in value]


async def _subscribe(
    request: Request, state: OrgState, client: OAuthClientConfig, *, replace: bool
) -> Response:
    channel = _owned(request, state, client)
    topics = await _topics_body(request)
    entities = [_topic_entity(state, channel.id, t) for t in topics]
    permitted = [e["id"] for e in entities if e["state"] == "Permitted"]
    limit = state.config.notification_max_topics
    if state.notifications.would_hold(channel, permitted, replace) > limit:
        raise errors.ApiError(
            400,
            "bad.request",
            f"Channel subscriptions are limited to {limit} topics.",
            message_params={"limit": str(limit)},
        )
    state.notifications.subscribe(channel, permitted, replace=replace)
    return json({"entities": [_topic_entity(state, channel.id, t) for t in channel.topics]})


async def put_subscriptions(
    request: Request, state: OrgState, client: OAuthClientConfig
) -> Response:
    return await _subscribe(request, state, client, replace=True)


async def post_subscriptions(
    request: Request, state: OrgState, client: OAuthClientConfig
) -> Response:
    return await _subscribe(request, state, client, replace=False)


async def get_subscriptions(
    request: Request, state: OrgState, client: OAuthClientConfig
) -> Response:
    channel = _owned(request, state, client)
    return json({"entities": [_topic_entity(state, channel.id, t) for t in channel.topics]})


async def available_topics(
    request: Request, state: OrgState, client: OAuthClientConfig
) -> Response:
    expand = {
        part.strip()
        for value in request.query_params.getlist("expand")
        for part in value.split(",")
    }
    entities = []
    for pattern, description in TOPICS.items():
        entity: dict[str, Any] = {
            "id": pattern,
            "description": description,
            "topicParameters": ["id"],
            "visibility": "Public",
        }
        if "transports" in expand:
            entity["transports"] = _transports(state, pattern)
        if "requiresPermissions" in expand:
            entity["requiresPermissions"] = []
        entities.append(entity)
    return json({"entities": entities})


async def channel_socket(websocket: WebSocket) -> None:
    """One channel's socket: frames routed to the channel, heartbeats, closing at expiry."""
    state: OrgState = websocket.app.state.org
    hub = state.notifications
    channel_id = websocket.path_params["channelId"]
    socket = hub.attach(channel_id, asyncio.get_running_loop())
    if socket is None:
        await websocket.close(code=1008)  # before accept: the handshake answers 403
        return
    await websocket.accept()
    every = max(0.05, state.config.notification_heartbeat_s)

    async def read_until_closed() -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            while True:
                await websocket.receive_text()  # clients may send pings ({"message":"ping"})

    reader = asyncio.create_task(read_until_closed())
    next_beat = time.monotonic() + every
    try:
        while not reader.done():
            with hub.lock:
                channel = hub.channels.get(channel_id)
                expires_in = channel.expires_at - time.time() if channel else 0.0
            wait = max(0.0, min(next_beat - time.monotonic(), expires_in, 0.5))
            getter = asyncio.ensure_future(socket.queue.get())
            done, _ = await asyncio.wait({getter, reader}, timeout=wait)
            if getter not in done:
                getter.cancel()
                if reader.done():
                    break
                if expires_in <= 0:
                    hub.expire_due()  # queues socket_closing, then the close
                elif time.monotonic() >= next_beat:
                    await websocket.send_text(jsonlib.dumps(heartbeat_frame()))
                    next_beat = time.monotonic() + every
                continue
            frame = getter.result()
            if frame is None:
                break
            await websocket.send_text(jsonlib.dumps(frame, separators=(",", ":")))
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        hub.detach(channel_id, socket)
        reader.cancel()
        with contextlib.suppress(Exception):
            await websocket.close(code=1001)


routes = [
    Route(CHANNELS, api_endpoint(create_channel), methods=["POST"]),
    Route(CHANNELS, api_endpoint(list_channels), methods=["GET"]),
    Route(
        f"{CHANNELS}/{{channelId}}/subscriptions", api_endpoint(put_subscriptions), methods=["PUT"]
    ),
    Route(
        f"{CHANNELS}/{{channelId}}/subscriptions",
        api_endpoint(post_subscriptions),
        methods=["POST"],
    ),
    Route(
        f"{CHANNELS}/{{channelId}}/subscriptions", api_endpoint(get_subscriptions), methods=["GET"]
    ),
    Route("/api/v2/notifications/availabletopics", api_endpoint(available_topics), methods=["GET"]),
]
socket_routes = [WebSocketRoute("/channels/{channelId}", channel_socket)]
