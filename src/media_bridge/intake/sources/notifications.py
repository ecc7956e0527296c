"""The Notifications API source (``run --source notifications``), for orgs without EventBridge.

- Topics: ``v2.routing.queues.{id}.conversations.messages`` for ``notifications.queue_ids``
  or, when none are set, every queue ``GET /api/v2/routing/queues`` lists; split over
  channels of ``topics_per_channel`` (1,000), at most ``max_channels`` (20). Each
  conversation first seen also gets its own topics (``v2.conversations.{id}.transcription``,
  and the detail topics ``availabletopics`` offers over the WebSocket), dropped when it
  ends or after ``conversation_topic_ttl_s``; topic changes are sent together, one PUT per
  channel every ``SUBSCRIBE_EVERY_S``.
- One WebSocket per channel; heartbeats (``channel.metadata``) are counted, not passed on;
  frames go to intake as they are (the parser takes bare notification frames). A close,
  ``v2.system.socket_closing``, a silence longer than ``silence_timeout_s`` or an error
  reopens the socket (with backoff, but at once after ``socket_closing``, whose socket is
  read on until the server closes it, at most ``DRAIN_S``); a channel that
  is gone (404 on subscribe, a refused handshake) is created again.
- A channel is re-subscribed ``renew_before_s`` before its ``expires`` (which renews it).
- **No durability**: every interval without a socket (start, reconnect, renewal) is
  backfilled through the analytics query (``notifications.gaps``), as is the last
  ``sweep_interval_s`` periodically (calls show on no subscribed topic); a failed backfill
  is kept and tried again. The ledger drops keys it holds, so nothing is delivered twice.
- ``ack`` does nothing: there is nothing to acknowledge to.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from media_bridge import metrics
from media_bridge.config import Settings
from media_bridge.errors import (
    BridgeError,
    CredentialsRejected,
    NotFound,
    PermissionMissing,
    StartupError,
)
from media_bridge.genesys import GenesysClient
from media_bridge.intake.sources.base import RawEvent
from media_bridge.ledger.base import Ledger
from media_bridge.notifications import api
from media_bridge.notifications.frames import QUEUE_TOPIC, classify, conversation_topics
from media_bridge.notifications.frames import split_topics as split
from media_bridge.notifications.gaps import backfill_gap
from media_bridge.notifications.links import (
    Link,
    Watched,
    open_channel,
    renew_due,
    send_topic_changes,
    utc_now,
)
from media_bridge.observability import get_logger

log = get_logger(__name__)

#: how often pending topic changes are sent (one PUT per changed channel)
SUBSCRIBE_EVERY_S = 2.0
#: events read but not yet taken by intake (a full buffer stops reading the socket)
BUFFER = 1000
BATCH = 200
#: how long a socket that announced ``v2.system.socket_closing`` is still read
DRAIN_S = 30.0


class NotificationsSource:
    """``Source`` over Notifications channels; ``bind`` it to a running ``Bridge`` first
    (it calls the API and plans gap backfills into the ledger)."""

    name = "notifications"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._cfg = settings.notifications
        self._genesys: GenesysClient | None = None
        self._ledger: Ledger | None = None
        self._wake: Callable[[], None] = lambda: None
        self._buffer: asyncio.Queue[RawEvent] = asyncio.Queue(maxsize=BUFFER)
        self._links: list[Link] = []
        self._initial = 0
        self._watched: dict[str, Watched] = {}
        self._ws_patterns: set[str] = set()
        self._gaps: list[tuple[datetime, datetime, str]] = []
        self._closed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        #: sockets that announced their close, read on while their successor opens
        self._drains: set[asyncio.Task[None]] = set()
        self._frames = 0
        self._started_at = utc_now()
        self._start_gap_done = self._cfg.start_backfill_s == 0
        self._last_sweep = self._started_at

    # --- wiring ---------------------------------------------------------------------------
    def bind(self, bridge: Any) -> None:
        """Take the bridge's Genesys client, ledger and worker (its ``SourcePump`` calls this)."""
        self._genesys = bridge.genesys
        self._ledger = bridge.ledger
        if bridge.worker is not None:
            self._wake = bridge.worker.wake

    @property
    def channels(self) -> list[str]:
        """The channel ids in use (tests, logs)."""
        return [link.channel.id for link in self._links if link.channel is not None]

    @property
    def genesys(self) -> GenesysClient:
        if self._genesys is None:
            raise RuntimeError("NotificationsSource.bind(bridge) was not called")
        return self._genesys

    # --- the Source protocol -----------------------------------------------------------
    async def batches(self) -> AsyncIterator[list[RawEvent]]:
        await self._start()
        while not self._closed.is_set():
            try:
                first = await asyncio.wait_for(self._buffer.get(), timeout=0.5)
            except TimeoutError:
                self._raise_failed()
                continue
            batch = [first]
            while len(batch) < BATCH and not self._buffer.empty():
                batch.append(self._buffer.get_nowait())
            yield batch

    async def ack(self, events: list[RawEvent]) -> None:
        return None

    async def close(self) -> None:
        self._closed.set()
        tasks = [
            *self._tasks,
            *self._drains,
            *(link.task for link in self._links if link.task is not None),
        ]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _raise_failed(self) -> None:
        for task in self._tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise RuntimeError("the notifications source failed") from task.exception()

    # --- start --------------------------------------------------------------------------
    async def _start(self) -> None:
        try:
            queues = list(self._cfg.queue_ids) or await api.queue_ids(self.genesys)
        except CredentialsRejected as exc:  # not the role: no permission hint
            raise StartupError(f"run --source notifications: {exc}") from exc
        except PermissionMissing as exc:
            raise StartupError(
                "run --source notifications: notifications.queue_ids is empty and listing "
                f"the queues was refused ({exc}): add routing:queue:view to the OAuth "
                "client's role or set MEDIA_BRIDGE_NOTIFICATIONS__QUEUE_IDS"
            ) from exc
        if not queues:
            log.warning("notifications.no_queues", hint="no queue topic is subscribed")
        topics = [QUEUE_TOPIC.replace("{id}", q) for q in dict.fromkeys(queues)]
        if self._cfg.conversation_topics:
            try:
                self._ws_patterns = await api.websocket_topics(self.genesys)
            except BridgeError as exc:  # transcription topics only: say so
                log.warning("notifications.available_topics_unread", error=str(exc)[:300])
        groups, left = split(topics, self._cfg.topics_per_channel, self._cfg.max_channels)
        if left:
            metrics.NOTIFICATION_TOPICS.labels(action="unplaced").inc(len(left))
            log.warning(
                "notifications.topics_unplaced",
                topics=len(left),
                per_channel=self._cfg.topics_per_channel,
                max_channels=self._cfg.max_channels,
            )
        for group in groups:
            self._add_link(group)
        self._initial = len(self._links)
        log.info(
            "notifications.start",
            queues=len(queues),
            channels=len(self._links),
            topics=len(topics),
            conversation_topics=self._cfg.conversation_topics,
        )
        self._tasks.append(asyncio.create_task(self._maintain(), name="notifications-maintain"))

    def _add_link(self, base: list[str]) -> Link:
        link = Link(len(self._links), list(base))
        self._links.append(link)
        link.task = asyncio.create_task(self._run_link(link), name=f"notifications-{link.index}")
        return link

    # --- one channel --------------------------------------------------------------------
    async def _run_link(self, link: Link) -> None:
        backoff = self._cfg.reconnect_initial_s
        gap_from: datetime | None = None
        gap_reason = "reconnect"
        while not self._closed.is_set():
            cause = "closed"
            try:
                channel = link.channel or await open_channel(self.genesys, link)
                ws = await self.genesys.session.ws_connect(
                    channel.connect_uri, autoping=True, heartbeat=None
                )
                try:
                    link.connected = link.ever_connected = True
                    link.last_frame = utc_now()
                    link.reopen.clear()
                    if gap_from is not None:
                        self._gap(gap_from, utc_now(), gap_reason)
                        gap_from = None
                    backoff = self._cfg.reconnect_initial_s
                    cause = await self._read(link, ws)
                finally:
                    if cause == "socket_closing" and not self._closed.is_set():
                        # the old socket is read on until the server closes it, while the
                        # new one opens: frames sent to it meanwhile are not lost
                        drain = asyncio.create_task(self._drain(link, ws))
                        self._drains.add(drain)
                        drain.add_done_callback(self._drains.discard)
                    else:
                        await ws.close()
            except aiohttp.WSServerHandshakeError as exc:
                cause = "channel_gone" if exc.status in (403, 404, 410) else "error"
                link.channel = None if cause == "channel_gone" else link.channel
            except NotFound:
                cause, link.channel = "channel_gone", None
            except (BridgeError, aiohttp.ClientError, OSError, TimeoutError) as exc:
                cause = "error"
                log.warning("notifications.socket_error", error=str(exc)[:300])
            finally:
                link.connected = False
            if self._closed.is_set():
                return
            if link.ever_connected and gap_from is None:
                gap_from = link.last_frame or utc_now()
                gap_reason = "renewal" if cause == "renewal" else "reconnect"
            metrics.NOTIFICATION_RECONNECTS.labels(cause=cause).inc()
            log.info(
                "notifications.reconnect",
                channel=link.channel.id if link.channel else None,
                cause=cause,
                wait_s=0 if cause == "socket_closing" else round(backoff, 3),
            )
            if cause != "socket_closing":
                await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
                backoff = min(backoff * 2, self._cfg.reconnect_max_s)

    async def _read(self, link: Link, ws: aiohttp.ClientWebSocketResponse) -> str:
        """Read frames until the socket ends; returns why."""
        reopen = asyncio.ensure_future(link.reopen.wait())
        try:
            while True:
                receive = asyncio.ensure_future(ws.receive())
                done, _ = await asyncio.wait(
                    {receive, reopen},
                    timeout=self._cfg.silence_timeout_s,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if receive not in done:
                    receive.cancel()
                    return "renewal" if reopen in done else "silence"
                message = receive.result()
                if message.type != aiohttp.WSMsgType.TEXT:
                    return "closed"
                link.last_frame = utc_now()
                if await self._handle(link, message.data) == "socket_closing":
                    return "socket_closing"
        finally:
            reopen.cancel()

    async def _handle(self, link: Link, data: str) -> str:
        """One text frame: an event goes to intake (and may subscribe its conversation's
        topics); control frames are only counted. Returns the frame's kind."""
        frame = classify(data)
        metrics.NOTIFICATION_FRAMES.labels(kind=frame.kind).inc()
        if frame.kind != "event":
            return frame.kind
        self._frames += 1
        channel = link.channel.id if link.channel else "-"
        raw = data.encode("utf-8")
        await self._buffer.put(RawEvent(raw, f"notifications:{channel}:{self._frames}"))
        if frame.conversation_id and self._cfg.conversation_topics:
            self._note(frame.conversation_id, frame.ended, frame.topic)
        return frame.kind

    async def _drain(self, link: Link, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Read an announced-closing socket until it closes (at most ``DRAIN_S``)."""
        deadline = time.monotonic() + DRAIN_S
        try:
            while (left := deadline - time.monotonic()) > 0:
                message = await ws.receive(timeout=left)
                if message.type != aiohttp.WSMsgType.TEXT:
                    return
                await self._handle(link, message.data)
        except (TimeoutError, aiohttp.ClientError, OSError):
            return
        finally:
            with contextlib.suppress(Exception):
                await ws.close()

    # --- conversation topics ---------------------------------------------------------------
    def _note(self, conversation_id: str, ended: bool, topic: str | None) -> None:
        watched = self._watched.get(conversation_id)
        if ended:
            if watched is not None:
                self._unwatch(conversation_id)
            return
        if watched is not None:
            watched.last_seen = time.monotonic()
            return
        topics = [t for t in conversation_topics(conversation_id, self._ws_patterns) if t != topic]
        link = next(
            (lk for lk in self._links if lk.room(self._cfg.topics_per_channel) >= len(topics)),
            None,
        )
        if link is None and len(self._links) < self._cfg.max_channels:
            link = self._add_link([])
        if link is None:
            metrics.NOTIFICATION_TOPICS.labels(action="unplaced").inc(len(topics))
            log.warning("notifications.conversation_topics_unplaced", conversation=conversation_id)
            return
        link.extra.update(topics)
        link.dirty = True
        self._watched[conversation_id] = Watched(link, topics, time.monotonic())
        metrics.NOTIFICATION_TOPICS.labels(action="subscribed").inc(len(topics))

    def _unwatch(self, conversation_id: str) -> None:
        watched = self._watched.pop(conversation_id)
        watched.link.extra.difference_update(watched.topics)
        watched.link.dirty = True
        metrics.NOTIFICATION_TOPICS.labels(action="dropped").inc(len(watched.topics))

    # --- housekeeping -----------------------------------------------------------------
    def _gap(self, since: datetime, until: datetime, reason: str) -> None:
        margin = timedelta(seconds=self._cfg.gap_margin_s)
        metrics.NOTIFICATION_GAPS.labels(reason=reason).inc()
        log.info(
            "notifications.gap",
            reason=reason,
            since=since.isoformat(),
            until=until.isoformat(),
            seconds=round((until - since).total_seconds(), 3),
        )
        self._gaps.append((since - margin, until, reason))

    async def _maintain(self) -> None:
        """Topic changes, renewals, conversation TTLs, the start gap, sweeps, gap backfills."""
        next_subscribe = 0.0
        gap_retry_at = 0.0
        gap_backoff = self._cfg.reconnect_initial_s
        while not self._closed.is_set():
            await asyncio.sleep(0.2)
            now = time.monotonic()
            initial = self._links[: self._initial]
            if not self._start_gap_done and all(lk.ever_connected for lk in initial):
                self._start_gap_done = True
                since = self._started_at - timedelta(seconds=self._cfg.start_backfill_s)
                self._gap(since + timedelta(seconds=self._cfg.gap_margin_s), utc_now(), "start")
            sweep = self._cfg.sweep_interval_s
            if sweep and (utc_now() - self._last_sweep).total_seconds() >= sweep:
                until = utc_now()
                self._gaps.append(
                    (self._last_sweep - timedelta(seconds=self._cfg.gap_margin_s), until, "sweep")
                )
                self._last_sweep = until
            ttl = self._cfg.conversation_topic_ttl_s
            for conversation_id, watched in list(self._watched.items()):
                if now - watched.last_seen > ttl:
                    self._unwatch(conversation_id)
            if now >= next_subscribe:
                next_subscribe = now + SUBSCRIBE_EVERY_S
                await send_topic_changes(self.genesys, self._links)
            await renew_due(self.genesys, self._links, self._cfg.renew_before_s)
            if self._gaps and now >= gap_retry_at and self._ledger is not None:
                since, until, reason = self._gaps[0]
                try:
                    await backfill_gap(
                        self.genesys, self._ledger, self._settings, since, until, reason
                    )
                except Exception:
                    gap_retry_at = now + gap_backoff
                    gap_backoff = min(gap_backoff * 2, self._cfg.reconnect_max_s)
                    continue
                self._gaps.pop(0)
                gap_backoff = self._cfg.reconnect_initial_s
                self._wake()
