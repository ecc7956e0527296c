"""The channels of the Notifications source and their upkeep through the API: opening a
channel, sending changed topic lists, renewing a channel before it expires. The source
(``intake/sources/notifications.py``) owns the sockets and calls these from its tasks."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from media_bridge.errors import BridgeError, NotFound
from media_bridge.genesys import GenesysClient
from media_bridge.notifications import api
from media_bridge.observability import get_logger

log = get_logger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Link:
    """One channel and the socket reading it."""

    index: int
    #: queue topics, fixed at start
    base: list[str]
    #: conversation topics placed on this channel
    extra: set[str] = field(default_factory=set)
    channel: api.Channel | None = None
    expires: datetime | None = None
    lifetime_s: float | None = None
    ever_connected: bool = False
    connected: bool = False
    last_frame: datetime | None = None
    dirty: bool = False
    #: set to make the reader give up its socket (renewal failed: the channel is gone)
    reopen: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    @property
    def topics(self) -> list[str]:
        return [*self.base, *sorted(self.extra)]

    def room(self, per_channel: int) -> int:
        return per_channel - len(self.base) - len(self.extra)


@dataclass
class Watched:
    """A conversation's own topics and the channel they were placed on."""

    link: Link
    topics: list[str]
    last_seen: float


async def open_channel(genesys: GenesysClient, link: Link) -> api.Channel:
    """A new channel for ``link``, subscribed to its topics."""
    channel = await api.create_channel(genesys)
    link.channel, link.expires = channel, channel.expires
    left = api.seconds_until(channel.expires)
    link.lifetime_s = left if left and left > 0 else None
    link.dirty = False
    await api.set_topics(genesys, channel.id, link.topics)
    log.info(
        "notifications.channel",
        channel=channel.id,
        topics=len(link.topics),
        expires=channel.expires.isoformat() if channel.expires else None,
    )
    return channel


async def send_topic_changes(genesys: GenesysClient, links: list[Link]) -> None:
    """One PUT per channel whose topics changed; a gone channel makes its reader reopen."""
    for link in links:
        if not link.dirty or link.channel is None:
            continue
        link.dirty = False
        try:
            await api.set_topics(genesys, link.channel.id, link.topics)
        except NotFound:
            link.channel = None
            link.reopen.set()
        except BridgeError as exc:
            link.dirty = True
            log.warning("notifications.subscribe_failed", error=str(exc)[:300])


async def renew_due(genesys: GenesysClient, links: list[Link], renew_before_s: float) -> None:
    """Re-subscribe every channel within ``renew_before_s`` of its expiry (which renews it)."""
    for link in links:
        channel = link.channel
        left = api.seconds_until(link.expires)
        if channel is None or left is None or left > renew_before_s:
            continue
        try:
            await api.set_topics(genesys, channel.id, link.topics)
            expires = await api.channel_expiry(genesys, channel.id)
        except NotFound:
            link.channel = None
            link.reopen.set()
            log.info("notifications.renewal_failed", channel=channel.id, reason="gone")
            continue
        except BridgeError as exc:
            # tried again in 30 s, not on every tick (the API budget)
            link.expires = utc_now() + timedelta(seconds=renew_before_s + 30.0)
            log.warning("notifications.renewal_failed", channel=channel.id, error=str(exc))
            continue
        if expires is None and link.lifetime_s:
            expires = utc_now() + timedelta(seconds=link.lifetime_s)
        link.expires = expires
        log.info(
            "notifications.renewed",
            channel=channel.id,
            expires=expires.isoformat() if expires else None,
        )
