"""The worker turns handler outcomes into ledger states (real SQLite ledger in memory)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from media_bridge.errors import NotFound, PermissionMissing, RateLimited, Transient, UrlExpired
from media_bridge.genesys import budget
from media_bridge.jobs import JobOutcome
from media_bridge.ledger import ledger_from_url
from media_bridge.ledger.base import Ledger
from media_bridge.types import Job, JobKind, JobState, NewJob
from media_bridge.worker.loop import RetryPolicy, Worker
from tests.unit.handlers.fakes import unused_context


@pytest.fixture
async def ledger() -> AsyncIterator[Ledger]:
    opened = ledger_from_url("sqlite:///:memory:")
    await opened.open()
    yield opened
    await opened.close()


def _job(attempts: int) -> Job:
    now = datetime.now(UTC)
    return Job("k", JobKind.TEXT, {}, JobState.RUNNING, attempts, now, now, now)


def test_retry_policy() -> None:
    policy = RetryPolicy(max_attempts=3, base_s=1.0, max_s=10.0)
    now = datetime.now(UTC)
    assert policy.next_attempt(_job(1), NotFound("gone")) is None
    assert policy.next_attempt(_job(1), PermissionMissing(["a:b:c"], any_of=False)) is None
    assert policy.next_attempt(_job(3), Transient("again")) is None
    waited = policy.next_attempt(_job(1), RateLimited(30.0))
    assert waited is not None
    assert waited - now >= timedelta(seconds=29.9)
    backoff = policy.next_attempt(_job(2), Transient("again"))
    assert backoff is not None
    assert backoff - now <= timedelta(seconds=2.1)
    soon = policy.next_attempt(_job(1), UrlExpired("stale"))
    assert soon is not None
    assert soon - now <= timedelta(seconds=1.1)


async def _run(ledger: Ledger, handler: Any) -> Job:
    await ledger.add_jobs([NewJob("text:c:m", JobKind.TEXT, {"n": 1})])
    worker = Worker(ledger, {JobKind.TEXT: handler}, unused_context(), worker_id="w", concurrency=2)
    await worker.run(until_idle=True)
    job = await ledger.get("text:c:m")
    assert job is not None
    return job


async def test_success_is_done_with_its_result(ledger: Ledger) -> None:
    async def ok(job: Job, ctx: Any) -> JobOutcome:
        return JobOutcome(result={"delivered": job.payload["n"]})

    job = await _run(ledger, ok)
    assert job.state is JobState.DONE
    assert job.result == {"delivered": 1, "api_requests": 0}


async def test_the_result_records_the_platform_api_requests_the_run_spent(
    ledger: Ledger,
) -> None:
    async def reads(job: Job, ctx: Any) -> JobOutcome:
        budget.spend("/api/v2/conversations/messages/c/messages/m")
        budget.spend("/api/v2/downloads/d")
        return JobOutcome(result={"delivered": 1})

    budget.spend("/api/v2/downloads/outside")  # not inside a job: charged to none
    job = await _run(ledger, reads)
    assert job.result == {"delivered": 1, "api_requests": 2}


async def test_missing_permission_parks_the_job_dead_with_the_permission_named(
    ledger: Ledger,
) -> None:
    async def denied(job: Job, ctx: Any) -> JobOutcome:
        raise PermissionMissing(["recording:recording:view"], any_of=False)

    job = await _run(ledger, denied)
    assert job.state is JobState.DEAD
    assert job.error_code == "permission_missing"
    assert "recording:recording:view" in (job.last_error or "")


async def test_transient_failure_is_retried_later_and_secrets_are_redacted(
    ledger: Ledger,
) -> None:
    async def flaky(job: Job, ctx: Any) -> JobOutcome:
        raise Transient("GET https://s3.example/x.ogg?Signature=abc failed: Bearer tok123")

    job = await _run(ledger, flaky)
    assert job.state is JobState.RETRY
    assert "abc" not in (job.last_error or "")
    assert "tok123" not in (job.last_error or "")


async def test_a_crashing_handler_does_not_kill_the_worker(ledger: Ledger) -> None:
    async def buggy(job: Job, ctx: Any) -> JobOutcome:
        raise KeyError("oops")

    job = await _run(ledger, buggy)
    assert job.state is JobState.RETRY
    assert job.error_code == "unexpected"


async def test_run_again_hands_the_job_back_with_new_jobs_recorded(ledger: Ledger) -> None:
    later = datetime.now(UTC) + timedelta(minutes=5)

    async def watch(job: Job, ctx: Any) -> JobOutcome:
        return JobOutcome(
            new_jobs=[NewJob("text:c:other", JobKind.TEXT, {"n": 2})], run_again_at=later
        )

    await ledger.add_jobs([NewJob("text:c:m", JobKind.TEXT, {"n": 1})])
    worker = Worker(ledger, {JobKind.TEXT: watch}, unused_context(), worker_id="w")
    claimed = await ledger.claim("w", 1, 60)
    assert [j.key for j in claimed] == ["text:c:m"]
    await worker._run_one(claimed[0])
    job = await ledger.get("text:c:m")
    assert job is not None
    assert job.state is JobState.PENDING
    assert abs((job.next_attempt_at - later).total_seconds()) < 1
    assert await ledger.existing_keys(["text:c:other"]) == {"text:c:other"}
