"""One thread owning one sqlite3 connection, with group commit.

Operations are queued from the event loop; the thread takes everything queued at
that moment and runs it in one ``BEGIN IMMEDIATE ... COMMIT``, each operation inside
its own SAVEPOINT (an operation that raises is rolled back alone and gets the
exception). Every future is resolved only after the COMMIT, so "returned" still
means "committed". With many workers completing jobs at once, one commit and one
thread wake-up serve them all, which is where SQLite's per-transaction cost goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")
Op = Callable[[sqlite3.Connection], Any]

#: at most this many operations share one transaction
MAX_BATCH = 256


@dataclass(slots=True)
class _Item:
    op: Op
    write: bool
    durable: bool
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


def _resolve(outcomes: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in outcomes:
        if future.done():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


class DbThread:
    def __init__(self, connect: Callable[[], sqlite3.Connection], name: str) -> None:
        self._connect = connect
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._conn: sqlite3.Connection | None = None
        self._started = False
        self._crashed: BaseException | None = None

    async def start(self) -> None:
        self._thread.start()
        self._started = True
        await self.submit(lambda db: None)  # surfaces a connect/migrate error here

    async def submit(self, op: Op, *, write: bool = False, durable: bool = False) -> Any:
        if self._crashed is not None or (self._started and not self._thread.is_alive()):
            raise RuntimeError(f"the ledger's database thread stopped: {self._crashed!r}")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.put(_Item(op, write, durable, future, loop))
        return await future

    async def stop(self) -> None:
        if not self._started:
            return
        self._queue.put(None)
        await asyncio.to_thread(self._thread.join)
        self._started = False

    # -- the thread ----------------------------------------------------------------

    def _main(self) -> None:
        try:
            self._serve()
        except BaseException as exc:  # never leave a caller waiting on a dead thread
            self._crashed = exc
            self._fail_all(None, exc)
            raise

    def _serve(self) -> None:
        first = self._queue.get()
        if first is None:
            return
        try:
            self._conn = self._connect()
        except BaseException as exc:  # report to every caller, then stop
            self._fail_all(first, exc)
            return
        pending: _Item | None = first
        while pending is not None:
            batch = [pending]
            pending = None
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._run_batch(batch)
            if stop:
                break
            pending = self._queue.get()
        try:
            self._conn.execute("PRAGMA optimize")
        finally:
            self._conn.close()
            self._conn = None

    def _fail_all(self, first: _Item | None, exc: BaseException) -> None:
        if first is not None:
            first.loop.call_soon_threadsafe(_resolve, [(first.future, False, exc)])
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is None:
                return
            item.loop.call_soon_threadsafe(_resolve, [(item.future, False, exc)])

    def _run_batch(self, batch: list[_Item]) -> None:
        db = self._conn
        assert db is not None
        writes = any(item.write for item in batch)
        durable = any(item.durable for item in batch)
        outcomes: list[tuple[asyncio.Future[Any], bool, Any]] = []
        try:
            if durable:
                db.execute("PRAGMA synchronous = FULL")
            if writes:
                db.execute("BEGIN IMMEDIATE")
            for item in batch:
                if writes:
                    db.execute("SAVEPOINT op")
                try:
                    value = item.op(db)
                except Exception as exc:
                    if writes:
                        db.execute("ROLLBACK TO op")
                        db.execute("RELEASE op")
                    outcomes.append((item.future, False, exc))
                    continue
                if writes:
                    db.execute("RELEASE op")
                outcomes.append((item.future, True, value))
            if writes:
                db.execute("COMMIT")
        except Exception as exc:  # the commit itself failed: nothing in the batch happened
            if db.in_transaction:
                db.execute("ROLLBACK")
            outcomes = [(item.future, False, exc) for item in batch]
        finally:
            if durable:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("PRAGMA synchronous = NORMAL")
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
        for item, outcome in zip(batch, outcomes, strict=True):
            by_loop.setdefault(item.loop, []).append(outcome)
        for loop, results in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting
                loop.call_soon_threadsafe(_resolve, results)
