"""Real servers for the scale-out tests, started once per session on free ports.

`make test` needs nothing extra: moto (AWS) and Tansu (Kafka) run as subprocesses,
PostgreSQL comes from ``tests/integration/conftest.py``; ``private_pg`` is a throwaway
cluster a test may stop and start.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from scripts.infra import AWS_TEST_ENV, MotoServer, PostgresServer, TansuBroker


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The 1,000-attachment runs (``slow``) take minutes: only with ``-m slow``."""
    if "slow" in (config.getoption("markexpr") or ""):
        return
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason="1,000-attachment run: select it with -m slow")
    for item in items:
        if "slow" in item.keywords and here in Path(str(item.path)).parents:
            item.add_marker(skip)


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
