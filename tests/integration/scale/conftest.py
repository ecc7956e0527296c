"""Real servers for the scale-out tests, started once per session on free ports.

`make test` needs nothing extra: moto (AWS) and Tansu (Kafka) run as subprocesses,
PostgreSQL is the machine's server (a fresh database per session, dropped after) or a
throwaway cluster from the local binaries.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from scripts.infra import AWS_TEST_ENV, MotoServer, PostgresServer, TansuBroker

from media_bridge.ledger.postgres import PostgresLedger


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The 1,000-attachment runs (``slow``) take minutes: only with ``-m slow``."""
    if "slow" in (config.getoption("markexpr") or ""):
        return
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason="1,000-attachment run: select it with -m slow")
    for item in items:
        if "slow" in item.keywords and here in Path(str(item.path)).parents:
            item.add_marker(skip)


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


@pytest.fixture
def private_pg() -> Iterator[PostgresServer]:
    """A throwaway cluster we may stop and start (never the machine's shared server)."""
    try:
        server = PostgresServer.start_local()
    except (FileNotFoundError, OSError) as exc:
        pytest.skip(f"no local PostgreSQL binaries to start a private cluster: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def aws_env() -> Iterator[dict[str, str]]:
    """Fake AWS credentials for boto clients (never real ones)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in AWS_TEST_ENV.items():
            patch.setenv(name, value)
        yield dict(AWS_TEST_ENV)


@pytest.fixture(scope="session")
def moto_server(
    aws_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MotoServer]:
    server = MotoServer(log_path=tmp_path_factory.mktemp("moto") / "moto.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tansu(
    moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TansuBroker]:
    """A Tansu broker storing its data in moto's S3: it survives a restart."""
    broker = TansuBroker(
        moto=moto_server,
        bucket=f"tansu-{secrets.token_hex(3)}",
        log_path=tmp_path_factory.mktemp("tansu") / "tansu.log",
    ).start()
    yield broker
    broker.stop()
