"""Amplification by a key holder: a body of many events, an event of many media.

Before: a 200 KB array of ``1``s took 24.5 s, wrote 100,000 rejected rows one commit
each and answered 4.4 MB; one 1 MiB event planned 18,878 attachment jobs. Now a body
of more than ``intake.max_events_per_body`` events is refused whole at once (413, one
rejected row), a body's rejections take one ledger write, the answer carries counts,
and an event naming more than ``intake.max_media_per_message`` media for one message
is rejected. Run on both ledgers.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from media_bridge import metrics
from media_bridge.config import IntakeSettings
from media_bridge.intake.http_app import build_intake_app
from media_bridge.intake.ingest import Intake
from media_bridge.ledger import Ledger
from tests.integration.bridge.harness import serving
from tests.integration.poisoned import job_keys, voice_note_event

pytestmark = pytest.mark.integration

API_KEY = "limits-key"


class _Server:
    def __init__(self, url: str) -> None:
        self.url = url

    async def post(self, body: bytes) -> tuple[int, Any, int]:
        headers = {"content-type": "application/json", "x-api-key": API_KEY}
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.url}/events", data=body, headers=headers) as response,
        ):
            raw = await response.read()
            return response.status, json.loads(raw), len(raw)


class _Counting:
    """Counts the ledger writes of rejected events."""

    def __init__(self, ledger: Ledger) -> None:
        self.writes = 0
        self.ledger = ledger
        many = ledger.record_rejected_many
        one = ledger.record_rejected

        async def record_many(rows: Any) -> None:
            self.writes += 1
            await many(rows)

        async def record_one(source: str, reason: str, raw: bytes) -> None:
            self.writes += 1
            await one(source, reason, raw)

        ledger.record_rejected_many = record_many  # type: ignore[method-assign]
        ledger.record_rejected = record_one  # type: ignore[method-assign]


@pytest.fixture
def counting(any_ledger: Ledger) -> _Counting:
    return _Counting(any_ledger)


@pytest.fixture
async def server(counting: _Counting) -> AsyncIterator[_Server]:
    settings = IntakeSettings(api_key=API_KEY)
    intake = Intake(
        counting.ledger, media_types=None, max_media_per_message=settings.max_media_per_message
    )
    async with serving(build_intake_app(intake, settings)) as url:
        yield _Server(url)


async def test_an_over_limit_body_is_refused_whole_in_under_a_second(
    server: _Server, counting: _Counting
) -> None:
    body = b"[" + b",".join([b"1"] * 100_000) + b"]"  # the 200 KB array of the review
    refused = metrics.counter_value(metrics.INTAKE_REFUSED, reason="too_many_events")
    started = time.monotonic()
    status, answer, size = await server.post(body)
    elapsed = time.monotonic() - started

    assert status == 413
    assert answer == {"error": "too many events", "limit_events": 100}
    # one write and one row below say it was refused whole; the bound only catches a body
    # parsed event by event (minutes), not the speed, which a loaded CI machine cannot promise
    assert elapsed < 10.0
    assert size < 200
    rows = await counting.ledger.list_rejected(limit=10)
    assert len(rows) == 1
    assert rows[0]["reason"] == "too many events in one body: 100000, the limit is 100"
    assert counting.writes == 1
    now = metrics.counter_value(metrics.INTAKE_REFUSED, reason="too_many_events")
    assert now == refused + 1


async def test_a_body_of_bad_events_is_rejected_in_one_write_with_counts(
    server: _Server, counting: _Counting
) -> None:
    good = json.dumps(voice_note_event("good-1"))
    body = ("[" + ",".join(["1"] * 99 + [good]) + "]").encode()
    status, answer, size = await server.post(body)

    assert status == 202
    assert answer["accepted"] == 1
    assert answer["rejected"] == 99
    assert sum(answer["reasons"].values()) == 99
    assert len(answer["reasons"]) == 1
    assert size < 500, "counts, not every reason"
    assert counting.writes == 1, "one ledger write for the body's 99 rejections"
    assert len(await counting.ledger.list_rejected(limit=1000)) == 99
    assert await job_keys(counting.ledger)


def _with_media(conversation_id: str, count: int) -> dict[str, Any]:
    doc = voice_note_event(conversation_id)
    message = doc["detail"]["eventBody"]["participants"][0]["messages"][0]
    first = message["media"][0]
    message["media"] = []
    for n in range(count):
        media = copy.deepcopy(first)
        media["id"] = f"media-{n}"
        message["media"].append(media)
    return doc


async def test_an_event_naming_too_many_media_for_one_message_is_rejected(
    server: _Server, counting: _Counting
) -> None:
    crowded = _with_media("crowded", 51)
    fine = _with_media("fine", 50)
    status, answer, _ = await server.post(json.dumps([crowded, fine]).encode())

    assert status == 202
    assert answer["accepted"] == 1
    assert answer["rejected"] == 1
    assert "too many media for one message: 51, the limit is 50" in answer["reasons"]
    keys = await job_keys(counting.ledger)
    assert not [k for k in keys if ":crowded:" in k]
    assert len([k for k in keys if k.startswith("attachment:fine:") and ":media-" in k]) == 50
    (kept,) = await counting.ledger.list_rejected()
    assert kept["reason"].startswith("too many media")
