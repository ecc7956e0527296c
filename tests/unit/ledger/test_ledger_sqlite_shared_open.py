"""Several processes may open one new SQLite ledger file at the same moment."""

from __future__ import annotations

import multiprocessing
import sqlite3
from multiprocessing.synchronize import Barrier
from pathlib import Path

from media_bridge.ledger import SqliteLedger
from media_bridge.ledger.schema import MIGRATIONS

PROCESSES = 4
FILES = 20


def _open_each(paths: list[str], barrier: Barrier, failures: multiprocessing.Queue[str]) -> None:
    for path in paths:
        barrier.wait(timeout=60)  # every process opens this file together
        try:
            SqliteLedger(path)._connect().close()
        except Exception as exc:
            failures.put(f"{path}: {type(exc).__name__}: {exc}")


def test_processes_opening_fresh_files_together_all_succeed(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    paths = [str(tmp_path / f"ledger-{n}.db") for n in range(FILES)]
    barrier = context.Barrier(PROCESSES)
    failures: multiprocessing.Queue[str] = context.Queue()
    workers = [
        context.Process(target=_open_each, args=(paths, barrier, failures))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=90)
    assert [worker.exitcode for worker in workers] == [0] * PROCESSES
    found = []
    while not failures.empty():
        found.append(failures.get())
    assert found == []
    for path in paths:
        with sqlite3.connect(path) as raw:
            assert raw.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
            assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
