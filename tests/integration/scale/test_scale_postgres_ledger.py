"""PostgreSQL-specific ledger behaviour: concurrent claims, leases, migrations, reconnects."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from media_bridge.jobs.priority import Priority
from media_bridge.ledger.pg_migrate import Migration, bundled_migrations, migrate
from media_bridge.ledger.postgres import PostgresLedger
from media_bridge.types import JobKind, JobState, NewJob

pytestmark = pytest.mark.integration


def _jobs(n: int, prefix: str = "attachment:c:m") -> list[NewJob]:
    return [NewJob(f"{prefix}:{i}", JobKind.ATTACHMENT, {"i": i}) for i in range(n)]


async def test_concurrent_workers_never_claim_the_same_job(
    pg_ledger: PostgresLedger, pg_url: str
) -> None:
    assert await pg_ledger.add_jobs(_jobs(300)) == 300
    others = [PostgresLedger(pg_url) for _ in range(3)]
    for ledger in others:
        await ledger.open()
    try:
        claimed: dict[str, list[str]] = {}

        async def drain(ledger: PostgresLedger, worker: str) -> None:
            while batch := await ledger.claim(worker, 7, lease_seconds=60):
                for job in batch:
                    claimed.setdefault(job.key, []).append(worker)
                    assert job.state is JobState.RUNNING
                    assert job.worker_id == worker
                    assert await ledger.complete(job.key, worker, {"by": worker})

        await asyncio.gather(*(drain(ledger, f"w{i}") for i, ledger in enumerate(others)))
    finally:
        for ledger in others:
            await ledger.close()
    assert len(claimed) == 300
    assert all(len(workers) == 1 for workers in claimed.values())
    assert len({w for workers in claimed.values() for w in workers}) > 1
    assert (await pg_ledger.counts())[JobState.DONE] == 300


async def test_lapsed_lease_is_taken_over_and_old_worker_loses(pg_ledger: PostgresLedger) -> None:
    await pg_ledger.add_jobs(_jobs(1))
    [job] = await pg_ledger.claim("dead-worker", 10, lease_seconds=0.2)
    assert await pg_ledger.claim("w2", 10, lease_seconds=30) == []
    deadline = asyncio.get_running_loop().time() + 10
    taken: list[object] = []
    while not taken and asyncio.get_running_loop().time() < deadline:
        taken = list(await pg_ledger.claim("w2", 10, lease_seconds=30))
        await asyncio.sleep(0.05)
    assert [j.key for j in taken] == [job.key]  # type: ignore[attr-defined]
    assert not await pg_ledger.complete(job.key, "dead-worker", {})
    assert await pg_ledger.complete(job.key, "w2", {"ok": True})
    done = await pg_ledger.get(job.key)
    assert done is not None
    assert done.state is JobState.DONE
    assert done.attempts == 2


async def test_extend_lease_keeps_the_job(pg_ledger: PostgresLedger) -> None:
    await pg_ledger.add_jobs(_jobs(1))
    # a zero lease has lapsed at once: without the extension w2 would take the job now
    [job] = await pg_ledger.claim("w1", 1, lease_seconds=0)
    await pg_ledger.extend_lease([job.key], "w1", 60)
    assert await pg_ledger.claim("w2", 1, lease_seconds=30) == []
    refreshed = await pg_ledger.get(job.key)
    assert refreshed is not None
    assert refreshed.lease_until is not None
    assert refreshed.lease_until > datetime.now(UTC) + timedelta(seconds=30)


async def test_duplicate_keys_are_recorded_once(pg_ledger: PostgresLedger) -> None:
    batch = _jobs(5)
    assert await pg_ledger.add_jobs(batch + batch[:2]) == 5
    assert await pg_ledger.add_jobs(batch) == 0
    assert await pg_ledger.existing_keys([j.key for j in batch] + ["nope"]) == {
        j.key for j in batch
    }


async def test_kinds_filter_and_not_before(pg_ledger: PostgresLedger) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    await pg_ledger.add_jobs(
        [
            NewJob("text:c:1", JobKind.TEXT, {}),
            NewJob("attachment:c:1:a", JobKind.ATTACHMENT, {}),
            NewJob("attachment:c:2:a", JobKind.ATTACHMENT, {}, not_before=later),
        ]
    )
    got = await pg_ledger.claim("w", 10, 30, kinds=[JobKind.ATTACHMENT])
    assert [j.key for j in got] == ["attachment:c:1:a"]


async def test_migrations_are_versioned_and_applied_once(
    pg_ledger: PostgresLedger, pg_url: str
) -> None:
    conn = await asyncpg.connect(pg_url)
    try:
        assert await migrate(conn) == []  # already applied at open
        versions = [r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")]
        assert versions == [m.version for m in bundled_migrations()]
        extra = Migration(9999, "probe", "CREATE TABLE probe_9999 (x int)")
        try:
            applied = await migrate(conn, [*bundled_migrations(), extra])
            assert applied == [9999]
            with pytest.raises(RuntimeError, match="newer than this bridge"):
                await migrate(conn)
        finally:
            await conn.execute("DROP TABLE IF EXISTS probe_9999")
            await conn.execute("DELETE FROM schema_migrations WHERE version = 9999")
    finally:
        await conn.close()


async def test_concurrent_opens_migrate_safely(pg_server: object, pg_url: str) -> None:
    from scripts.infra import PostgresServer

    assert isinstance(pg_server, PostgresServer)
    name = pg_url.rsplit("/", 1)[1] + "_m"
    url = await asyncio.to_thread(pg_server.create_database, name)
    try:
        ledgers = [PostgresLedger(url) for _ in range(4)]
        await asyncio.gather(*(ledger.open() for ledger in ledgers))
        assert await ledgers[0].add_jobs(_jobs(2)) == 2
        for ledger in ledgers:
            await ledger.close()
    finally:
        await asyncio.to_thread(pg_server.drop_database, name)


async def test_reopen_done_job_and_operator_retry(pg_ledger: PostgresLedger) -> None:
    key = "conversation:c1"
    await pg_ledger.add_jobs([NewJob(key, JobKind.CONVERSATION, {"v": 1})])
    [job] = await pg_ledger.claim("w", 1, 30)
    assert await pg_ledger.complete(job.key, "w", {})
    assert await pg_ledger.add_jobs([NewJob(key, JobKind.CONVERSATION, {"v": 2}, reopen=True)]) == 1
    reopened = await pg_ledger.get(key)
    assert reopened is not None
    assert reopened.state is JobState.PENDING
    assert reopened.payload == {"v": 2}
    [job] = await pg_ledger.claim("w", 1, 30)
    assert await pg_ledger.fail(key, "w", "gone", "not_found", None)
    assert (await pg_ledger.get(key)).state is JobState.DEAD  # type: ignore[union-attr]
    assert await pg_ledger.retry(key)
    assert [j.key for j in await pg_ledger.claim("w", 1, 30)] == [key]


async def test_rejected_events_are_kept(pg_ledger: PostgresLedger) -> None:
    await pg_ledger.record_rejected("sqs:q", "not json", b"\x00garbage")
    [row] = await pg_ledger.list_rejected()
    assert row["source"] == "sqs:q"
    assert row["raw"] == "\x00garbage"


async def test_workers_ride_out_a_server_restart(private_pg: object) -> None:
    from scripts.infra import PostgresServer

    assert isinstance(private_pg, PostgresServer)
    url = await asyncio.to_thread(private_pg.create_database, "outage")
    ledger = PostgresLedger(url, reconnect_window_s=30)
    await ledger.open()
    try:
        await ledger.add_jobs(_jobs(3000))
        done: list[str] = []
        stop = asyncio.Event()

        async def work(name: str) -> None:
            while not stop.is_set():
                await ledger.counts()
                for job in await ledger.claim(name, 5, 30):
                    if await ledger.complete(job.key, name, {}):
                        done.append(job.key)

        workers = [asyncio.create_task(work(f"w{i}")) for i in range(4)]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while len(done) < 50 and loop.time() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.to_thread(private_pg.pause)
        await asyncio.sleep(1.5)
        await asyncio.to_thread(private_pg.resume)
        before = len(done)
        while len(done) < before + 50 and loop.time() < deadline:
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*workers)  # no worker died of the outage
        assert len(done) >= before + 50, "work resumed after the restart"
        assert len(done) == len(set(done))
    finally:
        await ledger.close()


async def payloads_after_upgrade(
    pg_server: object,
    pg_url: str,
    before: int,
    jobs: dict[str, tuple[str, dict[str, Any]]],
) -> dict[str, Any]:
    """Payloads of ``jobs`` (key -> kind, payload) written at the schema before migration
    ``before``, as they read once the remaining migrations ran (in a database of its own)."""
    from scripts.infra import PostgresServer

    assert isinstance(pg_server, PostgresServer)
    name = f"{pg_url.rsplit('/', 1)[1]}_up{before}"
    url = await asyncio.to_thread(pg_server.create_database, name)
    try:
        conn = await asyncpg.connect(url)
        try:
            await migrate(conn, [m for m in bundled_migrations() if m.version < before])
            for key, (kind, payload) in jobs.items():
                await conn.execute(
                    "INSERT INTO jobs (key, kind, state, payload, next_attempt_at) VALUES"
                    " ($1, $2, 'pending', $3::jsonb, now())",
                    key,
                    kind,
                    json.dumps(payload),
                )
            later = [m.version for m in bundled_migrations() if m.version >= before]
            assert later == await migrate(conn)
            return {
                r["key"]: json.loads(r["payload"])
                for r in await conn.fetch("SELECT key, payload::text AS payload FROM jobs")
            }
        finally:
            await conn.close()
    finally:
        await asyncio.to_thread(pg_server.drop_database, name)


async def test_the_ani_of_an_earlier_release_is_scrubbed(pg_server: object, pg_url: str) -> None:
    """A database at the previous release's schema keeps no caller ANI once migrated."""
    call = {"customer_participant_id": "p", "ani": "tel:+447700900123"}
    rows = await payloads_after_upgrade(
        pg_server,
        pg_url,
        4,
        {
            "recording:c:r": ("recording", {"conversation_id": "c", "call": call}),
            "text:c:m": ("text", {"conversation_id": "c", "ani": "kept: not a recording"}),
        },
    )
    assert rows["recording:c:r"]["call"] == {"customer_participant_id": "p"}
    assert rows["text:c:m"]["ani"] == "kept: not a recording"


