"""``NotificationsSettings`` (``MEDIA_BRIDGE_NOTIFICATIONS__*``): ``run --source notifications``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class NotificationsSettings(BaseModel):
    """Genesys' limits are the defaults (GENESYS.md section 7); lower them only to test."""

    #: queue ids whose ``v2.routing.queues.{id}.conversations.messages`` topic is subscribed;
    #: empty: every queue ``GET /api/v2/routing/queues`` lists (needs ``routing:queue:view``)
    queue_ids: list[str] = Field(default_factory=list)
    #: topics per channel (Genesys allows 1,000 and answers 400 beyond)
    topics_per_channel: int = Field(default=1000, ge=1, le=1000)
    #: channels this client may hold (Genesys allows 20 per user and application; a 21st
    #: replaces the oldest); more topics than fit are not subscribed, logged and counted
    max_channels: int = Field(default=20, ge=1, le=20)
    #: subscribe ``v2.conversations.{id}.transcription`` (and the detail topics
    #: ``availabletopics`` offers over the WebSocket) for each conversation first seen,
    #: dropped when it ends or after ``conversation_topic_ttl_s``
    conversation_topics: bool = True
    #: a conversation's own topics are dropped this long after its last event even when
    #: its end was never seen
    conversation_topic_ttl_s: float = Field(default=4 * 3600.0, gt=0.0)
    #: re-subscribe a channel (which renews it) this long before its ``expires``
    renew_before_s: float = Field(default=3600.0, ge=0.0)
    #: first wait before reconnecting a closed socket (doubles, with jitter)
    reconnect_initial_s: float = Field(default=1.0, gt=0.0)
    #: longest wait between reconnect attempts
    reconnect_max_s: float = Field(default=60.0, gt=0.0)
    #: no frame at all (heartbeats included; Genesys sends one every 30 s, reported) for
    #: this long: the socket is taken as dead and reopened
    silence_timeout_s: float = Field(default=95.0, gt=0.0)
    #: a gap backfill starts this long before the socket was last known to be open (clock
    #: skew; conversations that started just before the gap)
    gap_margin_s: float = Field(default=120.0, ge=0.0)
    #: at start the gap is unknown: backfill this far back (0 = no start backfill)
    start_backfill_s: float = Field(default=3600.0, ge=0.0)
    #: which conversations a gap backfill looks for (analytics ``mediaType``)
    gap_media: Literal["all", "message", "voice"] = "all"
    #: also backfill the last interval every this many seconds (0 = only after gaps):
    #: calls show on no subscribed topic, so their recordings come from backfills
    sweep_interval_s: float = Field(default=900.0, ge=0.0)
