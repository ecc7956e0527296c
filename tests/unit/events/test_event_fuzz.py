"""Mangled events never crash the parser: each gives a ParsedEvent or a Rejection, and
every payload planned from what parsed is stored by both ledgers (SQLite, PostgreSQL).

Mutations: of the tree (fields deleted or replaced by odd values), of the bytes (flips,
insertions, deletions, cuts), and poisons in every string field (NUL, a lone surrogate)
and every number field (NaN, Infinity, -Infinity, 1e999) of every fixture and of the
emulator's events. A few thousand cases in ``make test``; ``-m slow`` runs many more.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import build_scenario_events
from media_bridge.intake.events import ParseResult, Rejection, parse_payload_results
from media_bridge.jobs.planning import plan_jobs
from media_bridge.ledger import Ledger, ledger_from_url
from media_bridge.ledger.postgres import PostgresLedger
from media_bridge.types import NewJob
from tests.integration.conftest import pg_server, pg_url  # noqa: F401 (fixtures)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "events"
ODD_VALUES: list[Any] = [None, 0, -1, 1.5, "", "x", [], {}, [1, "a"], {"id": None}, True, "../.."]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _mutate(doc: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    mutated = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 3)):
        paths = _paths(mutated)
        if not paths:
            break
        path = rng.choice(paths)
        parent: Any = mutated
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and rng.random() < 0.4:
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(ODD_VALUES))
    return mutated


def test_mutated_fixtures_never_raise() -> None:
    rng = random.Random(20261124)
    docs = [
        json.loads(p.read_bytes())
        for p in sorted(FIXTURES.glob("*.json"))
        if not p.name.startswith("invalid_malformed")
    ]
    outcomes = {"ok": 0, "rejected": 0}
    for _ in range(1500):
        raw = json.dumps(_mutate(rng.choice(docs), rng)).encode()
        (result,) = parse_payload_results(raw)
        assert isinstance(result, ParseResult | Rejection)
        outcomes["ok" if isinstance(result, ParseResult) else "rejected"] += 1
        if isinstance(result, Rejection):
            assert not result.reason.startswith("unparseable"), "a type slipped through unchecked"
            assert result.raw == raw
        else:
            plan_jobs(result.event, None)  # planning what parsed must not raise either
    # both outcomes occur: the mutations reach the validating code
    assert outcomes["ok"] > 100
    assert outcomes["rejected"] > 100


def test_truncated_bytes_never_raise() -> None:
    raw = (FIXTURES / "message_queue_voice_note.json").read_bytes()
    for cut in range(0, len(raw), 37):
        for result in parse_payload_results(raw[:cut]):
            assert isinstance(result, ParseResult | Rejection)


# -- every fixture and emulator event, mutated, stored by both ledgers -------------

STRING_POISONS = ("\x00", "\ud800", "\udfff")
NUMBER_POISONS = ("NaN", "Infinity", "-Infinity", "1e999")
_MARKER = 987654321987


def _documents() -> list[dict[str, Any]]:
    docs = [
        json.loads(p.read_bytes())
        for p in sorted(FIXTURES.glob("*.json"))
        if not p.name.startswith("invalid_malformed")
    ]
    config = EmulatorConfig(
        scenario=ScenarioConfig(seed=7, messaging_conversations=3, voice_conversations=2)
    )
    emulated = build_scenario_events(config)
    return [d for d in docs if isinstance(d, dict)] + emulated


def _leaves(doc: Any) -> list[tuple[Any, ...]]:
    """Paths of every string and (non-bool) number field."""
    return [
        path
        for path in _paths(doc)
        if isinstance(_at(doc, path), str)
        or (isinstance(_at(doc, path), int | float) and not isinstance(_at(doc, path), bool))
    ]


def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def _poisoned(doc: dict[str, Any], path: tuple[Any, ...], poison: str) -> bytes:
    mutated = copy.deepcopy(doc)
    parent = _at(mutated, path[:-1])
    value = parent[path[-1]]
    if isinstance(value, str):
        parent[path[-1]] = value[: len(value) // 2] + poison + value[len(value) // 2 :]
        return json.dumps(mutated).encode("utf-8", "surrogatepass")
    parent[path[-1]] = _MARKER
    return json.dumps(mutated).replace(str(_MARKER), poison).encode()


def _byte_mutation(raw: bytes, rng: random.Random) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 4)):
        if not data:
            break
        at = rng.randrange(len(data))
        op = rng.random()
        if op < 0.3:
            data[at] ^= 1 << rng.randrange(8)
        elif op < 0.55:
            data.insert(at, rng.choice(b'\x00\xff\xc3"{}[],:\\0e-'))
        elif op < 0.8:
            del data[at : at + rng.randint(1, 8)]
        else:
            del data[at:]
    return bytes(data)


def _cases(rng: random.Random, random_cases: int, poisons_per_doc: int | None) -> list[bytes]:
    """Poisons in every string and number field (``poisons_per_doc`` None) or a random
    sample of them, then ``random_cases`` tree and byte mutations."""
    docs = _documents()
    cases: list[bytes] = []
    for doc in docs:
        leaves = _leaves(doc)
        if poisons_per_doc is not None:
            leaves = rng.sample(leaves, min(poisons_per_doc, len(leaves)))
        for path in leaves:
            poisons = STRING_POISONS if isinstance(_at(doc, path), str) else NUMBER_POISONS
            cases.append(_poisoned(doc, path, rng.choice(poisons)))
    for n in range(random_cases):
        doc = docs[n % len(docs)]
        raw = json.dumps(_mutate(doc, rng) if n % 2 else doc).encode()
        cases.append(_byte_mutation(raw, rng) if n % 3 else raw)
    return cases


def _planned(cases: list[bytes]) -> tuple[list[NewJob], dict[str, int]]:
    """Parse and plan every case (no crash), each case's jobs under keys of their own."""
    jobs: list[NewJob] = []
    outcomes = {"ok": 0, "rejected": 0}
    for index, raw in enumerate(cases):
        for result in parse_payload_results(raw):
            assert isinstance(result, ParseResult | Rejection)
            if isinstance(result, Rejection):
                outcomes["rejected"] += 1
                assert not result.reason.startswith("unparseable"), result.reason
                continue
            outcomes["ok"] += 1
            for job in plan_jobs(result.event, None):
                jobs.append(NewJob(f"{index}:{job.key}", job.kind, job.payload))
    return jobs, outcomes


