"""Throughput of the scaled-out bridge with 1, 2 and 4 worker processes (1 = the baseline).

    .venv/bin/python -m bench.scale_bench [--attachments 300] [--workers 1,2,4] [--audio]

Each run: a fresh emulated org with ``--attachments`` voice-note attachments, its
events published to a Kafka topic (Tansu, 6 partitions), N ``media-bridge run``
processes in one consumer group sharing one PostgreSQL ledger, delivering to the dir
sink. Throughput is measured on the ledger's own clock: attachments done per second
between the first and the last completion (process start-up and group join are
excluded), plus the wall time from start to all done. Audio normalisation is off
unless ``--audio`` (it is CPU-bound and this machine may have few cores).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import asyncpg
from scripts.infra import PostgresServer, TansuBroker

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.event_sinks import send_all
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import running_emulator

PARTITIONS = 6


@dataclass
class Result:
    workers: int
    attachments: int
    wall_s: float
    per_s: float


def scenario(attachments: int) -> EmulatorConfig:
    return EmulatorConfig(
        # the scale tests measure the bridge, not Genesys' 300 requests/min per token
        rate_limit_requests=1_000_000,
        scenario=ScenarioConfig(
            seed=5,
            messaging_conversations=max(1, attachments // 10),
            voice_conversations=0,
            channels=("whatsapp",),
            attachments_per_conversation=10,
            text_messages_per_conversation=0,
            voice_note_seconds=2.0,
            event_path="message",
        ),
    )


async def progress(url: str) -> tuple[int, int, float]:
    """(active jobs, attachments done, seconds between the first and last of them)."""
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            """SELECT count(*) FILTER (WHERE state IN ('pending','running','retry')) AS active,
                      count(*) FILTER (WHERE state = 'done' AND kind = 'attachment') AS done,
                      extract(epoch FROM max(updated_at) FILTER (WHERE state = 'done'
                                                                 AND kind = 'attachment')
                                       - min(updated_at) FILTER (WHERE state = 'done'
                                                                 AND kind = 'attachment')) AS span
               FROM jobs"""
        )
    except asyncpg.UndefinedTableError:
        return (1, 0, 0.0)
    finally:
        await conn.close()
    assert row is not None
    return int(row["active"]), int(row["done"]), float(row["span"] or 0.0)


def spawn_worker(source: str, worker_id: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "media_bridge", "run", "--source", source, "--worker-id", worker_id],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def run_once(
    workers: int, attachments: int, broker: TansuBroker, pg: PostgresServer, audio: bool
) -> Result:
    suffix = secrets.token_hex(3)
    topic, group = f"bench-{suffix}", f"bench-{suffix}"
    broker.create_topic(topic, PARTITIONS)
    db = f"mb_scale_{suffix}"
    url = await asyncio.to_thread(pg.create_database, db)
    try:
        with running_emulator(scenario(attachments)) as emu, tempfile.TemporaryDirectory() as tmp:
            total = len(emu.attachments())
            await send_all([f"kafka://{broker.bootstrap}/{topic}"], scenario_events(emu.state))
            env = {
                **os.environ,
                **emu.env(),
                "MEDIA_BRIDGE_GENESYS__VERIFY_TLS": "false",
                "MEDIA_BRIDGE_LEDGER__URL": url,
                "MEDIA_BRIDGE_SINKS__DIR_PATH": f"{tmp}/out",
                "MEDIA_BRIDGE_SINKS__TEXT_PATH": f"{tmp}/nlp.jsonl",
                "MEDIA_BRIDGE_FETCH__MEDIA_TYPES": '["all"]',
                "MEDIA_BRIDGE_FETCH__TMP_DIR": f"{tmp}/work",
                "MEDIA_BRIDGE_AUDIO__ENABLED": "true" if audio else "false",
                "MEDIA_BRIDGE_LOG_LEVEL": "WARNING",
            }
            source = (
                f"kafka:{topic}?bootstrap={broker.bootstrap}&group={group}"
                "&max_poll_interval_ms=6000&session_timeout_ms=6000"
            )
            start = time.monotonic()
            procs = [spawn_worker(source, f"w{i}", env) for i in range(workers)]
            try:
                while True:
                    active, done, span = await progress(url)
                    if done >= total and active == 0:
                        break
                    if time.monotonic() - start > 900:
                        raise TimeoutError(f"{workers} workers: {done}/{total} after 900 s")
                    if any(p.poll() is not None for p in procs):
                        raise RuntimeError("a worker exited")
                    await asyncio.sleep(0.25)
                wall = time.monotonic() - start
            finally:
                for proc in procs:
                    proc.terminate()
                for proc in procs:
                    proc.wait(timeout=30)
    finally:
        await asyncio.to_thread(pg.drop_database, db)
    return Result(workers, total, wall, (total - 1) / span if span else float("nan"))


async def main_async(args: argparse.Namespace) -> list[Result]:
    pg = await asyncio.to_thread(PostgresServer.find_or_start)
    broker = TansuBroker().start()
    try:
        return [await run_once(n, args.attachments, broker, pg, args.audio) for n in args.workers]
    finally:
        broker.stop()
        pg.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attachments", type=int, default=300)
    parser.add_argument(
        "--workers", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2, 4]
    )
    parser.add_argument("--audio", action="store_true", help="normalise audio too (CPU-bound)")
    args = parser.parse_args()
    results = asyncio.run(main_async(args))
    base = results[0].per_s
    print(f"cores: {os.cpu_count()}, audio normalisation: {'on' if args.audio else 'off'}")
    print("| workers | attachments | wall time s | attachments/s (steady) | vs 1 worker |")
    print("|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r.workers} | {r.attachments} | {r.wall_s:.1f} | {r.per_s:.1f} | "
            f"{r.per_s / base:.2f}x |"
        )


if __name__ == "__main__":
    main()
