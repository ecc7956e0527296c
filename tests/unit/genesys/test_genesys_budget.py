"""Platform API requests counted per job run and by endpoint family."""

from __future__ import annotations

import asyncio

import pytest

from media_bridge.genesys import budget


@pytest.mark.parametrize(
    ("path", "family"),
    [
        ("/api/v2/conversations/messages/c1/messages/m1", "messages"),
        ("/api/v2/conversations/messages/c1/messages/bulk", "messages"),
        ("/api/v2/conversations/messages/c1", "conversations"),
        ("/api/v2/conversations/c1", "conversations"),
        ("/api/v2/conversations/c1/recordings", "recordings"),
        ("/api/v2/conversations/c1/recordings/r1", "recordings"),
        ("/api/v2/recording/batchrequests", "recordings"),
        ("/api/v2/downloads/d1", "downloads"),
        ("/api/v2/analytics/conversations/details/query", "analytics"),
        ("/api/v2/externalcontacts/contacts/x", "externalcontacts"),
        (
            "/api/v2/speechandtextanalytics/conversations/c1/communications/k/transcripturl",
            "transcripts",
        ),
        ("/oauth/token", "other"),
    ],
)
def test_family(path: str, family: str) -> None:
    assert budget.family(path) == family


async def test_counting_is_per_task_and_follows_tasks_a_job_starts() -> None:
    async def job(n: int) -> budget.RequestTally:
        with budget.counting() as spent:
            for _ in range(n):
                budget.spend("/api/v2/downloads/d")
                await asyncio.sleep(0)
            # a task the job starts (a single-flight read) charges the job
            await asyncio.create_task(_read())
        return spent

    async def _read() -> None:
        budget.spend("/api/v2/conversations/messages/c/messages/m")

    first, second = await asyncio.gather(job(1), job(3))
    assert (first.count, second.count) == (2, 4)
    assert second.by_family == {"downloads": 3, "messages": 1}
    assert budget.spend("/api/v2/downloads/d") == "downloads"  # outside a job: no tally