async def _stores_every_payload(ledger: Ledger, jobs: list[NewJob]) -> None:
    unique = {job.key: job for job in reversed(jobs)}  # the first of a key wins
    for start in range(0, len(jobs), 500):
        await ledger.add_jobs(jobs[start : start + 500])  # a LedgerDataError fails here
    stored = {job.key: job for job in await ledger.list_jobs(None, limit=len(unique) + 10)}
    assert set(stored) == set(unique)
    for key, job in unique.items():
        assert stored[key].payload == json.loads(json.dumps(job.payload)), key


@pytest.fixture(params=["sqlite", "postgresql"])
def fuzz_ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite in a temp file, or PostgreSQL (tests/integration/conftest.py's server)."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path}/fuzz.db"


@pytest.fixture
async def fuzz_ledger(fuzz_ledger_url: str) -> AsyncIterator[Ledger]:
    ledger = ledger_from_url(fuzz_ledger_url)
    await ledger.open()
    if isinstance(ledger, PostgresLedger):
        await ledger._require_pool().execute("TRUNCATE jobs, rejected_events, speech_clips")
    yield ledger
    await ledger.close()


async def test_mutations_of_every_fixture_and_emulator_event_are_stored(
    fuzz_ledger: Ledger,
) -> None:
    cases = _cases(random.Random(20261202), random_cases=3000, poisons_per_doc=None)
    assert len(cases) > 5000
    jobs, outcomes = _planned(cases)
    assert outcomes["ok"] > 300
    assert outcomes["rejected"] > 300
    await _stores_every_payload(fuzz_ledger, jobs)


@pytest.mark.slow
async def test_a_long_fuzz_run_is_stored_too(
    fuzz_ledger: Ledger, request: pytest.FixtureRequest
) -> None:
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("a long fuzz run: select it with -m slow")
    for seed in range(3):  # some 70,000 cases
        cases = _cases(random.Random(seed), random_cases=20_000, poisons_per_doc=None)
        jobs, _ = _planned(cases)
        jobs = [NewJob(f"s{seed}:{job.key}", job.kind, job.payload) for job in jobs]
        await _stores_every_payload_added(fuzz_ledger, jobs)


async def _stores_every_payload_added(ledger: Ledger, jobs: list[NewJob]) -> None:
    for start in range(0, len(jobs), 500):
        await ledger.add_jobs(jobs[start : start + 500])
    for job in jobs[:: max(1, len(jobs) // 500)]:
        stored = await ledger.get(job.key)
        assert stored is not None, job.key
