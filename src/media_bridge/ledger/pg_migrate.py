"""Versioned schema migrations for the PostgreSQL ledger.

Migrations are the ``pg_migrations/NNNN_name.sql`` files shipped in the package,
applied in order at ledger open. Several workers start at once, so the whole run
happens in one transaction under a transaction-scoped advisory lock: the first
worker migrates, the others wait and then find nothing to do.

Why hand-written: the run is these few lines on the ledger's own asyncpg connection,
and what it must guarantee is what the libraries leave out. Alembic needs SQLAlchemy
(not a dependency) and an ``env.py``, and takes no lock of its own: concurrent upgrades
race unless the env script adds one; yoyo-migrations runs on a synchronous DB-API driver
(psycopg), not asyncpg, and locks with a table of its own. Neither refuses a database
whose schema is newer than the code, which a rolling upgrade must.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

#: an arbitrary constant shared by every worker: "the media-bridge ledger schema"
MIGRATION_LOCK_ID = 0x6D625F6C6564  # "mb_led"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def bundled_migrations() -> list[Migration]:
    """The migrations shipped with this version of the bridge, oldest first."""
    found: list[Migration] = []
    for entry in resources.files("media_bridge.ledger.pg_migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            sql = entry.read_text(encoding="utf-8")
            found.append(Migration(int(match.group(1)), match.group(2), sql))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate ledger migration versions: {versions}")
    return found


async def migrate(conn: asyncpg.Connection, migrations: list[Migration] | None = None) -> list[int]:
    """Apply the migrations this database lacks; returns the versions applied now."""
    wanted = bundled_migrations() if migrations is None else migrations
    applied_now: list[int] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_ID)
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version integer PRIMARY KEY,
                   name text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        rows = await conn.fetch("SELECT version FROM schema_migrations")
        done = {int(row["version"]) for row in rows}
        newest_known = max((m.version for m in wanted), default=0)
        if done and max(done) > newest_known:
            raise RuntimeError(
                f"ledger schema version {max(done)} is newer than this bridge knows "
                f"({newest_known}): upgrade the bridge"
            )
        for migration in wanted:
            if migration.version in done:
                continue
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                migration.version,
                migration.name,
            )
            applied_now.append(migration.version)
    return applied_now
