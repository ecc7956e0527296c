"""The replay and backfill summaries say what the priorities decided, when there was a choice."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from prometheus_client import CollectorRegistry, Counter

from media_bridge import metrics
from media_bridge.cli.common import PACED_ROW, PRIORITY_ROW, priority_rows
from media_bridge.jobs.priority import Priority


@pytest.fixture
def claimed(monkeypatch: pytest.MonkeyPatch) -> Counter:
    fresh = Counter(
        "media_bridge_jobs_claimed_total", "test", ["priority"], registry=CollectorRegistry()
    )
    monkeypatch.setattr(metrics, "JOBS_CLAIMED", fresh)
    return fresh


def test_live_jobs_alone_add_no_rows(claimed: Counter) -> None:
    claimed.labels(priority="live").inc(5)
    assert priority_rows(SimpleNamespace(paced_by_class={}, held_by_reserve=0)) == []


def test_a_backfill_beside_live_work_shows_runs_and_waits_by_class(claimed: Counter) -> None:
    claimed.labels(priority="live").inc(10)
    claimed.labels(priority="backfill").inc(60)
    gate = SimpleNamespace(
        paced_by_class={Priority.LIVE: 1, Priority.BACKFILL: 52}, held_by_reserve=40
    )
    assert priority_rows(gate) == [
        (PRIORITY_ROW, "10 / 0 / 60 (live claimed first)"),
        (PACED_ROW, "1 / 0 / 52 (the live reserve held 40)"),
    ]
