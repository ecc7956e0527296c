"""Voice-note fetch throughput of the Genesys client + media fetcher against the emulator.

    .venv/bin/python -m bench.genesys_fetch [N_CONVERSATIONS] [LATENCY_MS]

Per attachment: GET the message (fresh URL), resolve the Downloads API link
(issueRedirect=false), stream the signed URL to a temp file with sha256 and sniffing.
The emulator adds LATENCY_MS (default 50) to every API, downloads and storage request.
Baseline, same run, same client: one attachment at a time. The emulator's own rate
limit is switched off (the real 300 requests/min per token would cap both at ~2.5/s).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from genesys_emulator.config import EmulatorConfig, FaultConfig, ScenarioConfig
from genesys_emulator.testing import running_emulator
from media_bridge.fetch.media import MediaFetcher
from media_bridge.genesys.attachments import attachment_from_message
from media_bridge.genesys.client import GenesysClient
from media_bridge.genesys.settings import GenesysSettings

Item = tuple[str, str, str]


async def _one(client: GenesysClient, fetcher: MediaFetcher, item: Item, dest: Path) -> float:
    started = time.perf_counter()
    message = await client.get_message(item[0], item[1])
    attachment = attachment_from_message(message, item[2])
    assert attachment is not None
    done = await fetcher.download_attachment(attachment, dest, max_bytes=50 << 20)
    done.path.unlink()
    return time.perf_counter() - started


async def _run(
    emulator_settings: dict[str, Any], items: list[Item], concurrency: int
) -> tuple[float, list[float]]:
    settings = GenesysSettings(**emulator_settings, max_connections=max(8, concurrency))
    async with GenesysClient(settings) as client:
        fetcher = MediaFetcher(client)
        await client.tokens.get_token()
        with tempfile.TemporaryDirectory() as tmp:
            dest = Path(tmp)
            gate = asyncio.Semaphore(concurrency)

            async def bounded(item: Item) -> float:
                async with gate:
                    return await _one(client, fetcher, item, dest)

            start = time.perf_counter()
            latencies = await asyncio.gather(*(bounded(i) for i in items))
            return time.perf_counter() - start, sorted(latencies)


def _pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(p * len(values)))] * 1000


def _serve(config: EmulatorConfig, conn: Connection) -> None:
    """The emulator in its own process: the bridge must not share a GIL with "Genesys"."""
    with running_emulator(config) as emu:
        items = [(c.id, m.id, a.id) for c, m, a in emu.attachments() if a.media_type == "Audio"]
        for _, _, attachment in emu.attachments():
            emu.expected_object(attachment)  # generate media before timing
        conn.send((emu.genesys_settings(), items))
        conn.recv()  # until the parent is done


def main() -> None:
    conversations = int(sys.argv[1]) if len(sys.argv) > 1 else 80
    latency = float(sys.argv[2]) if len(sys.argv) > 2 else 50.0
    config = EmulatorConfig(
        scenario=ScenarioConfig(
            messaging_conversations=conversations,
            voice_conversations=0,
            attachments_per_conversation=4,
            voice_note_seconds=1.0,
        ),
        rate_limit_requests=0,
        faults=FaultConfig(latency_ms=latency),
    )
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(config, child))
    server.start()
    try:
        settings, audio = parent.recv()
        baseline_items = audio[: max(10, len(audio) // 10)]
        base_s, base_lat = asyncio.run(_run(settings, baseline_items, 1))
        bridge_s, bridge_lat = asyncio.run(_run(settings, audio, 64))
    finally:
        parent.send("stop")
        server.join(timeout=30)
    base_rate = len(baseline_items) / base_s
    rate = len(audio) / bridge_s
    print(f"emulator latency {latency:.0f} ms per request; 3 requests per voice note")
    print(
        f"baseline (sequential): {len(baseline_items):5d} notes {base_rate:8.1f} notes/s  "
        f"p50 {_pct(base_lat, 0.5):6.0f} ms  p99 {_pct(base_lat, 0.99):6.0f} ms"
    )
    print(
        f"client, 64 in flight:  {len(audio):5d} notes {rate:8.1f} notes/s  "
        f"p50 {_pct(bridge_lat, 0.5):6.0f} ms  p99 {_pct(bridge_lat, 0.99):6.0f} ms"
    )
    print(f"speed-up: {rate / base_rate:.1f}x")


if __name__ == "__main__":
    main()
