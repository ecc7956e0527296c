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
from media_bridge.intake.events import envelope
from media_bridge.intake.http_app import build_intake_app
from media_bridge.intake.ingest import Intake, pump
from media_bridge.intake.sources.file import FileSource
from media_bridge.ledger import Ledger
from tests.integration.bridge.harness import serving
from tests.integration.poisoned import POISONS, good_keys, job_keys, poisoned_line, voice_note_event

pytestmark = pytest.mark.integration

API_KEY = "poison-key"


@pytest.fixture
def ledger(any_ledger: Ledger) -> Ledger:
    return any_ledger


async def test_file_source_records_good_events_beside_poisoned_ones(
    ledger: Ledger, tmp_path: Path
) -> None:
    good = ["good-1", "good-2", "good-3"]
    lines = [json.dumps(voice_note_event(good[0]))]
    lines += [poisoned_line(poison) for poison in POISONS]
    lines += [json.dumps(voice_note_event(c)) for c in good[1:]]
    events_file = tmp_path / "events.jsonl"
    events_file.write_text("\n".join(lines) + "\n")

    result = await pump(FileSource(events_file), Intake(ledger, media_types=None))

    assert result.events == len(good)
    assert await job_keys(ledger) == good_keys(good)
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
        json.dumps(voice_note_event(good[0])),
        *map(poisoned_line, POISONS),
        json.dumps(voice_note_event(good[1])),
    ]
    status, answer = await server.post(f"[{','.join(items)}]".encode("utf-8", "surrogatepass"))

    assert status == 202
    assert answer["accepted"] == len(good)
    assert answer["rejected"] == len(POISONS)
    assert await job_keys(ledger) == good_keys(good)
    assert len(await ledger.list_rejected()) == len(POISONS)


@pytest.mark.parametrize("poison", list(POISONS))
async def test_http_intake_refuses_a_lone_poisoned_event_for_good(
    ledger: Ledger, server: _Server, poison: str
) -> None:
    """400 (kept in the rejected table), not 503: EventBridge must not retry it forever."""
    status, answer = await server.post(poisoned_line(poison).encode("utf-8", "surrogatepass"))

    assert status == 400
    assert answer["rejected"] == 1
    assert POISONS[poison] in next(iter(answer["reasons"]))
    assert await job_keys(ledger) == set()
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
        json.dumps(voice_note_event(good[0])),
        json.dumps(voice_note_event("bad\ud800id")),
        json.dumps(voice_note_event(good[1])),
    ]
    events_file = tmp_path / "events.jsonl"
    events_file.write_text("\n".join(lines) + "\n")

    result = await pump(FileSource(events_file), Intake(ledger, media_types=None))

    assert result.events == len(good)
    assert await job_keys(ledger) == good_keys(good)
    (kept,) = await ledger.list_rejected()
    assert "the ledger refused" in kept["reason"]
    assert kept["source"].endswith(":2")
