"""The voice-note path end to end, against the emulator, with a naive baseline in the same run.

    .venv/bin/python -m bench.voice_notes [N] [LATENCY_MS]

The emulator runs in its own process and adds LATENCY_MS (default 50) to every API,
downloads and storage request; its rate limit is off (the real 300 requests/min per
OAuth client would cap any client at ~2.5 voice notes/s). Each voice note arrives as
a message-topic EventBridge event carrying a Downloads API link.

- baseline: one event at a time: parse it, GET the message, resolve the download
  link, stream the signed URL to a file (the same aiohttp client, no ledger).
- bridge: `Bridge` with its SQLite ledger, dir sink and NLP sink, replaying the
  same events (audio normalisation off, then on).
- paced: events fed to the intake at 50 events/s while workers run: p50/p99 from
  receipt to delivery.
Latency = the delivery's ``delivered_at`` minus the event's ``received_at``.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from genesys_emulator.config import EmulatorConfig, FaultConfig, ScenarioConfig
from genesys_emulator.events import conversation_events
from genesys_emulator.testing import running_emulator
from media_bridge.app import Bridge
from media_bridge.config import Settings
from media_bridge.fetch.media import MediaFetcher
from media_bridge.genesys import GenesysClient, attachment_from_message
from media_bridge.genesys.settings import GenesysSettings
from media_bridge.intake.events.parse import parse_event
from media_bridge.intake.runner import SourcePump
from media_bridge.intake.sources.base import RawEvent
from media_bridge.intake.sources.file import FileSource
from media_bridge.observability import configure_logging
from media_bridge.runtime import run_pipeline


def _serve(count: int, latency_ms: float, conn: Connection) -> None:
    config = EmulatorConfig(
        rate_limit_requests=0,
        faults=FaultConfig(latency_ms=latency_ms),
        scenario=ScenarioConfig(
            messaging_conversations=0, voice_conversations=0, voice_note_seconds=5.0
        ),
    )
    with running_emulator(config) as emu:
        conversations = emu.builder.voice_note_load(count)
        for _, _, attachment in emu.attachments():
            emu.expected_object(attachment)  # generate media before timing
        events = [e for c in conversations for e in conversation_events(emu.state, c, "message")]
        conn.send((emu.genesys_settings(), events))
        conn.recv()


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


async def _baseline(
    genesys: dict[str, Any], events: list[dict[str, Any]], dest: Path
) -> list[float]:
    latencies = []
    async with GenesysClient(GenesysSettings(**genesys)) as client:
        fetcher = MediaFetcher(client)
        for event in events:
            started = time.perf_counter()
            parsed = parse_event(json.dumps(event))
            for ref in parsed.attachments:
                message = await client.get_message(ref.conversation_id, ref.message_id)
                attachment = attachment_from_message(message, ref.media_id)
                assert attachment is not None
                done = await fetcher.download_attachment(attachment, dest, max_bytes=50 << 20)
                done.path.rename(dest / f"{ref.media_id}.ogg")
            latencies.append(time.perf_counter() - started)
    return latencies


def _settings(genesys: dict[str, Any], root: Path, audio: bool) -> Settings:
    return Settings(
        genesys=GenesysSettings(**genesys, max_connections=128),
        ledger={"url": f"sqlite:///{root}/ledger.db"},
        sinks={"dir_path": root / "out", "text_path": root / "nlp.jsonl"},
        audio={"enabled": audio, "min_net_speech_s": 0.5},
        worker={"concurrency": 96},
    )


def _latencies(root: Path) -> list[float]:
    found = []
    for sidecar in (root / "out").glob("*/*.json"):
        meta = json.loads(sidecar.read_text())["metadata"]
        delivered = datetime.fromisoformat(meta["delivered_at"])
        received = datetime.fromisoformat(meta["received_at"])
        found.append((delivered - received).total_seconds())
    return found


async def _bridge(settings: Settings, events_file: Path) -> float:
    async with Bridge(settings, worker_id="bench") as bridge:
        started = time.perf_counter()
        await run_pipeline(
            bridge, [SourcePump(FileSource(events_file))], until_idle=True, progress_every_s=0.02
        )
        return time.perf_counter() - started


class _PacedSource:
    """Events at a steady rate, as a live EventBridge feed delivers them."""

    name = "paced"

    def __init__(self, events: list[dict[str, Any]], rate: float) -> None:
        self._events = events
        self._rate = rate

    async def batches(self) -> AsyncIterator[list[RawEvent]]:
        started = time.perf_counter()
        for index, event in enumerate(self._events):
            await asyncio.sleep(max(0.0, started + index / self._rate - time.perf_counter()))
            yield [RawEvent(json.dumps(event).encode(), "paced")]

    async def ack(self, events: list[RawEvent]) -> None:
        return None

    async def close(self) -> None:
        return None


async def _paced(settings: Settings, events: list[dict[str, Any]], rate: float) -> float:
    async with Bridge(settings, worker_id="paced") as bridge:
        started = time.perf_counter()
        await run_pipeline(
            bridge, [SourcePump(_PacedSource(events, rate))], until_idle=True, progress_every_s=0.05
        )
        return time.perf_counter() - started


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    latency = float(sys.argv[2]) if len(sys.argv) > 2 else 50.0
    configure_logging("ERROR")
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(count, latency, child)
    )
    server.start()
    rows: list[tuple[str, int, float, float, float]] = []
    work = Path(tempfile.mkdtemp(prefix="bench-voice-"))
    try:
        genesys, events = parent.recv()
        events_file = work / "events.jsonl"
        events_file.write_text("".join(json.dumps(e) + "\n" for e in events))
        notes = len({a.key for e in events for a in parse_event(json.dumps(e)).attachments})

        base_events = events[: max(20, len(events) // 15)]
        (work / "base").mkdir()
        lat = asyncio.run(_baseline(genesys, base_events, work / "base"))
        rows.append(
            (
                "baseline: sequential",
                len(base_events),
                len(base_events) / sum(lat),
                _pct(lat, 0.5),
                _pct(lat, 0.99),
            )
        )

        for audio in (False, True):
            root = work / f"bridge-{audio}"
            elapsed = asyncio.run(_bridge(_settings(genesys, root, audio), events_file))
            lat = _latencies(root)
            assert len(lat) == notes, (len(lat), notes)
            label = "bridge, audio normalised" if audio else "bridge, fetch + deliver"
            rows.append((label, notes, notes / elapsed, _pct(lat, 0.5), _pct(lat, 0.99)))

        paced = events[: min(len(events), 1000)]
        root = work / "paced"
        elapsed = asyncio.run(_paced(_settings(genesys, root, True), paced, 50.0))
        lat = _latencies(root)
        rows.append(
            (
                "bridge at 50 events/s, audio on",
                len(lat),
                len(lat) / elapsed,
                _pct(lat, 0.5),
                _pct(lat, 0.99),
            )
        )
    finally:
        parent.send("stop")
        server.join(timeout=30)
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"voice notes: {notes}, emulator latency {latency:.0f} ms per request, "
        f"{multiprocessing.cpu_count()} cores"
    )
    print("| run | voice notes | notes/s | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|")
    for label, n, rate, p50, p99 in rows:
        print(f"| {label} | {n} | {rate:.1f} | {p50:.0f} | {p99:.0f} |")
    base = rows[0][2]
    print(
        f"\nspeed-up over the sequential baseline: fetch+deliver {rows[1][2] / base:.1f}x, "
        f"with audio {rows[2][2] / base:.1f}x"
    )


if __name__ == "__main__":
    main()
