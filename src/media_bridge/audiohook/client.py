"""AudioHook client simulator: plays Genesys' part against any AudioHook server.

It signs the upgrade request, opens a session, streams audio frames at real-time pace
(PCMU or L16, mono or stereo, in the channel order the server chose), pings like the
reference client, follows server ``pause``/``resume``/``disconnect``, runs scripted
client actions (pause, discard, update, error, protocol faults, a dropped socket) and
checks every server message (see ``client_checks``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from media_bridge.audiohook import protocol as p
from media_bridge.audiohook.audio_source import RATE, generated_call
from media_bridge.audiohook.client_checks import ClientState
from media_bridge.audiohook.client_config import (
    ACTIONS,
    Action,
    ClientConfig,
    SessionReport,
    offered_media,
    upgrade_headers,
)
from media_bridge.audiohook.codec import Int16Array, encode_frame

__all__ = [
    "ACTIONS",
    "Action",
    "ClientConfig",
    "SessionReport",
    "offered_media",
    "run_many",
    "run_session",
    "summarize",
    "upgrade_headers",
]


@dataclass
class _Playback:
    """Where the stream stands between frames: a client or server pause, a discard."""

    paused_at: float | None = None
    pause_until: float | None = None
    discard_left: int = 0  # samples
    discard_start: float = 0.0


class _Runner:
    def __init__(self, cfg: ClientConfig, ws: Any) -> None:
        self.cfg = cfg
        self.ws = ws
        self.offered = offered_media(cfg)
        self.st = ClientState(cfg.session_id, self.offered, cfg.probe)
        self.lock = asyncio.Lock()
        self.sent_samples = 0
        #: paused/discarded samples: the position is kept in whole samples, so it is exact
        self.skipped_samples = 0
        self.opened = asyncio.Event()
        self.closed = asyncio.Event()
        self.disconnected = asyncio.Event()
        self.server_pause = False
        self.server_resume = False
        self.frames = 0
        self.close_reason = "end"

    @property
    def position(self) -> float:
        return (self.sent_samples + self.skipped_samples) / RATE

    async def send(self, type_: str, params: dict[str, Any]) -> int:
        async with self.lock:
            self.st.seq += 1
            msg = p.client_message(
                self.cfg.session_id, self.st.seq, self.st.serverseq, self.position, type_, params
            )
            if type_ == "ping":
                self.st.pending_ping = (self.st.seq, time.monotonic())
            elif type_ == "update":
                self.st.pending_updates.append(self.st.seq)
            await self.ws.send(json.dumps(msg))
            return self.st.seq

    async def send_raw(self, data: str | bytes) -> None:
        async with self.lock:
            await self.ws.send(data)

    async def receive(self) -> None:
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            async for raw in self.ws:
                msg = self.st.check_message(raw)
                if msg is None:
                    continue
                kind = msg["type"]
                if kind == "opened":
                    self.opened.set()
                elif kind == "closed":
                    self.closed.set()
                elif kind == "disconnect":
                    self.disconnected.set()
                elif kind == "pause":
                    self.server_pause = True
                elif kind == "resume":
                    self.server_resume = True

    async def pinger(self) -> None:
        await asyncio.sleep(self.cfg.initial_ping_delay_s)
        while self.st.state == "OPEN":
            if self.st.pending_ping is not None:
                self.st.violation(f"408 no pong within {self.cfg.ping_interval_s}s")
                return
            await self.send("ping", {})
            await asyncio.sleep(self.cfg.ping_interval_s)

    async def inject(self, kind: str) -> None:
        sid, seq = self.cfg.session_id, self.st.seq
        if kind == "bad_json":
            await self.send_raw('{"version": "2", "type": ')
        elif kind == "partial_frame":
            await self.send_raw(b"\x01\x02\x03")
        elif kind == "oversize":
            pad = "x" * (p.MAX_TEXT_CHARS + 1)
            msg = p.client_message(sid, seq + 1, self.st.serverseq, self.position, "ping", {})
            await self.send_raw(json.dumps(msg | {"padding": pad}))
        elif kind == "bad_seq":
            async with self.lock:
                self.st.seq += 2
                msg = p.client_message(
                    sid, self.st.seq, self.st.serverseq, self.position, "update", {}
                )
                await self.ws.send(json.dumps(msg))
        elif kind == "unknown_type":
            await self.send("frobnicate", {})

    async def stream(self, customer: Int16Array, agent: Int16Array) -> None:
        if not self.st.opened_media:
            return
        media = self.st.opened_media[0]
        channels: list[str] = media["channels"]
        fmt: str = media["format"]
        tracks = {"external": customer, "internal": agent}
        step = RATE * self.cfg.frame_ms // 1000
        n = min(len(customer), len(agent))
        actions = sorted(self.cfg.actions, key=lambda a: a.at_s)
        play = _Playback()
        t0 = time.monotonic()
        for tick, start in enumerate(range(0, n, step)):
            if self.disconnected.is_set() or self.st.state != "OPEN":
                return
            while actions and actions[0].at_s <= start / RATE:
                if not await self._act(actions.pop(0), start / RATE, play):
                    return
            frame = slice(start, min(start + step, n))
            await self._pause_or_resume(start / RATE, play)
            if play.paused_at is not None:
                self.skipped_samples += frame.stop - frame.start
            elif play.discard_left > 0:
                await self._discard(frame.stop - frame.start, play)
            else:
                cols = [tracks[c][frame] for c in channels]
                await self.send_raw(encode_frame(np.stack(cols, axis=1), fmt))
                self.sent_samples += frame.stop - frame.start
                self.frames += 1
            await self._pace(t0, tick)

    async def _act(self, act: Action, now_s: float, play: _Playback) -> bool:
        """Run one scripted action; False when it dropped the socket."""
        if act.kind == "drop":
            self.ws.transport.abort()
            return False
        if act.kind == "pause":
            play.pause_until = now_s + float(act.value or 1.0)
        elif act.kind == "discard":
            play.discard_left = round(float(act.value or 1.0) * RATE)
            play.discard_start = self.position
        elif act.kind == "update":
            await self.send("update", {"language": act.value or "en-GB"})
        elif act.kind == "error":
            await self.send("error", {"code": 500, "message": "simulated client error"})
            self.close_reason = "error"
        elif act.kind == "ping":
            await self.send("ping", {})
        else:
            await self.inject(act.kind)
        return True

    async def _pause_or_resume(self, now_s: float, play: _Playback) -> None:
        """Send ``paused`` when the server or a script asks, ``resumed`` when it ends."""
        want_pause = self.server_pause or (play.pause_until is not None)
        if want_pause and play.paused_at is None:
            play.paused_at = self.position
            await self.send("paused", {})
        resume_now = self.server_resume or (
            play.pause_until is not None and now_s >= play.pause_until and not self.server_pause
        )
        if play.paused_at is not None and resume_now:
            await self.send(
                "resumed",
                {
                    "start": p.format_duration(play.paused_at),
                    "discarded": p.format_duration(self.position - play.paused_at),
                },
            )
            play.paused_at = play.pause_until = None
            self.server_pause = self.server_resume = False

    async def _discard(self, samples: int, play: _Playback) -> None:
        self.skipped_samples += samples  # whole frames, as before
        play.discard_left -= samples
        if play.discard_left <= 0:
            play.discard_left = 0
            await self.send(
                "discarded",
                {
                    "start": p.format_duration(play.discard_start),
                    "discarded": p.format_duration(self.position - play.discard_start),
                },
            )

    async def _pace(self, t0: float, tick: int) -> None:
        """Real time: frame ``tick`` ends ``frame_ms`` after the previous one."""
        if self.cfg.realtime:
            delay = t0 + (tick + 1) * self.cfg.frame_ms / 1000 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        else:
            await asyncio.sleep(0)


async def run_session(cfg: ClientConfig) -> SessionReport:
    """One AudioHook session against ``cfg.uri``; never raises for protocol problems."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    report = SessionReport(cfg.session_id)
    started = time.monotonic()
    if cfg.probe:
        cfg.conversation_id = p.NULL_UUID
        cfg.participant = dict(cfg.participant, id=p.NULL_UUID)
    try:
        ws = await connect(
            cfg.uri,
            additional_headers=upgrade_headers(cfg),
            max_size=None,
            compression=None,
            open_timeout=cfg.open_timeout_s + 5,
        )
    except InvalidStatus as exc:
        report.http_status = exc.response.status_code
        report.duration_s = time.monotonic() - started
        return report
    runner = _Runner(cfg, ws)
    receiver = asyncio.create_task(runner.receive())
    try:
        await _drive(cfg, runner, report)
    finally:
        await ws.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(receiver, 5)
    st = runner.st
    report.violations = st.violations
    report.opened_media = st.opened_media
    report.disconnect = st.disconnect
    report.closed = st.state == "CLOSED"
    report.frames_sent = runner.frames
    report.pong_latencies_ms = st.pong_latencies_ms
    report.messages = st.received
    report.duration_s = time.monotonic() - started
    got = (st.disconnect or {}).get("reason")
    if got != cfg.expect_disconnect:
        report.notes.append(f"expected disconnect {cfg.expect_disconnect!r}, got {got!r}")
    return report


