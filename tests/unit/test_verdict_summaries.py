"""The demo and replay summaries show clips by quality, clips diverted, consent verdicts,
and Platform API requests per delivered item."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from prometheus_client import CollectorRegistry, Counter

from media_bridge import metrics
from media_bridge.cli.common import BUDGET_ROW, verdict_rows
from media_bridge.cli.demo import _summary_rows
from media_bridge.cli.run import print_summary
from media_bridge.types import JobState

CONSENT_ROW = "consent verdicts (held: checks that waited)"


@pytest.fixture
def verdicts(monkeypatch: pytest.MonkeyPatch) -> Counter:
    fresh = Counter(
        "media_bridge_clip_verdicts_total",
        "test",
        ["kind", "quality", "action"],
        registry=CollectorRegistry(),
    )
    monkeypatch.setattr(metrics, "CLIP_VERDICTS", fresh)
    fresh.labels(kind="attachment", quality="short", action="delivered").inc(3)
    fresh.labels(kind="attachment", quality="ok", action="delivered").inc()
    fresh.labels(kind="recording", quality="noisy", action="delivered").inc()
    fresh.labels(kind="attachment", quality="short", action="hold_local").inc(2)
    fresh.labels(kind="recording", quality="clipped", action="drop").inc()
    consent = Counter(
        "media_bridge_consent_verdicts_total",
        "test",
        ["kind", "verdict"],
        registry=CollectorRegistry(),
    )
    monkeypatch.setattr(metrics, "CONSENT_VERDICTS", consent)
    consent.labels(kind="attachment", verdict="granted").inc(4)
    consent.labels(kind="recording", verdict="granted").inc()
    consent.labels(kind="attachment", verdict="refused").inc(2)
    consent.labels(kind="attachment", verdict="held").inc(6)
    delivered = Counter(
        "media_bridge_delivered_total", "test", ["kind", "media_type"], registry=CollectorRegistry()
    )
    monkeypatch.setattr(metrics, "DELIVERED", delivered)
    delivered.labels(kind="attachment", media_type="Audio").inc(3)
    delivered.labels(kind="text", media_type="text").inc(5)
    return fresh


def test_verdict_rows_count_every_quality_and_diversion(verdicts: Counter) -> None:
    assert verdict_rows() == [
        ("clips delivered by quality", "ok 1 / short 3 / noisy 1 / clipped 0"),
        ("clips diverted (audio.below_gate)", "hold_local 2 / drop 1"),
        (CONSENT_ROW, "granted 5 / refused 2 / held 6 / not checked 0"),
    ]


def test_the_demo_summary_has_the_verdict_rows(verdicts: Counter, tmp_path: Path) -> None:
    stats = SimpleNamespace(by_status={200: 5, 503: 1}, requests=6, rate_limited=0, retries=1)
    gate = SimpleNamespace(paced=3, waited_s=1.25, per_minute=216.0)
    bridge = SimpleNamespace(
        intake_result=SimpleNamespace(events=4, rejected=[], unknown_topics=0),
        genesys=SimpleNamespace(stats=stats, gate=gate),
        fetcher=SimpleNamespace(retries=0),
    )
    rows = dict(_summary_rows(tmp_path, 1.0, bridge, {JobState.DONE: 4}))
    assert rows["requests paced / their waits summed"] == "3 / 1.2 s (at 216 per minute)"
    assert rows["clips delivered by quality"] == "ok 1 / short 3 / noisy 1 / clipped 0"
    assert rows["clips diverted (audio.below_gate)"] == "hold_local 2 / drop 1"
    assert rows[CONSENT_ROW] == "granted 5 / refused 2 / held 6 / not checked 0"
    assert rows[BUDGET_ROW] == "0.75 (6 requests, 8 items)"


def test_the_replay_summary_is_printed(
    verdicts: Counter, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    delivered = Counter(
        "media_bridge_delivered_total", "test", ["kind", "media_type"], registry=CollectorRegistry()
    )
    monkeypatch.setattr(metrics, "DELIVERED", delivered)
    delivered.labels(kind="attachment", media_type="Audio").inc(5)
    delivered.labels(kind="attachment", media_type="Image").inc(1)
    delivered.labels(kind="recording", media_type="").inc(2)
    finished = Counter(
        "media_bridge_jobs_finished_total",
        "test",
        ["kind", "outcome"],
        registry=CollectorRegistry(),
    )
    monkeypatch.setattr(metrics, "JOBS_FINISHED", finished)
    finished.labels(kind="attachment", outcome="retry").inc(3)
    # only live jobs ran: no priority rows (tests/unit/test_priority_summary.py)
    claimed = Counter(
        "media_bridge_jobs_claimed_total", "test", ["priority"], registry=CollectorRegistry()
    )
    monkeypatch.setattr(metrics, "JOBS_CLAIMED", claimed)
    claimed.labels(priority="live").inc(8)
    stats = SimpleNamespace(by_status={200: 9, 503: 2}, requests=11, rate_limited=1, retries=2)
    gate = SimpleNamespace(paced_by_class={}, held_by_reserve=0)
    bridge = SimpleNamespace(
        intake_result=SimpleNamespace(events=8, rejected=["bad"], unknown_topics=2),
        genesys=SimpleNamespace(stats=stats, gate=gate),
        fetcher=SimpleNamespace(retries=1),
    )
    print_summary({JobState.DONE: 7, JobState.DEAD: 1}, bridge)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "summary"
    assert [" ".join(line.split()) for line in out[1:]] == [
        "events read 9",
        "events rejected / unknown topic 1 / 2",
        "jobs pending / running / done / retry / dead 0 / 0 / 7 / 0 / 1",
        "jobs done / dead 7 / 1",
        "deliveries by kind attachment 6 / recording 2",
        "API requests (answered 5xx / 429) 11 (2 / 1)",
        "in-call retries / job retries 3 / 3",
        f"{BUDGET_ROW} 1.38 (11 requests, 8 items)",
        "clips delivered by quality ok 1 / short 3 / noisy 1 / clipped 0",
        "clips diverted (audio.below_gate) hold_local 2 / drop 1",
        f"{CONSENT_ROW} granted 5 / refused 2 / held 6 / not checked 0",
    ]


def test_replay_progress_says_when_it_waits_for_jobs_due_later() -> None:
    from media_bridge.cli.run import ReplayProgress

    bridge = SimpleNamespace(worker=SimpleNamespace(in_flight=0))
    progress = ReplayProgress(bridge, recording_delay_s=60.0)
    intake = SimpleNamespace(events=3)
    line = progress.line({JobState.PENDING: 2, JobState.DONE: 1}, intake)
    assert line.startswith("replay: 3 events read; jobs pending 2 / running 0 / done 1")
    assert "waiting for 2 job(s) due later" in line
    assert "voice.recording_delay_s=60 s" in line
    bridge.worker.in_flight = 1
    assert "waiting" not in progress.line({JobState.PENDING: 2}, intake)
