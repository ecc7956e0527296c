"""The golden ledger: a SQLite ledger written by the code of 2026-12-03 still runs.

``tests/fixtures/ledger/v1/`` was written once by ``scripts/ledger_fixture.py`` and is
frozen: jobs of every kind in each of pending, retry, dead and done, every key shape,
and rejected events. Key and payload code may change (issue 11) only as long as the
current code reads that file back as it was stored, and running it to completion against
the emulator delivers the same keys, leaving the same final states, as the code of the
day did. Only what the Ledger API returns is compared, never the table layout: a
migration that adds a column must keep this test green.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from scripts.ledger_fixture import (
    FIXTURE,
    emulator_config,
    key_shape,
    run_to_completion,
    schema_version,
    stored,
)

from genesys_emulator.testing import running_emulator
from media_bridge.ledger.schema import MIGRATIONS
from media_bridge.types import JobKind, JobState

pytestmark = pytest.mark.integration

#: every key shape in use on 2026-12-03: ``kind/prefix/parts``
KEY_SHAPES = {
    "attachment/attachment/4",  # attachment:{conv}:{message}:{media}
    "text/text/3",  # text:{conv}:{message}
    "text/transcript/4",  # transcript:{conv}:{communication}:{utterance}
    "conversation/conversation/2",  # conversation:{conv}
    "recording/recording/2",  # recording:{conv}
    "recording/recording/3",  # recording:{conv}:{recording}
    "transcript/transcript/3",  # transcript:{conv}:{communication}
}
SETTLED_STATES = {JobState.PENDING, JobState.RETRY, JobState.DEAD, JobState.DONE}


def _golden(name: str) -> Any:
    return json.loads((FIXTURE / name).read_text())


@pytest.fixture
def ledger_copy(tmp_path: Path) -> Path:
    """The frozen ledger, copied: opening a ledger may migrate it, never the fixture."""
    copy = tmp_path / "fixture" / "ledger.db"
    copy.parent.mkdir()
    shutil.copyfile(FIXTURE / "ledger.db", copy)
    return copy


def test_the_fixture_holds_every_kind_in_every_state_and_every_key_shape() -> None:
    jobs = _golden("jobs.json")["jobs"]
    pairs = {(JobKind(j["kind"]), JobState(j["state"])) for j in jobs}
    assert pairs == {(kind, state) for kind in JobKind for state in SETTLED_STATES}
    assert {key_shape(j["key"], j["kind"]) for j in jobs} == KEY_SHAPES
    assert len(_golden("rejected.json")) >= 3


async def test_the_current_code_reads_the_fixture_back_as_stored(ledger_copy: Path) -> None:
    golden = _golden("jobs.json")
    assert schema_version(ledger_copy) == golden["schema_version"]

    jobs, rejected = await stored(ledger_copy)

    # the old file is brought to the current schema through the migrations
    assert schema_version(ledger_copy) == len(MIGRATIONS) >= golden["schema_version"]
    assert [j["key"] for j in jobs] == [j["key"] for j in golden["jobs"]]
    assert jobs == golden["jobs"]  # kinds, states and payload JSON, key by key
    assert rejected == _golden("rejected.json")


@pytest.mark.timeout(60)
async def test_the_fixture_runs_to_completion_with_the_golden_deliveries(
    ledger_copy: Path, tmp_path: Path
) -> None:
    golden = _golden("deliveries.json")
    stored_states = {j["key"]: JobState(j["state"]) for j in _golden("jobs.json")["jobs"]}

    with running_emulator(emulator_config()) as emu:
        ran = await run_to_completion(ledger_copy, tmp_path / "run", emu)

    # dead jobs stay dead, every other job is done; no job appeared or vanished
    assert set(ran["states"]) == set(stored_states)
    for key, state in ran["states"].items():
        expected = JobState.DEAD if stored_states[key] is JobState.DEAD else JobState.DONE
        assert state == expected, key
    # nothing delivered twice
    assert not [k for k, n in Counter(s["key"] for s in ran["sidecars"]).items() if n > 1]
    assert not [k for k, n in Counter(ran["nlp_keys"]).items() if n > 1]
    # only jobs that were still to run delivered anything
    waiting = {k for k, s in stored_states.items() if s in {JobState.PENDING, JobState.RETRY}}
    assert {s["key"] for s in ran["sidecars"]} <= waiting
    # and exactly what the code of the day delivered
    assert ran["sidecars"] == golden["sidecars"]
    assert ran["nlp_keys"] == golden["nlp_keys"]
    assert ran["states"] == golden["states"]
