"""The SQLite ledger's file and thread: WAL mode, migrations, one connection on one
dedicated thread (``DbThread``) that every read and write goes through."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from media_bridge.ledger.dbthread import DbThread
from media_bridge.ledger.schema import migrate


def _switch_to_wal(conn: sqlite3.Connection, patience_s: float) -> str:
    """``PRAGMA journal_mode = WAL``, waiting out another process doing the same.

    The switch takes an exclusive lock and does not wait on the busy handler, so two
    processes opening a new file together can see "database is locked": try again.
    """
    deadline = time.monotonic() + patience_s
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class SqliteConnection:
    """Opens the file and runs operations on its thread; the ledger's statements build on it."""

    def __init__(
        self,
        path: str | Path,
        *,
        durable_adds: bool = True,
        busy_timeout_ms: int = 10_000,
        max_attempts: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``max_attempts``: a running job whose lease lapsed this many times is made dead
        (``error_code='lease_expired'``) instead of claimed again: a job that kills its
        worker must not loop forever. None: no limit (the worker's fail() decides)."""
        self.path = str(path)
        self._durable_adds = durable_adds
        self._busy_timeout_ms = busy_timeout_ms
        self._max_attempts = max_attempts
        self._clock = clock
        self._thread: DbThread | None = None

    # -- plumbing ---------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            mode = _switch_to_wal(conn, self._busy_timeout_ms / 1000)
            if mode.lower() != "wal" and self.path != ":memory:":
                raise RuntimeError(f"SQLite ledger {self.path}: WAL mode refused (got {mode})")
            conn.execute("PRAGMA synchronous = NORMAL")
            # savepoint and statement journals in memory, not in temp files (a write each)
            conn.execute("PRAGMA temp_store = MEMORY")
            migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    async def _read(self, op: Callable[[sqlite3.Connection], Any]) -> Any:
        if self._thread is None:
            raise RuntimeError("ledger is not open")
        return await self._thread.submit(op)

    async def _write(self, op: Callable[[sqlite3.Connection], Any], durable: bool = False) -> Any:
        if self._thread is None:
            raise RuntimeError("ledger is not open")
        return await self._thread.submit(op, write=True, durable=durable)

    async def open(self) -> None:
        if self._thread is not None:
            return
        thread = DbThread(self._connect, name=f"sqlite-ledger:{Path(self.path).name}")
        try:
            await thread.start()
        except BaseException:
            await thread.stop()
            raise
        self._thread = thread

    async def close(self) -> None:
        if self._thread is not None:
            thread, self._thread = self._thread, None
            await thread.stop()
