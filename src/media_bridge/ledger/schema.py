"""The SQLite ledger's schema and its migrations, versioned with ``PRAGMA user_version``.

Append a migration to ``MIGRATIONS`` to change the schema; never edit a released one.
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[str, ...] = (
    # 1: jobs and rejected events
    """
    CREATE TABLE jobs (
        key             TEXT PRIMARY KEY,
        kind            TEXT NOT NULL,
        state           TEXT NOT NULL CHECK (state IN ('pending','running','done','retry','dead')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,          -- epoch seconds UTC, = lease_until when running
        lease_until     REAL,
        worker_id       TEXT,
        payload         TEXT NOT NULL,          -- JSON
        result          TEXT,                   -- JSON
        last_error      TEXT,
        error_code      TEXT,
        rerun           INTEGER NOT NULL DEFAULT 0,  -- reopened while running: run once more
        created_at      REAL NOT NULL,
        updated_at      REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX jobs_state_next ON jobs (state, next_attempt_at);
    CREATE INDEX jobs_due ON jobs (next_attempt_at)
        WHERE state IN ('pending', 'retry', 'running');
    CREATE TABLE rejected_events (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        source      TEXT NOT NULL,
        reason      TEXT NOT NULL,
        raw         BLOB NOT NULL,
        received_at REAL NOT NULL
    );
    """,
    # 2: enrolment progress: one row per (speaker key, job key), so a re-run adds nothing
    """
    CREATE TABLE speech_clips (
        speaker_key  TEXT NOT NULL,
        job_key      TEXT NOT NULL,
        net_speech_s REAL NOT NULL,
        recorded_at  REAL NOT NULL,             -- epoch seconds UTC
        PRIMARY KEY (speaker_key, job_key)
    ) WITHOUT ROWID;
    """,
    # 3: earlier releases kept the caller's ANI in recording payloads: scrub it
    """
    UPDATE jobs SET payload = json_remove(payload, '$.call.ani')
        WHERE kind = 'recording' AND json_extract(payload, '$.call.ani') IS NOT NULL;
    """,
    # 4: earlier releases kept an event's media URL (signed URLs included) in attachment
    # payloads: keep only a plain Downloads link (the only kind ever used), scrub the rest
    """
    UPDATE jobs SET payload = json_remove(payload, '$.url')
        WHERE kind = 'attachment' AND json_extract(payload, '$.url') IS NOT NULL
        AND NOT (
            json_extract(payload, '$.url') GLOB 'http*://*/api/v2/downloads/*'
            AND json_extract(payload, '$.url') NOT GLOB '*[?#@]*'
            AND json_extract(payload, '$.url') NOT GLOB '*/api/v2/downloads/*/*'
        );
    """,
    # 5: priority classes (``media_bridge.jobs.priority``): claims take live jobs first. Jobs of
    # earlier releases that are still to run get their class from what they are: a backfill
    # job by its payload's event topic, a transcript fetch deferred, the rest live
    """
    ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
    UPDATE jobs SET priority = 2
        WHERE state IN ('pending', 'retry', 'running')
        AND json_extract(payload, '$.event.topic') = 'backfill';
    UPDATE jobs SET priority = 1
        WHERE state IN ('pending', 'retry', 'running') AND kind = 'transcript' AND priority = 0;
    CREATE INDEX jobs_due_by_priority ON jobs (priority, next_attempt_at)
        WHERE state IN ('pending', 'retry', 'running');
    DROP INDEX jobs_due;
    """,
)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to the latest version, one transaction per migration.

    Several processes may open one new file at once: the version is read again inside
    each write transaction, so only the first applies a migration and the others see it.
    """
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = schema_version(conn)
            if version > len(MIGRATIONS):
                raise RuntimeError(
                    f"ledger schema version {version} is newer than this program knows "
                    f"({len(MIGRATIONS)}): upgrade media-bridge"
                )
            if version == len(MIGRATIONS):
                conn.execute("COMMIT")
                return version
            # executescript would commit first; run statement by statement inside our transaction
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
