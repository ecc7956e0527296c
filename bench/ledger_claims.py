"""SQLite ledger throughput: add, claim+complete, beside a naive single-job baseline.

    .venv/bin/python -m bench.ledger_claims [N]

Baseline: what a first-cut queue on SQLite does - per job, BEGIN IMMEDIATE; SELECT one
due row; UPDATE it; COMMIT (same file settings: WAL, synchronous=NORMAL), then a second
transaction to mark it done. The ledger figures use the real ``SqliteLedger`` API from
asyncio (its DB thread hop included): sequentially, claiming one by one and in batches
of 32, and as 32 concurrent workers each looping claim(1) -> complete (group commit).
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from media_bridge.ledger.schema import migrate
from media_bridge.ledger.sqlite import SqliteLedger
from media_bridge.types import JobKind, NewJob


def _jobs(n: int) -> list[NewJob]:
    return [
        NewJob(f"attachment:c{i % 97}:m{i}:x{i}", JobKind.ATTACHMENT, {"url": "u", "n": i})
        for i in range(n)
    ]


async def _concurrent_run(path: Path, n: int, workers: int) -> float:
    """``workers`` coroutines each looping claim(1) -> complete, as a worker pool does."""
    ledger = SqliteLedger(path)
    await ledger.open()
    jobs = _jobs(n)
    for i in range(0, n, 500):
        await ledger.add_jobs(jobs[i : i + 500])
    done = 0

    async def worker(name: str) -> None:
        nonlocal done
        while claimed := await ledger.claim(name, 1, 60):
            await ledger.complete(claimed[0].key, name, {"ok": True})
            done += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker(f"w{i}") for i in range(workers)))
    seconds = time.perf_counter() - start
    await ledger.close()
    assert done == n, done
    return seconds


async def _ledger_run(path: Path, n: int, batch: int) -> tuple[float, float]:
    ledger = SqliteLedger(path)
    await ledger.open()
    jobs = _jobs(n)
    start = time.perf_counter()
    for i in range(0, n, 100):
        await ledger.add_jobs(jobs[i : i + 100])
    add_s = time.perf_counter() - start
    start = time.perf_counter()
    done = 0
    while done < n:
        claimed = await ledger.claim("w1", batch, 60)
        if not claimed:
            break
        for job in claimed:
            await ledger.complete(job.key, "w1", {"ok": True})
        done += len(claimed)
    claim_s = time.perf_counter() - start
    await ledger.close()
    assert done == n, done
    return add_s, claim_s


def _baseline(path: Path, n: int) -> float:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    migrate(db)
    db.executemany(
        "INSERT INTO jobs (key, kind, payload, state, attempts, next_attempt_at, created_at,"
        " updated_at) VALUES (?, 'attachment', '{}', 'pending', 0, ?, ?, ?)",
        [(j.key, 0.0, 0.0, 0.0) for j in _jobs(n)],
    )
    start = time.perf_counter()
    for _ in range(n):
        now = time.time()
        db.execute("BEGIN IMMEDIATE")
        row = db.execute(
            "SELECT key FROM jobs WHERE state IN ('pending','retry') AND next_attempt_at <= ?"
            " ORDER BY next_attempt_at LIMIT 1",
            (now,),
        ).fetchone()
        db.execute(
            "UPDATE jobs SET state='running', worker_id='w', attempts=attempts+1 WHERE key=?",
            (row[0],),
        )
        db.execute("COMMIT")
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE jobs SET state='done' WHERE key=?", (row[0],))
        db.execute("COMMIT")
    seconds = time.perf_counter() - start
    db.close()
    return seconds


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
    with tempfile.TemporaryDirectory() as tmp:
        base_s = _baseline(Path(tmp) / "baseline.db", n)
        add_s, batch_s = asyncio.run(_ledger_run(Path(tmp) / "batch.db", n, 32))
        _, single_s = asyncio.run(_ledger_run(Path(tmp) / "single.db", n, 1))
        pool_s = asyncio.run(_concurrent_run(Path(tmp) / "pool.db", n, 32))
    print(f"jobs: {n}")
    print(f"add_jobs (batches of 100, fsync per batch)  {n / add_s:>9,.0f} jobs/s")
    print(f"baseline: naive select+update per job, sync  {n / base_s:>9,.0f} claim+done/s")
    print(f"SqliteLedger claim(limit=1) + complete      {n / single_s:>9,.0f} claim+done/s")
    print(f"SqliteLedger claim(limit=32) + complete     {n / batch_s:>9,.0f} claim+done/s")
    print(f"SqliteLedger 32 concurrent workers claim(1)+complete {n / pool_s:>9,.0f} claim+done/s")
    print(f"32 concurrent workers vs baseline: {base_s / pool_s:.2f}x")


if __name__ == "__main__":
    main()
