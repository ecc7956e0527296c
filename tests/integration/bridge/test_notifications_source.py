"""``run --source notifications`` against the emulator's Notifications API, over real sockets:
live delivery, the gap backfill after a forced drop, channel renewal, topics over channels,
``socket_closing``, heartbeats."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from genesys_emulator.config import (
    NO_MESSAGE_PERMS_CLIENT_ID,
    NO_MESSAGE_PERMS_CLIENT_SECRET,
    EmulatorConfig,
    ScenarioConfig,
)
from genesys_emulator.events import conversation_events
from genesys_emulator.testing import EmulatorHandle, running_emulator
from media_bridge import metrics
from media_bridge.app import Bridge
from media_bridge.config import Settings
from media_bridge.errors import StartupError
from media_bridge.intake.runner import SourcePump
from media_bridge.intake.sources.notifications import NotificationsSource
from media_bridge.runtime import run_pipeline
from tests.integration.bridge.harness import (
    bridge_settings,
    delivered_sidecars,
    expected_audio,
    nlp_records,
)

pytestmark = pytest.mark.integration


def _config(**changes: Any) -> EmulatorConfig:
    config = EmulatorConfig(
        scenario=ScenarioConfig(seed=5, messaging_conversations=0, voice_conversations=0)
    )
    for key, value in changes.items():
        setattr(config, key, value)
    return config


def _admin(emu: EmulatorHandle, path: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - the emulator on loopback
        f"{emu.api_url}/__emulator__/{path}",
        data=data,
        method="POST" if data is not None else "GET",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return json.loads(response.read() or b"null")


def _conversations(emu: EmulatorHandle, count: int = 1) -> list[dict[str, Any]]:
    """Messaging conversations started now (a voice note and a text each), emitted."""
    created: list[dict[str, Any]] = _admin(
        emu,
        "conversations",
        {
            "kind": "message",
            "attachments": ["ogg_opus"],
            "texts": 1,
            "count": count,
            "start": "now",
        },
    )
    return created


def _texts(emu: EmulatorHandle) -> dict[tuple[str, str], str]:
    return {
        (c.id, m.id): m.text
        for c in emu.conversations()
        for m in c.messages
        if m.direction == "inbound" and m.text
    }


def _settings(emu: EmulatorHandle, root: Path, **notifications: Any) -> Settings:
    values = {
        "start_backfill_s": 0.0,
        "sweep_interval_s": 0.0,
        "reconnect_initial_s": 0.05,
        "reconnect_max_s": 0.5,
        "gap_margin_s": 5.0,
        **notifications,
    }
    return bridge_settings(emu, root, notifications=values, operations={"port": 0})


async def _until(check: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def _connected(emu: EmulatorHandle) -> list[dict[str, Any]]:
    channels: list[dict[str, Any]] = emu.state.notifications.summary()["channels"]
    return [c for c in channels if c["connected"]]


@asynccontextmanager
async def _bridge(settings: Settings) -> AsyncIterator[tuple[Bridge, NotificationsSource]]:
    source = NotificationsSource(settings)
    async with Bridge(settings, worker_id="test") as bridge:
        task = asyncio.create_task(
            run_pipeline(bridge, [SourcePump(source)], progress_every_s=0.05)
        )
        try:
            yield bridge, source
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def _delivered(root: Path) -> tuple[set[str], list[tuple[str, str]]]:
    audio = {s["key"] for s in delivered_sidecars(root)}
    texts = [(r["conversation_id"], r["message_id"]) for r in nlp_records(root)]
    return audio, texts


def _all_delivered(emu: EmulatorHandle, root: Path) -> Callable[[], bool]:
    def check() -> bool:
        audio, texts = _delivered(root)
        return audio == set(expected_audio(emu)) and set(texts) == set(_texts(emu))

    return check


def _count(counter: Any, **labels: str) -> float:
    return metrics.counter_value(counter, **labels)


def test_run_source_notifications_delivers_voice_notes_and_texts(tmp_path: Path) -> None:
    """The command itself, as a process: live frames only (no start backfill), heartbeats
    every 0.1 s never reach intake (nothing rejected)."""
    with running_emulator(_config(notification_heartbeat_s=0.1)) as emu:
        env = {
            **os.environ,
            **emu.env(),
            "MEDIA_BRIDGE_LEDGER__URL": f"sqlite:///{tmp_path}/ledger.db",
            "MEDIA_BRIDGE_SINKS__DIR_PATH": str(tmp_path / "out"),
            "MEDIA_BRIDGE_SINKS__TEXT_PATH": str(tmp_path / "nlp.jsonl"),
            "MEDIA_BRIDGE_OPERATIONS__PORT": "0",
            "MEDIA_BRIDGE_AUDIO__WORKERS": "1",
            "MEDIA_BRIDGE_AUDIO__MIN_NET_SPEECH_S": "0.5",
            "MEDIA_BRIDGE_NOTIFICATIONS__START_BACKFILL_S": "0",
            "MEDIA_BRIDGE_NOTIFICATIONS__SWEEP_INTERVAL_S": "0",
        }
        bridge = subprocess.Popen(
            [sys.executable, "-m", "media_bridge", "run", "--source", "notifications"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 30
            while not _connected(emu):
                assert bridge.poll() is None, bridge.stderr.read() if bridge.stderr else ""
                assert time.monotonic() < deadline, "the bridge never connected"
                time.sleep(0.05)
            time.sleep(0.5)  # a few heartbeats
            _conversations(emu, 3)
            check = _all_delivered(emu, tmp_path)
            while not check():
                assert bridge.poll() is None
                assert time.monotonic() < deadline + 30, _delivered(tmp_path)
                time.sleep(0.1)
            counts = emu.state.notifications.summary()["counts"]
            assert counts["delivered"] == 3
            assert counts.get("lost", 0) == 0
            bridge.send_signal(signal.SIGTERM)
            assert bridge.wait(timeout=20) == 0
        finally:
            if bridge.poll() is None:
                bridge.kill()
        # heartbeats were not handed to intake: nothing was rejected
        import sqlite3

        with sqlite3.connect(tmp_path / "ledger.db") as db:
            tables = {r[0] for r in db.execute("select name from sqlite_master")}
            rejected = [t for t in tables if "reject" in t]
            assert rejected
            assert db.execute(f"select count(*) from {rejected[0]}").fetchone()[0] == 0  # noqa: S608
    _, texts = _delivered(tmp_path)
    assert len(texts) == len(set(texts)) == 3


async def test_a_dropped_socket_is_followed_by_a_gap_backfill_that_delivers_each_item_once(
    tmp_path: Path,
) -> None:
    with running_emulator(_config(notification_heartbeat_s=0.2)) as emu:
        settings = _settings(emu, tmp_path, reconnect_initial_s=3.0, reconnect_max_s=3.0)
        gaps_before = _count(metrics.NOTIFICATION_GAP_BACKFILLS, reason="reconnect", outcome="ok")
        async with _bridge(settings):
            await _until(lambda: bool(_connected(emu)), what="a connected socket")
            _conversations(emu, 1)  # live
            await _until(_all_delivered(emu, tmp_path), what="the live conversation")
            assert _admin(emu, "notifications/drop", {})["dropped"] == 1
            await _until(lambda: not _connected(emu), what="the drop")
            _conversations(emu, 2)  # raised during the gap: lost by the service
            lost = emu.state.notifications.summary()["counts"]["lost"]
            assert lost == 2
            await _until(_all_delivered(emu, tmp_path), what="the gap's conversations")
            await asyncio.sleep(1.0)  # anything delivered twice would show by now
        after = _count(metrics.NOTIFICATION_GAP_BACKFILLS, reason="reconnect", outcome="ok")
        assert after - gaps_before == 1
    audio, texts = _delivered(tmp_path)
    assert len(audio) == 3
    assert len(texts) == len(set(texts)) == 3  # the JSONL sink appends: a repeat would show


async def test_a_channel_is_renewed_before_it_expires(tmp_path: Path) -> None:
    with running_emulator(
        _config(notification_channel_lifetime_s=3.0, notification_heartbeat_s=0.5)
    ) as emu:
        settings = _settings(emu, tmp_path, renew_before_s=2.0)
        reconnects = _count(metrics.NOTIFICATION_RECONNECTS)
        async with _bridge(settings) as (_, source):
            await _until(lambda: bool(_connected(emu)), what="a connected socket")
            first = source.channels
            await asyncio.sleep(7.0)  # over two lifetimes
            assert source.channels == first
            assert [c["id"] for c in _connected(emu)] == first
            _conversations(emu, 1)
            await _until(_all_delivered(emu, tmp_path), what="delivery after renewals")
        counts = emu.state.notifications.summary()["counts"]
        assert counts.get("expired_channels", 0) == 0
        assert counts["delivered"] == 1
        assert _count(metrics.NOTIFICATION_RECONNECTS) == reconnects


async def test_1500_queue_topics_are_spread_over_two_channels(tmp_path: Path) -> None:
    with running_emulator(_config(extra_queues=1499)) as emu:
        async with _bridge(_settings(emu, tmp_path, conversation_topics=False)) as (_, source):
            await _until(lambda: len(_connected(emu)) == 2, what="two connected channels")
            await asyncio.sleep(0.3)
            assert len(source.channels) == 2
        topics = sorted(c["topics"] for c in emu.state.notifications.summary()["channels"])
        assert topics == [500, 1000]


async def test_socket_closing_makes_the_bridge_reconnect_at_once_and_heartbeats_are_ignored(
    tmp_path: Path,
) -> None:
    with running_emulator(_config(notification_heartbeat_s=0.1)) as emu:
        events = _count(metrics.EVENTS_IN)
        beats = _count(metrics.NOTIFICATION_FRAMES, kind="heartbeat")
        # a long backoff: only the announcement's immediate reconnect can pass in time
        settings = _settings(emu, tmp_path, reconnect_initial_s=30.0, reconnect_max_s=30.0)
        closing = _count(metrics.NOTIFICATION_RECONNECTS, cause="socket_closing")
        gaps = _count(metrics.NOTIFICATION_GAPS, reason="reconnect")
        async with _bridge(settings) as (_, source):
            await _until(lambda: bool(_connected(emu)), what="a connected socket")
            channel = source.channels
            assert _admin(emu, "notifications/socket-closing", {})["announced"] == 1
            await _until(
                lambda: _count(metrics.NOTIFICATION_RECONNECTS, cause="socket_closing") > closing,
                timeout=5.0,
                what="the reconnect",
            )
            # the new socket is open once its gap is recorded (before that, the emulator may
            # still route frames to the old socket, which nobody reads any more)
            await _until(
                lambda: _count(metrics.NOTIFICATION_GAPS, reason="reconnect") > gaps,
                timeout=5.0,
                what="a new socket",
            )
            assert source.channels == channel  # the same channel, a new socket
            _conversations(emu, 1)
            await _until(_all_delivered(emu, tmp_path), what="delivery after reconnecting")
        assert _count(metrics.NOTIFICATION_FRAMES, kind="heartbeat") - beats >= 3
        # intake saw the one event frame, no heartbeat and no socket_closing
        assert _count(metrics.EVENTS_IN) - events == 1


async def test_a_conversation_gets_its_own_topics_until_it_goes_quiet(tmp_path: Path) -> None:
    with running_emulator(_config()) as emu:
        settings = _settings(emu, tmp_path, conversation_topic_ttl_s=3.0)
        async with _bridge(settings):
            await _until(lambda: bool(_connected(emu)), what="a connected socket")
            (created,) = _conversations(emu, 1)
            topic = f"v2.conversations.{created['id']}.transcription"

            def subscribed() -> bool:
                with emu.state.notifications.lock:
                    channels = list(emu.state.notifications.channels.values())
                return any(topic in c.topics for c in channels)

            await _until(subscribed, what="the conversation's transcription topic")
            await _until(lambda: not subscribed(), timeout=15.0, what="the topic dropped")


async def test_without_queue_ids_or_routing_queue_view_the_bridge_stops_naming_both(
    tmp_path: Path,
) -> None:
    with running_emulator(_config()) as emu:
        genesys = {
            "client_id": NO_MESSAGE_PERMS_CLIENT_ID,
            "client_secret": NO_MESSAGE_PERMS_CLIENT_SECRET,
        }
        settings = bridge_settings(
            emu, tmp_path, genesys=genesys, notifications={"sweep_interval_s": 0.0}
        )
        async with Bridge(settings, worker_id="test") as bridge:
            with pytest.raises(StartupError) as refused:
                await asyncio.wait_for(
                    run_pipeline(bridge, [SourcePump(NotificationsSource(settings))]), 20
                )
    message = str(refused.value)
    assert "routing:queue:view" in message
    assert "MEDIA_BRIDGE_NOTIFICATIONS__QUEUE_IDS" in message


async def test_rejected_credentials_stop_the_bridge_naming_them_not_a_permission(
    tmp_path: Path,
) -> None:
    with running_emulator(_config()) as emu:
        settings = bridge_settings(
            emu,
            tmp_path,
            genesys={"client_secret": "wrong"},
            notifications={"sweep_interval_s": 0.0},
        )
        async with Bridge(settings, worker_id="test") as bridge:
            with pytest.raises(StartupError) as refused:
                await asyncio.wait_for(
                    run_pipeline(bridge, [SourcePump(NotificationsSource(settings))]), 20
                )
    message = str(refused.value)
    assert "client_secret" in message
    assert "routing:queue:view" not in message  # before: a missing-permission hint


async def test_frames_sent_after_socket_closing_are_still_read(tmp_path: Path) -> None:
    """The announced socket is read on until the server closes it: frames queued behind the
    announcement arrive (no gap backfill could find them: margin 0, the conversation
    started before)."""
    with running_emulator(_config(notification_heartbeat_s=0.2)) as emu:
        async with _bridge(_settings(emu, tmp_path, gap_margin_s=0.0)):
            await _until(lambda: bool(_connected(emu)), what="a connected socket")
            conversation = emu.add_messaging_conversation()
            hub = emu.state.notifications
            hub.drop(announce=True)
            hub.publish(conversation_events(emu.state, conversation))
            await _until(_all_delivered(emu, tmp_path), what="the frames after socket_closing")
        assert hub.summary()["counts"].get("lost", 0) == 0
