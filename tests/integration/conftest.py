"""PostgreSQL for any integration test: the machine's server (a fresh database per
session, dropped after) or a throwaway cluster from the local binaries; ``any_ledger``
runs a test once on each ledger."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from scripts.infra import PostgresServer

from media_bridge.ledger import Ledger, ledger_from_url
from media_bridge.ledger.postgres import PostgresLedger


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer.find_or_start()
    except FileNotFoundError as exc:
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_url(pg_server: PostgresServer) -> Iterator[str]:
    """A fresh database for this test session."""
    name = f"mb_test_{secrets.token_hex(4)}"
    url = pg_server.create_database(name)
    yield url
    pg_server.drop_database(name)


@pytest.fixture
async def pg_ledger(pg_url: str) -> AsyncIterator[PostgresLedger]:
    """An open PostgreSQL ledger with empty tables."""
    ledger = PostgresLedger(pg_url, reconnect_window_s=5)
    await ledger.open()
    pool = ledger._require_pool()
    await pool.execute("TRUNCATE jobs, rejected_events, speech_clips")
    yield ledger
    await ledger.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path}/ledger.db"


@pytest.fixture
async def any_ledger(any_ledger_url: str) -> AsyncIterator[Ledger]:
    """An open, empty ledger: the test runs on SQLite and on PostgreSQL."""
    opened = ledger_from_url(any_ledger_url)
    await opened.open()
    if isinstance(opened, PostgresLedger):
        await opened._require_pool().execute("TRUNCATE jobs, rejected_events, speech_clips")
    yield opened
    await opened.close()
