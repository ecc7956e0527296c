"""Ledger claim rate: PostgreSQL (SKIP LOCKED) vs SQLite (the baseline), same workload, same run.

    .venv/bin/python -m bench.ledger_bench [--jobs 4000] [--workers 1,4] [--batch 10]

For each backend and worker count: record ``--jobs`` jobs (``add_jobs`` in batches of
100), then ``workers`` concurrent claimers (one ledger connection each, as separate
worker processes would have) claim ``--batch`` at a time and complete every job,
until none is left. Prints a markdown table: add rate, claim+complete rate, and the
check that every job was done exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scripts.infra import PostgresServer

from media_bridge.ledger.base import Ledger
from media_bridge.ledger.postgres import PostgresLedger
from media_bridge.ledger.sqlite import SqliteLedger
from media_bridge.types import JobKind, JobState, NewJob


@dataclass
class Row:
    backend: str
    workers: int
    jobs: int
    add_per_s: float
    claim_complete_per_s: float
    done_once: bool


async def run_one(
    backend: str, make: Callable[[], Ledger], jobs: int, workers: int, batch: int
) -> Row:
    ledgers = [make() for _ in range(workers)]
    for ledger in ledgers:
        await ledger.open()
    try:
        main = ledgers[0]
        keys = [f"attachment:c{i % 97}:m{i}:{secrets.token_hex(4)}" for i in range(jobs)]
        start = time.perf_counter()
        for i in range(0, jobs, 100):
            await main.add_jobs(
                [NewJob(k, JobKind.ATTACHMENT, {"n": n}) for n, k in enumerate(keys[i : i + 100])]
            )
        add_s = time.perf_counter() - start
        done: list[str] = []

        async def work(ledger: Ledger, name: str) -> None:
            while claimed := await ledger.claim(name, batch, 60):
                for job in claimed:
                    if await ledger.complete(job.key, name, {"ok": True}):
                        done.append(job.key)

        start = time.perf_counter()
        await asyncio.gather(*(work(ledger, f"w{i}") for i, ledger in enumerate(ledgers)))
        claim_s = time.perf_counter() - start
        counts = await main.counts()
        once = len(done) == len(set(done)) == jobs and counts[JobState.DONE] >= jobs
        return Row(backend, workers, jobs, jobs / add_s, jobs / claim_s, once)
    finally:
        for ledger in ledgers:
            await ledger.close()


async def main_async(args: argparse.Namespace) -> list[Row]:
    server = await asyncio.to_thread(PostgresServer.find_or_start)
    name = f"mb_bench_{secrets.token_hex(4)}"
    url = await asyncio.to_thread(server.create_database, name)
    rows: list[Row] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for workers in args.workers:
                db = Path(tmp) / f"ledger-{workers}.db"
                rows.append(
                    await run_one(
                        "sqlite (baseline)",
                        functools.partial(SqliteLedger, db),
                        args.jobs,
                        workers,
                        args.batch,
                    )
                )
                pool = PostgresLedger(url)
                await pool.open()
                await pool._require_pool().execute("TRUNCATE jobs")
                await pool.close()
                rows.append(
                    await run_one(
                        "postgresql", lambda: PostgresLedger(url), args.jobs, workers, args.batch
                    )
                )
    finally:
        await asyncio.to_thread(server.drop_database, name)
        await asyncio.to_thread(server.stop)
    return rows


def table(rows: list[Row], batch: int) -> str:
    lines = [
        f"| backend | workers | jobs | add_jobs/s | claim+complete/s (batch {batch}) "
        "| each job done once |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.backend} | {r.workers} | {r.jobs} | {r.add_per_s:,.0f} | "
            f"{r.claim_complete_per_s:,.0f} | {'yes' if r.done_once else 'NO'} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=4000)
    parser.add_argument("--workers", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4])
    parser.add_argument("--batch", type=int, default=10)
    args = parser.parse_args()
    rows = asyncio.run(main_async(args))
    print(table(rows, args.batch))


if __name__ == "__main__":
    main()