async def test_the_event_urls_of_an_earlier_release_are_scrubbed(
    pg_server: object, pg_url: str
) -> None:
    """A database at schema 4 keeps no signed or other event URL in attachment payloads
    once migrated; a plain Downloads link stays."""
    signed = "https://bucket.s3.amazonaws.com/f.jpg?X-Amz-Signature=abc123secret"
    link = "https://api.mypurecloud.com/api/v2/downloads/abc123"
    old: dict[str, tuple[str, dict[str, Any]]] = {
        "attachment:c:m:1": ("attachment", {"url": signed, "name": "x"}),
        "attachment:c:m:2": ("attachment", {"url": link + "?x=1"}),
        "attachment:c:m:3": ("attachment", {"url": "https://api.x/api/v2/users"}),
        "attachment:c:m:4": ("attachment", {"url": link}),
        "attachment:c:m:5": ("attachment", {"url": None}),
        "text:c:m": ("text", {"url": "kept: not an attachment"}),
    }
    rows = await payloads_after_upgrade(pg_server, pg_url, 5, old)
    assert rows["attachment:c:m:1"] == {"name": "x"}
    assert rows["attachment:c:m:2"] == {}
    assert rows["attachment:c:m:3"] == {}
    assert rows["attachment:c:m:4"] == {"url": link}
    assert rows["attachment:c:m:5"] == {"url": None}
    assert rows["text:c:m"] == {"url": "kept: not an attachment"}


