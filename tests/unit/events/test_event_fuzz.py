"""Mangled events never crash the parser: each gives a ParsedEvent or a Rejection."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

from media_bridge.events import ParseResult, Rejection, parse_payload_results
from media_bridge.planner import plan_jobs

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
