"""The SQLite ledger against the ledger contract, plus SQLite-specific behaviour."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from media_bridge.jobs.priority import Priority
from media_bridge.ledger import LedgerUrlError, SqliteLedger, ledger_from_url
from media_bridge.ledger.schema import MIGRATIONS
from media_bridge.types import JobKind, NewJob
from tests.unit.ledger.contract import (
    LedgerContract,
    check_max_attempts_parks_a_job_whose_worker_keeps_dying,
)


class TestSqliteLedgerContract(LedgerContract):
    """Every contract test, on this backend."""


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger" / "jobs.db"


@pytest.fixture
async def ledger(db_path: Path) -> AsyncIterator[SqliteLedger]:
    instance = SqliteLedger(db_path)
    await instance.open()
    yield instance
    await instance.close()


@pytest.fixture
def ledger_factory(db_path: Path) -> object:
    return lambda: SqliteLedger(db_path)


async def test_file_is_wal_and_schema_versioned(ledger: SqliteLedger, db_path: Path) -> None:
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master")}
    assert {"jobs", "rejected_events", "jobs_state_next", "jobs_due_by_priority"} <= tables


async def test_newer_schema_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as raw:
        raw.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(RuntimeError, match="newer than this program"):
        await SqliteLedger(db_path).open()


async def test_max_attempts_parks_a_job_whose_worker_keeps_dying(db_path: Path) -> None:
    ledger = SqliteLedger(db_path, max_attempts=1)
    await ledger.open()
    try:
        await check_max_attempts_parks_a_job_whose_worker_keeps_dying(ledger)
    finally:
        await ledger.close()


async def test_a_failing_operation_does_not_spoil_its_batch(ledger: SqliteLedger) -> None:
    def broken(db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO jobs (key) VALUES ('half')")  # violates NOT NULL

    outcomes = await asyncio.gather(
        ledger.add_jobs([NewJob("before", JobKind.TEXT, {})]),
        ledger._write(broken),
        ledger.add_jobs([NewJob("after", JobKind.TEXT, {})]),
        return_exceptions=True,
    )
    assert outcomes[0] == 1
    assert isinstance(outcomes[1], sqlite3.IntegrityError)
    assert outcomes[2] == 1
    assert await ledger.existing_keys(["before", "after", "half"]) == {"before", "after"}


async def test_unopened_ledger_says_so(db_path: Path) -> None:
    with pytest.raises(RuntimeError, match="not open"):
        await SqliteLedger(db_path).counts()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///var/ledger.db", "var/ledger.db"),
        ("sqlite:////tmp/abs/ledger.db", "/tmp/abs/ledger.db"),
        ("sqlite:///:memory:", ":memory:"),
    ],
)
def test_sqlite_urls(url: str, expected: str) -> None:
    ledger = ledger_from_url(url)
    assert isinstance(ledger, SqliteLedger)
    assert ledger.path == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://db/x", "unsupported ledger URL scheme"),
        ("sqlite://host/x.db", "sqlite:///relative"),
        ("sqlite:///", "no file path"),
        ("sqlite:///x.db?colour=blue", "unknown option"),
    ],
)
def test_bad_urls_are_explained(url: str, message: str) -> None:
    with pytest.raises(LedgerUrlError, match=message):
        ledger_from_url(url)


def test_postgres_urls_reach_the_postgres_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    import media_bridge.ledger as ledger_pkg

    made: list[str] = []

    class FakeModule:
        __name__ = "fake_postgres"

        @staticmethod
        def ledger_from_url(url: str) -> object:
            made.append(url)
            return object()

    # as on first use: the lazily loaded backends are not registered yet
    lazy = set(ledger_pkg._LAZY_BACKENDS)
    monkeypatch.setattr(
        ledger_pkg, "_BACKENDS", {k: v for k, v in ledger_pkg._BACKENDS.items() if k not in lazy}
    )
    monkeypatch.setattr("media_bridge.ledger.importlib.import_module", lambda name: FakeModule)
    ledger_from_url("postgresql://u@db/bridge")
    assert made == ["postgresql://u@db/bridge"]


def test_missing_postgres_backend_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    import media_bridge.ledger as ledger_pkg

    def missing(name: str) -> object:
        raise ModuleNotFoundError(name=name)

    # as on first use: the lazily loaded backends are not registered yet
    lazy = set(ledger_pkg._LAZY_BACKENDS)
    monkeypatch.setattr(
        ledger_pkg, "_BACKENDS", {k: v for k, v in ledger_pkg._BACKENDS.items() if k not in lazy}
    )
    monkeypatch.setattr("media_bridge.ledger.importlib.import_module", missing)
    with pytest.raises(LedgerUrlError, match="not part of this installation"):
        ledger_from_url("postgres://u@db/bridge")


async def test_memory_ledger_works() -> None:
    ledger = ledger_from_url("sqlite:///:memory:")
    await ledger.open()
    try:
        assert await ledger.add_jobs([NewJob("a", JobKind.TEXT, {})]) == 1
        assert [j.key for j in await ledger.claim("w", 5, 10)] == ["a"]
    finally:
        await ledger.close()


async def test_a_version_1_file_gains_the_speech_table_and_keeps_its_jobs(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path, isolation_level=None) as raw:
        for statement in MIGRATIONS[0].split(";"):
            if statement.strip():
                raw.execute(statement)
        raw.execute(
            "INSERT INTO jobs (key, kind, state, next_attempt_at, payload, created_at,"
            " updated_at) VALUES ('old', 'attachment', 'done', 0, '{}', 0, 0)"
        )
        raw.execute("PRAGMA user_version = 1")
    ledger = SqliteLedger(db_path)
    await ledger.open()
    try:
        old = await ledger.get("old")
        assert old is not None
        assert old.state.value == "done"
        totals = await ledger.record_speech("ext:a", "old", 2.5)
        assert (totals.clips, totals.net_speech_s) == (1, 2.5)
    finally:
        await ledger.close()
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


async def test_the_ani_of_an_earlier_release_is_scrubbed(db_path: Path) -> None:
    """A ledger written by the previous release (schema 2) keeps no caller ANI after open."""
    db_path.parent.mkdir(parents=True)
    old_call = {"customer_participant_id": "p", "ani": "tel:+447700900123", "dnis": "tel:+1800"}
    with sqlite3.connect(db_path, isolation_level=None) as raw:
        for migration in MIGRATIONS[:2]:
            for statement in migration.split(";"):
                if statement.strip():
                    raw.execute(statement)
        for key, kind, payload in (
            ("recording:c:r", "recording", {"conversation_id": "c", "call": old_call}),
            ("attachment:c:m:a", "attachment", {"conversation_id": "c", "name": "x"}),
        ):
            raw.execute(
                "INSERT INTO jobs (key, kind, state, next_attempt_at, payload, created_at,"
                " updated_at) VALUES (?, ?, 'pending', 0, ?, 0, 0)",
                (key, kind, json.dumps(payload)),
            )
        raw.execute("PRAGMA user_version = 2")
    ledger = SqliteLedger(db_path)
    await ledger.open()
    try:
        recording = await ledger.get("recording:c:r")
        attachment = await ledger.get("attachment:c:m:a")
    finally:
        await ledger.close()
    assert recording is not None
    assert attachment is not None
    assert recording.payload["call"] == {"customer_participant_id": "p", "dnis": "tel:+1800"}
    assert attachment.payload == {"conversation_id": "c", "name": "x"}
    assert "447700900123" not in db_path.read_bytes().decode("latin-1")


SIGNED = "https://bucket.s3.amazonaws.com/f.jpg?X-Amz-Signature=abc123secret&X-Amz-Expires=600"
PLAIN_LINK = "https://api.mypurecloud.com/api/v2/downloads/abc123"


async def test_the_event_urls_of_an_earlier_release_are_scrubbed(db_path: Path) -> None:
    """A ledger written by the previous release (schema 3) keeps no signed or other event
    URL in attachment payloads after open; a plain Downloads link stays."""
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path, isolation_level=None) as raw:
        for migration in MIGRATIONS[:3]:
            for statement in migration.split(";"):
                if statement.strip():
                    raw.execute(statement)
        for key, kind, state, payload in (
            ("attachment:c:m:1", "attachment", "pending", {"url": SIGNED, "name": "x"}),
            ("attachment:c:m:2", "attachment", "dead", {"url": PLAIN_LINK + "?x=1"}),
            ("attachment:c:m:3", "attachment", "done", {"url": "https://api.x/api/v2/users"}),
            ("attachment:c:m:4", "attachment", "pending", {"url": PLAIN_LINK}),
            ("attachment:c:m:5", "attachment", "pending", {"url": None}),
            ("text:c:m", "text", "pending", {"url": "kept: not an attachment"}),
        ):
            raw.execute(
                "INSERT INTO jobs (key, kind, state, next_attempt_at, payload, created_at,"
                " updated_at) VALUES (?, ?, ?, 0, ?, 0, 0)",
                (key, kind, state, json.dumps(payload)),
            )
        raw.execute("PRAGMA user_version = 3")
    ledger = SqliteLedger(db_path)
    await ledger.open()
    try:
        payloads = {}
        for key in ("attachment:c:m:1", "attachment:c:m:2", "attachment:c:m:3"):
            job = await ledger.get(key)
            assert job is not None
            payloads[key] = job.payload
        kept = await ledger.get("attachment:c:m:4")
        text = await ledger.get("text:c:m")
    finally:
        await ledger.close()
    assert payloads["attachment:c:m:1"] == {"name": "x"}
    assert payloads["attachment:c:m:2"] == {}
    assert payloads["attachment:c:m:3"] == {}
    assert kept is not None
    assert kept.payload == {"url": PLAIN_LINK}
    assert text is not None
    assert text.payload == {"url": "kept: not an attachment"}
    with sqlite3.connect(db_path) as raw:
        raw.execute("VACUUM")
    assert "abc123secret" not in db_path.read_bytes().decode("latin-1")


async def test_jobs_of_an_earlier_release_get_their_priority_class(db_path: Path) -> None:
    """A ledger of the previous release (schema 4): a backfill job still to run becomes
    backfill, a transcript fetch deferred, the rest live; live jobs are claimed first."""
    db_path.parent.mkdir(parents=True)
    backfill = {"conversation_id": "c", "event": {"topic": "backfill", "event_id": "backfill"}}
    live = {"conversation_id": "c", "event": {"topic": "v2.detail.events.conversation.c"}}
    with sqlite3.connect(db_path, isolation_level=None) as raw:
        for migration in MIGRATIONS[:4]:
            for statement in migration.split(";"):
                if statement.strip():
                    raw.execute(statement)
        for key, kind, state, due, payload in (
            ("conversation:old", "conversation", "pending", 1, backfill),
            ("recording:old", "recording", "retry", 2, backfill),
            ("transcript:c:x", "transcript", "pending", 3, live),
            ("attachment:c:m:a", "attachment", "pending", 4, live),
            ("conversation:done", "conversation", "done", 0, backfill),
        ):
            raw.execute(
                "INSERT INTO jobs (key, kind, state, next_attempt_at, payload, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, 0, 0)",
                (key, kind, state, due, json.dumps(payload)),
            )
        raw.execute("PRAGMA user_version = 4")
    ledger = SqliteLedger(db_path)
    await ledger.open()
    try:
        classes = {}
        for key in ("conversation:old", "recording:old", "transcript:c:x", "attachment:c:m:a"):
            job = await ledger.get(key)
            assert job is not None
            classes[key] = job.priority
        claimed = [j.key for j in await ledger.claim("w", 1, 30)]
    finally:
        await ledger.close()
    assert classes == {
        "conversation:old": Priority.BACKFILL,
        "recording:old": Priority.BACKFILL,
        "transcript:c:x": Priority.DEFERRED,
        "attachment:c:m:a": Priority.LIVE,
    }
    assert claimed == ["attachment:c:m:a"]  # due last, but live
