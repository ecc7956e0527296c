"""The Notifications API calls the source makes, through the one ``GenesysClient``.

Paths and models from sdk-reference.json: ``Channel {id, connectUri, expires}``,
``ChannelTopicEntityListing``, ``AvailableTopicEntityListing``; queues from
``GET /api/v2/routing/queues`` (``routing:queue:view``, reported). Each call is one Platform
API request, paced and counted like every other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from media_bridge.errors import MalformedAnswer
from media_bridge.genesys import GenesysClient
from media_bridge.values import parse_time

CHANNELS = "/api/v2/notifications/channels"
QUEUES = "/api/v2/routing/queues"
#: queues per page (the listing's page size; assumed to be accepted up to 500)
QUEUE_PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class Channel:
    id: str
    connect_uri: str
    expires: datetime | None


def _channel(body: Any) -> Channel:
    if not isinstance(body, dict):
        raise MalformedAnswer("notifications channel: expected a JSON object")
    channel_id, uri = body.get("id"), body.get("connectUri")
    if not isinstance(channel_id, str) or not channel_id or not isinstance(uri, str) or not uri:
        raise MalformedAnswer("notifications channel: no id or connectUri in the answer")
    return Channel(channel_id, uri, parse_time(body.get("expires")))


async def create_channel(client: GenesysClient) -> Channel:
    body = await client.request_json("POST", CHANNELS, what="create notifications channel")
    return _channel(body)


async def channel_expiry(client: GenesysClient, channel_id: str) -> datetime | None:
    """The channel's ``expires`` as the channel listing shows it (None: not listed)."""
    body = await client.request_json("GET", CHANNELS, what="list notifications channels")
    for item in (body or {}).get("entities") or [] if isinstance(body, dict) else []:
        if isinstance(item, dict) and item.get("id") == channel_id:
            return parse_time(item.get("expires"))
    return None


async def set_topics(
    client: GenesysClient, channel_id: str, topics: list[str], *, replace: bool = True
) -> list[str]:
    """PUT (replace) or POST (add) the topics; returns the ids the answer says are
    subscribed (``state`` Permitted, or no state at all)."""
    body = await client.request_json(
        "PUT" if replace else "POST",
        f"{CHANNELS}/{quote(channel_id, safe='')}/subscriptions",
        json_body=[{"id": t} for t in topics],
        what="subscribe notifications topics",
    )
    entities = body.get("entities") if isinstance(body, dict) else None
    return [
        str(e["id"])
        for e in entities or []
        if isinstance(e, dict)
        and isinstance(e.get("id"), str)
        and e.get("state", "Permitted") == "Permitted"
    ]


async def queue_ids(client: GenesysClient) -> list[str]:
    """Every queue the client can see, over all pages."""
    found: list[str] = []
    page = 1
    while True:
        body = await client.request_json(
            "GET",
            QUEUES,
            params={"pageSize": str(QUEUE_PAGE_SIZE), "pageNumber": str(page)},
            what="list routing queues",
        )
        if not isinstance(body, dict):
            raise MalformedAnswer("list routing queues: expected a JSON object")
        entities = [e for e in body.get("entities") or [] if isinstance(e, dict)]
        found.extend(str(e["id"]) for e in entities if isinstance(e.get("id"), str))
        count = body.get("pageCount")
        if not entities or (isinstance(count, int) and page >= count) or "nextUri" not in body:
            return found
        page += 1


async def websocket_topics(client: GenesysClient) -> set[str]:
    """Topic patterns ``availabletopics`` says the WebSocket carries."""
    body = await client.request_json(
        "GET",
        "/api/v2/notifications/availabletopics",
        params={"expand": "transports"},
        what="list available notification topics",
    )
    entities = body.get("entities") if isinstance(body, dict) else None
    return {
        str(e["id"])
        for e in entities or []
        if isinstance(e, dict)
        and isinstance(e.get("id"), str)
        and "websocket" in {str(t).lower() for t in e.get("transports") or []}
    }


def seconds_until(moment: datetime | None, now: datetime | None = None) -> float | None:
    if moment is None:
        return None
    return (moment - (now or datetime.now(UTC))).total_seconds()
