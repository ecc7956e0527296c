"""The PostgreSQL ledger against the shared ledger contract (tests/unit/ledger/contract.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from media_bridge.ledger import ledger_from_url
from media_bridge.ledger.postgres import PostgresLedger
from tests.unit.ledger.contract import (
    LedgerContract,
    check_max_attempts_parks_a_job_whose_worker_keeps_dying,
)


class TestPostgresLedgerContract(LedgerContract):
    """Every contract test, on this backend."""


pytestmark = pytest.mark.integration


@pytest.fixture
async def ledger(pg_ledger: PostgresLedger) -> PostgresLedger:
    return pg_ledger


@pytest.fixture
def ledger_factory(pg_url: str) -> Callable[[], PostgresLedger]:
    return lambda: PostgresLedger(pg_url)


def test_postgres_urls_select_this_backend(pg_url: str) -> None:
    ledger = ledger_from_url(pg_url + "?max_attempts=3&pool_max=2")
    assert isinstance(ledger, PostgresLedger)
    assert ledger._max_attempts == 3
    assert "max_attempts" not in ledger._dsn
    assert isinstance(
        ledger_from_url(pg_url.replace("postgresql://", "postgres://")), PostgresLedger
    )


async def test_max_attempts_parks_a_job_whose_worker_keeps_dying(
    pg_ledger: PostgresLedger, pg_url: str
) -> None:
    ledger = PostgresLedger(pg_url, max_attempts=1)
    await ledger.open()
    try:
        await check_max_attempts_parks_a_job_whose_worker_keeps_dying(ledger)
    finally:
        await ledger.close()
