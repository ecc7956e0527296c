"""Backfill of recorded calls: Platform API requests and wall time, batch vs per-recording.

    .venv/bin/python -m bench.recording_batch [CALLS]

The emulator (in process, no latency, its rate limit off) holds CALLS (default 500)
recorded calls of 3 s; the bridge backfills them three times in the same run, each time
into an empty ledger and a fresh emulator: with ``voice.recording_batch = false`` (every
call listed and read, every recording read on its own: the per-recording path), with the
batch download path (one ``{conversationId}`` entry per call, up to 100 a request, the
call's participants from the analytics answer; the emulator keeps each batch job
InProgress for 2 s, so it is polled), and with the batch path and transcripts on (the
transcript job needs ``calls[].id``, so each call is read, and its transcript is a
request too). Counted: requests to /api/v2/ on the api host (the emulator's
``/__emulator__/stats``; the token endpoint and the signed media URLs are not Platform
API requests). The first two rows run with transcripts off and the customer channel
fixed. "budget minutes" is requests / 300: how long the real per-token limit lets the
backfill take at best.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.testing import EmulatorHandle, running_emulator
from media_bridge.app import Bridge
from media_bridge.config import Settings
from media_bridge.genesys.settings import GenesysSettings
from media_bridge.jobs.backfill import (
    BackfillReport,
    backfill_jobs,
    find_conversations,
    plan_missing,
)
from media_bridge.observability import configure_logging
from media_bridge.runtime import run_pipeline

#: the requests that resolve a recording's URL (the per-recording read; the batch's
#: submit and polls), besides finding the call, reading it and listing its recordings
RECORDING_PATHS = re.compile(r"/recordings/\{id\}$|/recording/batchrequests")


def _platform_requests(emu: EmulatorHandle) -> Counter[str]:
    found: Counter[str] = Counter()
    for row in emu.stats()["requests"]:
        if row["host"] == "api" and row["path"].startswith("/api/v2/"):
            found[re.sub(r"/[0-9a-f-]{16,}", "/{id}", row["path"])] += row["count"]
    return found


async def _backfill(
    emu: EmulatorHandle, root: Path, batch: bool, transcripts: bool
) -> tuple[int, dict[str, int]]:
    settings = Settings(
        genesys=GenesysSettings(**emu.genesys_settings()),
        ledger={"url": f"sqlite:///{root}/ledger.db"},
        sinks={"dir_path": root / "out", "text_path": root / "nlp.jsonl"},
        voice={
            "recording_delay_s": 0.0,
            "poll_initial_s": 1.0,
            "transcripts": transcripts,
            "recording_batch": batch,
            "recording_batch_linger_s": 1.0,
        },
    )
    calls = sorted(emu.conversations(), key=lambda c: c.start)
    since, until = calls[0].start, calls[-1].start + timedelta(seconds=1)
    async with Bridge(settings, worker_id="bench") as bridge:
        assert bridge.context is not None
        assert bridge.genesys is not None
        report = BackfillReport()
        found = await find_conversations(bridge.genesys, since, until, "voice")
        jobs = backfill_jobs(found, messaging_recordings=False)
        await plan_missing(bridge.ledger, jobs, report)
        await run_pipeline(bridge, until_idle=True, idle_timeout_s=1800)
        batches = bridge.context.recording_batches
        counts = dict(batches.counts) if batches is not None else {}
    delivered = sum(
        1
        for p in (root / "out").glob("*/*.json")
        if json.loads(p.read_text()).get("key", "").startswith("recording:")
    )
    return delivered, counts


def _run(
    calls: int, batch: bool, transcripts: bool
) -> tuple[int, Counter[str], float, dict[str, int]]:
    config = EmulatorConfig(
        rate_limit_requests=0,
        batch_delay_s=2.0,
        scenario=ScenarioConfig(
            seed=5, messaging_conversations=0, voice_conversations=calls, call_seconds=3.0
        ),
    )
    with running_emulator(config) as emu, tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        delivered, counts = asyncio.run(_backfill(emu, Path(tmp), batch, transcripts))
        seconds = time.perf_counter() - started
        return delivered, _platform_requests(emu), seconds, counts


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    configure_logging("WARNING")
    rows = []
    paths = (
        ("per-recording (recording_batch = false)", False, False),
        ("batch", True, False),
        ("batch, transcripts on (each call read)", True, True),
    )
    for name, batch, transcripts in paths:
        delivered, requests, seconds, counts = _run(calls, batch, transcripts)
        fetching = sum(n for p, n in requests.items() if RECORDING_PATHS.search(p))
        rows.append((name, delivered, requests, fetching, seconds, counts))
    print(f"backfill of {calls} recorded calls (3 s each), emulator in process, no latency\n")
    print(
        "| path | delivered | API requests | per recording | resolving the recordings "
        "| per recording | budget minutes (300/min) | wall s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, delivered, requests, fetching, seconds, _ in rows:
        total = sum(requests.values())
        per = total / delivered if delivered else float("nan")
        fetch_per = fetching / delivered if delivered else float("nan")
        print(
            f"| {name} | {delivered} | {total} | {per:.2f} | {fetching} | {fetch_per:.3f} "
            f"| {total / 300:.1f} | {seconds:.1f} |"
        )
    (_, _, before, fetch_before, _, _), (_, _, after, fetch_after, _, counts) = rows[:2]
    print(f"\nbatch path: {dict(sorted(counts.items()))}")
    print(f"batch path, transcripts on: {dict(sorted(rows[2][5].items()))}")
    for (name, *_), (_, _, requests, *_) in zip(paths, rows, strict=True):
        print(f"{name} requests by path: {dict(sorted(requests.items()))}")
    total_before, total_after = sum(before.values()), sum(after.values())
    print(
        f"\nrequests per recording: {total_before / max(1, total_after):.1f}x fewer in all, "
        f"{fetch_before / max(1, fetch_after):.0f}x fewer to resolve the recordings"
    )


if __name__ == "__main__":
    main()
