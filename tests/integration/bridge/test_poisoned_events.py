"""One event no ledger can store never takes the good events of its batch down.

NUL, a lone surrogate or NaN/Infinity (all accepted by ``json.loads``) made PostgreSQL's
``jsonb`` refuse a whole ``add_jobs`` batch: the file source failed with nothing
recorded and the HTTP intake answered 503 forever. Run on both ledgers, through the
file source and the HTTP intake over a real socket.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from media_bridge.config import IntakeSettings
from media_bridge.events import envelope, parse_event
from media_bridge.intake import Intake, pump
from media_bridge.ledger import Ledger, ledger_from_url
from media_bridge.ledger.postgres import PostgresLedger
from media_bridge.planner import plan_jobs
from media_bridge.sources.file import FileSource
from media_bridge.sources.http import build_intake_app
from tests.integration.bridge.harness import serving

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).parents[2] / "fixtures" / "events" / "message_queue_voice_note.json"
API_KEY = "poison-key"
#: poison -> a fragment of its rejection reason
POISONS: dict[str, str] = {
    "nul": "NUL",
    "surrogate": "surrogate",
    "nan": "not finite",
    "infinity": "not finite",
    "overflow": "not finite",
}


def _event(conversation_id: str) -> dict[str, Any]:
    """The voice-note fixture for its own conversation (so its job keys are its own)."""
    doc: dict[str, Any] = json.loads(FIXTURE.read_bytes())
    doc["id"] = f"event-{conversation_id}"
    doc["detail"]["eventBody"]["id"] = conversation_id
    return doc


def _poisoned_line(poison: str) -> str:
    """One JSON line carrying ``poison`` where the planner would copy it into jobs."""
    doc = _event(f"bad-{poison}")
    media = doc["detail"]["eventBody"]["participants"][0]["messages"][0]["media"][0]
    if poison == "nul":
        media["name"] = "voice\x00note.ogg"
        return json.dumps(doc)
    if poison == "surrogate":
        media["name"] = "voice\ud800note.ogg"
        return json.dumps(doc)
    marker = 918273645
    media["contentLengthBytes"] = marker
    literal = {"nan": "NaN", "infinity": "-Infinity", "overflow": "1e999"}[poison]
    return json.dumps(doc).replace(str(marker), literal)


def _good_keys(ids: list[str]) -> set[str]:
    return {job.key for c in ids for job in plan_jobs(parse_event(_event(c)), None)}


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path}/ledger.db"


@pytest.fixture
async def ledger(ledger_url: str) -> AsyncIterator[Ledger]:
    opened = ledger_from_url(ledger_url)
    await opened.open()
    if isinstance(opened, PostgresLedger):
        await opened._require_pool().execute("TRUNCATE jobs, rejected_events")
    yield opened
    await opened.close()


async def _job_keys(ledger: Ledger) -> set[str]:
    return {job.key for job in await ledger.list_jobs(limit=1000)}


async def test_file_source_records_good_events_beside_poisoned_ones(
    ledger: Ledger, tmp_path: Path
) -> None:
    good = ["good-1", "good-2", "good-3"]
    lines = [json.dumps(_event(good[0]))]
    lines += [_poisoned_line(poison) for poison in POISONS]
    lines += [json.dumps(_event(c)) for c in good[1:]]
    events_file = tmp_path / "events.jsonl"
    events_file.write_text("\n".join(lines) + "\n")

    result = await pump(FileSource(events_file), Intake(ledger, media_types=None))

    assert result.events == len(good)
    assert await _job_keys(ledger) == _good_keys(good)
    rejected = await ledger.list_rejected()
    assert len(rejected) == len(POISONS)
    for row, (poison, reason_part) in zip(reversed(rejected), POISONS.items(), strict=True):
        assert reason_part in row["reason"], (poison, row["reason"])
        assert f"event-bad-{poison}" in row["raw"], "the event's bytes are kept"


class _Server:
    def __init__(self, url: str) -> None:
        self.url = url

    async def post(self, body: bytes) -> tuple[int, Any]:
        headers = {"content-type": "application/json", "x-api-key": API_KEY}
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.url}/events", data=body, headers=headers) as response,
        ):
            return response.status, await response.json()


@pytest.fixture
async def server(ledger: Ledger) -> AsyncIterator[_Server]:
    app = build_intake_app(Intake(ledger, media_types=None), IntakeSettings(api_key=API_KEY))
    async with serving(app) as url:
        yield _Server(url)


async def test_http_intake_records_good_events_beside_poisoned_ones(
    ledger: Ledger, server: _Server
) -> None:
    good = ["good-a", "good-b"]
    items = [
        json.dumps(_event(good[0])),
        *map(_poisoned_line, POISONS),
        json.dumps(_event(good[1])),
    ]
    status, answer = await server.post(f"[{','.join(items)}]".encode("utf-8", "surrogatepass"))

    assert status == 202
    assert answer["accepted"] == len(good)
    assert len(answer["rejected"]) == len(POISONS)
    assert await _job_keys(ledger) == _good_keys(good)
    assert len(await ledger.list_rejected()) == len(POISONS)


@pytest.mark.parametrize("poison", list(POISONS))
async def test_http_intake_refuses_a_lone_poisoned_event_for_good(
    ledger: Ledger, server: _Server, poison: str
) -> None:
    """400 (kept in the rejected table), not 503: EventBridge must not retry it forever."""
    status, answer = await server.post(_poisoned_line(poison).encode("utf-8", "surrogatepass"))

    assert status == 400
    assert POISONS[poison] in answer["rejected"][0]
    assert await _job_keys(ledger) == set()
    (kept,) = await ledger.list_rejected()
    assert POISONS[poison] in kept["reason"]


async def test_a_batch_the_ledger_refuses_is_written_event_by_event(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second line of defence: with the parse-time check off, a lone surrogate in a
    conversation id reaches the ledger, which refuses it (both backends): only that
    event is rejected, the good ones are recorded."""
    monkeypatch.setattr(envelope, "check_storable", lambda doc: None, raising=False)
    good = ["good-x", "good-y"]
    lines = [
        json.dumps(_event(good[0])),
        json.dumps(_event("bad\ud800id")),
        json.dumps(_event(good[1])),
    ]
    events_file = tmp_path / "events.jsonl"
    events_file.write_text("\n".join(lines) + "\n")

    result = await pump(FileSource(events_file), Intake(ledger, media_types=None))

    assert result.events == len(good)
    assert await _job_keys(ledger) == _good_keys(good)
    (kept,) = await ledger.list_rejected()
    assert "the ledger refused" in kept["reason"]
    assert kept["source"].endswith(":2")