async def test_jobs_of_an_earlier_release_get_their_priority_class(
    pg_server: object, pg_url: str
) -> None:
    """A database at schema 5: a backfill job still to run becomes backfill, a transcript
    fetch deferred, the rest live; a done job keeps the default."""
    from scripts.infra import PostgresServer

    assert isinstance(pg_server, PostgresServer)
    backfill = {"conversation_id": "c", "event": {"topic": "backfill"}}
    live = {"conversation_id": "c", "event": {"topic": "v2.detail.events.conversation.c"}}
    old = {
        "conversation:old": ("conversation", "pending", backfill),
        "recording:old": ("recording", "retry", backfill),
        "transcript:c:x": ("transcript", "pending", live),
        "attachment:c:m:a": ("attachment", "pending", live),
        "conversation:done": ("conversation", "done", backfill),
    }
    url = await asyncio.to_thread(pg_server.create_database, f"{pg_url.rsplit('/', 1)[1]}_up6")
    try:
        conn = await asyncpg.connect(url)
        try:
            await migrate(conn, [m for m in bundled_migrations() if m.version < 6])
            for key, (kind, state, payload) in old.items():
                await conn.execute(
                    "INSERT INTO jobs (key, kind, state, payload, next_attempt_at, due_at)"
                    " VALUES ($1, $2, $3, $4::jsonb, now(), now())",
                    key,
                    kind,
                    state,
                    json.dumps(payload),
                )
            assert 6 in await migrate(conn)
            rows = {r["key"]: r["priority"] for r in await conn.fetch("SELECT * FROM jobs")}
        finally:
            await conn.close()
    finally:
        await asyncio.to_thread(pg_server.drop_database, f"{pg_url.rsplit('/', 1)[1]}_up6")
    assert rows == {
        "conversation:old": Priority.BACKFILL,
        "recording:old": Priority.BACKFILL,
        "transcript:c:x": Priority.DEFERRED,
        "attachment:c:m:a": Priority.LIVE,
        "conversation:done": Priority.LIVE,
    }