async def _drive(cfg: ClientConfig, runner: _Runner, report: SessionReport) -> None:
    st = runner.st
    params: dict[str, Any] = {
        "organizationId": cfg.organization_id,
        "conversationId": cfg.conversation_id,
        "participant": cfg.participant,
        "media": runner.offered,
    }
    if cfg.language:
        params["language"] = cfg.language
    if cfg.custom_config is not None:
        params["customConfig"] = cfg.custom_config
    st.state = "OPENING"
    st.open_seq = await runner.send("open", params)
    waiters = [
        asyncio.create_task(runner.opened.wait()),
        asyncio.create_task(runner.disconnected.wait()),
    ]
    done, pending = await asyncio.wait(
        waiters, timeout=cfg.open_timeout_s, return_when=asyncio.FIRST_COMPLETED
    )
    for task in pending:
        task.cancel()
    if not done:
        st.violation(f"408 no 'opened' within {cfg.open_timeout_s}s")
        return
    if runner.opened.is_set() and not cfg.probe:
        if not runner.st.opened_media:
            report.notes.append("server chose no media")
        pinger = asyncio.create_task(runner.pinger())
        customer, agent = cfg.audio if cfg.audio is not None else generated_call(cfg.duration_s)
        try:
            await runner.stream(customer, agent)
        finally:
            pinger.cancel()
        if runner.ws.transport is None or runner.ws.transport.is_closing():
            report.dropped = True
            return
    if runner.disconnected.is_set() and runner.close_reason == "end":
        runner.close_reason = "disconnect"
    st.state = "CLOSING"
    st.close_seq = await runner.send("close", {"reason": runner.close_reason})
    try:
        await asyncio.wait_for(runner.closed.wait(), cfg.close_timeout_s)
    except TimeoutError:
        st.violation(f"408 no 'closed' within {cfg.close_timeout_s}s")


