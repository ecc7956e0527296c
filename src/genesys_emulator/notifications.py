"""The Notifications API's state: channels, their topics, and the one socket each may have.

What Genesys documents (GENESYS.md section 7): a channel lives ``notification_channel_
lifetime_s`` (24 h) unless re-subscribed; at most ``notification_max_channels`` (20) per
OAuth client, a 21st replaces the oldest (unconnected ones first); at most
``notification_max_topics`` (1,000) per channel; one WebSocket per channel; **no
durability**: an event whose channel has no socket connected is lost (counted here).

Frames are the bare notification shape ``{"topicName", "version", "eventBody",
"metadata"}``: the emitted EventBridge envelopes minus the envelope.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from genesys_emulator.config import EmulatorConfig

HEARTBEAT_TOPIC = "channel.metadata"
SOCKET_CLOSING_TOPIC = "v2.system.socket_closing"


def heartbeat_frame() -> dict[str, Any]:
    """As several independent clients report it (GENESYS.md section 7)."""
    return {"topicName": HEARTBEAT_TOPIC, "eventBody": {"message": "WebSocket Heartbeat"}}


def socket_closing_frame() -> dict[str, Any]:
    """Reported, body assumed: the topic is what clients act on."""
    return {
        "topicName": SOCKET_CLOSING_TOPIC,
        "eventBody": {"message": "Socket closing"},
        "metadata": {},
    }


def bare_frame(event: dict[str, Any]) -> dict[str, Any] | None:
    """An emitted EventBridge envelope as the WebSocket carries it (no envelope)."""
    detail = event.get("detail")
    if not isinstance(detail, dict) or not isinstance(detail.get("topicName"), str):
        return None
    return {
        "topicName": detail["topicName"],
        "version": detail.get("version", "2"),
        "eventBody": detail.get("eventBody"),
        "metadata": detail.get("metadata") or {},
    }


class ChannelSocket:
    """The connected socket of one channel: frames queued for its sender, thread-safe."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        #: a frame to send, or None: close the socket now (a drop)
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.closed = False

    def put(self, frame: dict[str, Any] | None) -> None:
        if not self.closed:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, frame)


@dataclass
class NotificationChannel:
    id: str
    client_id: str
    created_at: float
    expires_at: float
    last_used: float
    topics: list[str] = field(default_factory=list)
    socket: ChannelSocket | None = None


class NotificationHub:
    """Every channel of the org; routes published events by exact topic name."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.channels: dict[str, NotificationChannel] = {}
        #: delivered / lost (no socket) / expired_channels / replaced_channels / drops
        self.counts: Counter[str] = Counter()

    # --- channels ------------------------------------------------------------------------
    def create(self, client_id: str) -> NotificationChannel:
        now = time.time()
        lifetime = self.config.notification_channel_lifetime_s
        channel = NotificationChannel(
            "streaming-" + secrets.token_hex(12), client_id, now, now + lifetime, now
        )
        with self.lock:
            self._expire_locked(now)
            mine = [c for c in self.channels.values() if c.client_id == client_id]
            if len(mine) >= self.config.notification_max_channels:
                # the oldest last used, unconnected ones first (SDK: post_notifications_channels)
                victim = min(mine, key=lambda c: (c.socket is not None, c.last_used))
                self._remove_locked(victim)
                self.counts["replaced_channels"] += 1
            self.channels[channel.id] = channel
        return channel

    def get(self, channel_id: str, client_id: str) -> NotificationChannel | None:
        """The client's live channel (another client's, or an expired one, is not found)."""
        with self.lock:
            self._expire_locked(time.time())
            channel = self.channels.get(channel_id)
            return channel if channel is not None and channel.client_id == client_id else None

    def of_client(self, client_id: str) -> list[NotificationChannel]:
        with self.lock:
            self._expire_locked(time.time())
            return [c for c in self.channels.values() if c.client_id == client_id]

    def subscribe(self, channel: NotificationChannel, topics: list[str], *, replace: bool) -> None:
        """Replace (PUT) or extend (POST) the topics; a subscription renews the channel."""
        now = time.time()
        with self.lock:
            kept = [] if replace else list(channel.topics)
            seen = set(kept)
            for topic in topics:
                if topic not in seen:
                    kept.append(topic)
                    seen.add(topic)
            channel.topics = kept
            channel.last_used = now
            channel.expires_at = now + self.config.notification_channel_lifetime_s

    def would_hold(self, channel: NotificationChannel, topics: list[str], replace: bool) -> int:
        with self.lock:
            return len(set(topics) | (set() if replace else set(channel.topics)))

    def _remove_locked(self, channel: NotificationChannel) -> None:
        self.channels.pop(channel.id, None)
        if channel.socket is not None:
            channel.socket.put(socket_closing_frame())
            channel.socket.put(None)

    def _expire_locked(self, now: float) -> None:
        for channel in [c for c in self.channels.values() if c.expires_at <= now]:
            self._remove_locked(channel)
            self.counts["expired_channels"] += 1

    def expire_due(self) -> None:
        with self.lock:
            self._expire_locked(time.time())

    # --- sockets -------------------------------------------------------------------------
    def attach(self, channel_id: str, loop: asyncio.AbstractEventLoop) -> ChannelSocket | None:
        """A new socket for the channel (None: no such live channel). One per channel: a
        second connection replaces the first (assumed; the blog says one per channel)."""
        with self.lock:
            self._expire_locked(time.time())
            channel = self.channels.get(channel_id)
            if channel is None:
                return None
            if channel.socket is not None:
                channel.socket.put(None)
            channel.socket = ChannelSocket(loop)
            channel.last_used = time.time()
            return channel.socket

    def detach(self, channel_id: str, socket: ChannelSocket) -> None:
        with self.lock:
            socket.closed = True
            channel = self.channels.get(channel_id)
            if channel is not None and channel.socket is socket:
                channel.socket = None

    def drop(self, channel_id: str | None = None, *, announce: bool = False) -> int:
        """Close sockets (one channel's or all) abruptly, or after ``v2.system.socket_closing``."""
        with self.lock:
            sockets = [
                c.socket
                for c in self.channels.values()
                if c.socket is not None and channel_id in (None, c.id)
            ]
            for socket in sockets:
                if announce:
                    socket.put(socket_closing_frame())
                else:
                    socket.put(None)
            self.counts["announced" if announce else "drops"] += len(sockets)
        return len(sockets)

    def publish(self, events: list[dict[str, Any]]) -> None:
        """Route each emitted event to every channel subscribed to its topic; with no socket
        connected the event is lost, as the real service loses it."""
        with self.lock:
            self._expire_locked(time.time())
            for event in events:
                frame = bare_frame(event)
                if frame is None:
                    continue
                for channel in self.channels.values():
                    if frame["topicName"] not in channel.topics:
                        continue
                    if channel.socket is None:
                        self.counts["lost"] += 1
                    else:
                        channel.socket.put(frame)
                        self.counts["delivered"] += 1

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {
                "channels": [
                    {
                        "id": c.id,
                        "clientId": c.client_id,
                        "topics": len(c.topics),
                        "connected": c.socket is not None,
                        "expiresInS": round(c.expires_at - time.time(), 3),
                    }
                    for c in self.channels.values()
                ],
                "counts": dict(self.counts),
            }
