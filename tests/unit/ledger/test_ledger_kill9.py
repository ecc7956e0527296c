"""A process SIGKILLed right after ``add_jobs`` returned loses none of those jobs."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from media_bridge.ledger import SqliteLedger
from media_bridge.types import JobState

CHILD = textwrap.dedent(
    """
    import asyncio, sys, time
    from media_bridge.ledger import SqliteLedger
    from media_bridge.types import JobKind, NewJob

    async def main(path: str) -> None:
        ledger = SqliteLedger(path)
        await ledger.open()
        # some work already leased when the process dies
        await ledger.add_jobs([NewJob("early", JobKind.ATTACHMENT, {"n": -1})])
        await ledger.claim("doomed-worker", 1, 0.2)
        for batch in range(1000):
            jobs = [NewJob(f"job-{batch}-{i}", JobKind.ATTACHMENT, {"n": i}) for i in range(50)]
            await ledger.add_jobs(jobs)
            sys.stdout.write(f"{batch}\\n")
            sys.stdout.flush()
            if batch == 5:
                time.sleep(60)  # block right after add_jobs returned: the parent kills us

    asyncio.run(main(sys.argv[1]))
    """
)


async def test_jobs_survive_sigkill_after_add_jobs(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        acknowledged = -1
        while acknowledged < 5:
            line = child.stdout.readline()
            assert line, "child died before adding its jobs"
            acknowledged = int(line)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()

    ledger = SqliteLedger(path)
    await ledger.open()
    try:
        keys = await ledger.existing_keys(f"job-{b}-{i}" for b in range(6) for i in range(50))
        assert len(keys) == 300
        counts = await ledger.counts()
        assert counts[JobState.PENDING] == 300
        assert counts[JobState.RUNNING] == 1
        # the dead worker's job comes back once its lease lapses
        deadline = time.monotonic() + 10
        claimed: list[str] = []
        while "early" not in claimed and time.monotonic() < deadline:
            claimed += [j.key for j in await ledger.claim("survivor", 500, 30)]
            await asyncio.sleep(0.02)
        assert "early" in claimed
    finally:
        await ledger.close()