async def run_many(configs: list[ClientConfig], ramp_s: float = 0.0) -> list[SessionReport]:
    """Run sessions concurrently, starting them evenly over ``ramp_s`` seconds."""

    async def one(i: int, cfg: ClientConfig) -> SessionReport:
        if ramp_s and len(configs) > 1:
            await asyncio.sleep(ramp_s * i / len(configs))
        try:
            return await run_session(cfg)
        except Exception as exc:  # a load run reports failures instead of stopping
            report = SessionReport(cfg.session_id)
            report.notes.append(f"client failure: {type(exc).__name__}: {exc}")
            return report

    return list(await asyncio.gather(*(one(i, c) for i, c in enumerate(configs))))


def summarize(reports: list[SessionReport]) -> dict[str, Any]:
    lat = sorted(x for r in reports for x in r.pong_latencies_ms)

    def pct(q: float) -> float | None:
        return round(lat[min(len(lat) - 1, int(q * len(lat)))], 2) if lat else None

    return {
        "sessions": len(reports),
        "ok": sum(r.ok for r in reports),
        "rejected": sum(r.http_status is not None for r in reports),
        "violations": sum(len(r.violations) for r in reports),
        "frames": sum(r.frames_sent for r in reports),
        "pongs": len(lat),
        "pong_p50_ms": pct(0.5),
        "pong_p99_ms": pct(0.99),
        "pong_max_ms": round(lat[-1], 2) if lat else None,
    }
