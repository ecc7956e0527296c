"""The PostgreSQL ledger's connection pool: connect, migrate, and ride out an outage.

A lost connection (PostgreSQL restarting, a failover) is retried for
``reconnect_window_s`` before the error reaches the caller; every retry is logged.
Lease bookkeeping commits asynchronously (``synchronous_commit = off`` on the pool);
``fetch_durable`` is for what must survive a server crash.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg

from media_bridge.errors import ConfigError, LedgerUnreachable
from media_bridge.ledger.pg_migrate import migrate
from media_bridge.observability import get_logger
from media_bridge.redact import redact_text, redact_url

T = TypeVar("T")
log = get_logger("media_bridge.ledger.postgres")

RETRYABLE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    # asyncpg can leave a pooled connection mid-operation after the server vanished
    asyncpg.InternalClientError,
)


def describe(exc: BaseException) -> str:
    text = redact_text(str(exc)).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def aware(moment: datetime | None) -> datetime | None:
    """Naive datetimes are taken as UTC (the bridge works in UTC throughout)."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def dsn(url: str) -> str:
    """Accept ``postgresql://``, ``postgres://`` and SQLAlchemy-style ``postgresql+asyncpg://``."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+", 1)[0] not in {"postgresql", "postgres"}:
        raise ConfigError(f"not a PostgreSQL URL: {redact_url(url)}")
    return f"postgresql://{rest}"


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


class PgConnection:
    """A small asyncpg pool that reconnects; the ledger's statements build on it."""

    def __init__(
        self,
        url: str,
        *,
        min_connections: int = 1,
        max_connections: int = 5,
        reconnect_window_s: float = 60.0,
        max_attempts: int | None = None,
    ) -> None:
        """``max_attempts``: a running job whose lease lapsed this many times is made dead
        (``error_code='lease_expired'``) instead of claimed again."""
        self._dsn = dsn(url)
        self._max_attempts = max_attempts
        self._min = min_connections
        self._max = max_connections
        self._reconnect_window_s = reconnect_window_s
        self._pool: asyncpg.Pool | None = None

    # -- lifecycle -------------------------------------------------------------

    async def open(self) -> None:
        """Connect (retrying for ``reconnect_window_s``, each attempt logged) and migrate.
        A server that never answered, or refused the login, is a ``LedgerUnreachable``."""
        if self._pool is not None:
            return
        where = redact_url(self._dsn)
        try:
            pool = await self._with_reconnect(self._create_pool, what="connect")
        except RETRYABLE_ERRORS as exc:
            raise LedgerUnreachable(
                f"the PostgreSQL ledger {where} did not answer within "
                f"{self._reconnect_window_s:g} s ({describe(exc)}); check ledger.url "
                "(MEDIA_BRIDGE_LEDGER__URL) and that the server is up"
            ) from None
        except (
            asyncpg.InvalidAuthorizationSpecificationError,
            asyncpg.InvalidPasswordError,
            asyncpg.InvalidCatalogNameError,
        ) as exc:
            raise LedgerUnreachable(
                f"the PostgreSQL ledger {where} refused the connection ({describe(exc)}); "
                "check the user, password and database in ledger.url (MEDIA_BRIDGE_LEDGER__URL)"
            ) from None
        try:
            async with pool.acquire() as conn:
                await migrate(conn)  # type: ignore[arg-type]  # pool proxy wraps a Connection
        except BaseException:
            await pool.close()
            raise
        self._pool = pool

    async def _create_pool(self) -> asyncpg.Pool:
        return await asyncpg.create_pool(
            self._dsn,
            min_size=self._min,
            max_size=self._max,
            init=_init_connection,
            command_timeout=60,
            # lease bookkeeping commits without waiting for the WAL flush; see _durable
            server_settings={"synchronous_commit": "off"},
        )

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    def _require_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("PostgresLedger used before open()")
        return self._pool

    async def _with_reconnect(
        self, operation: Callable[[], Awaitable[T]], *, what: str = "query"
    ) -> T:
        """Run ``operation``, retrying connection-level failures with backoff for a while;
        each retry is logged (``ledger.reconnect``) with the attempt and the error."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._reconnect_window_s
        delay = 0.1
        attempt = 0
        while True:
            attempt += 1
            try:
                return await operation()
            except RETRYABLE_ERRORS as exc:
                remaining = deadline - loop.time()
                if remaining < delay:
                    raise
                log.warning(
                    "ledger.reconnect",
                    operation=what,
                    attempt=attempt,
                    error=describe(exc),
                    retry_in_s=round(delay, 2),
                    gives_up_in_s=round(remaining, 1),
                )
                if self._pool is not None:
                    # drop every pooled connection: after an outage they are all dead
                    await self._pool.expire_connections()
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 2.0)

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async def run() -> list[asyncpg.Record]:
            async with self._require_pool().acquire() as conn:
                return list(await conn.fetch(sql, *args))

        return await self._with_reconnect(run)

    async def _fetch_durable(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """Like ``_fetch``, but the commit waits for the WAL flush (``synchronous_commit``)."""

        async def run() -> list[asyncpg.Record]:
            async with self._require_pool().acquire() as conn, conn.transaction():
                await conn.execute("SET LOCAL synchronous_commit = on")
                return list(await conn.fetch(sql, *args))

        return await self._with_reconnect(run)

    async def _execute(self, sql: str, *args: Any) -> str:
        async def run() -> str:
            async with self._require_pool().acquire() as conn:
                return str(await conn.execute(sql, *args))

        return await self._with_reconnect(run)
