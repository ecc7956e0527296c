"""Consent verdicts from recorded answers, and what a job does with them."""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from media_bridge.consent import ConsentSettings, Verdict, settle
from media_bridge.consent.checker import customer_attribute
from media_bridge.consent.verdict import from_value
from media_bridge.types import Job, JobKind, JobState

SETTINGS = ConsentSettings(mode="participant_attribute", hold_max_s=600, recheck_s=20)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("granted", "granted"),
        ("YES", "granted"),
        (True, "granted"),
        ("refused", "refused"),
        ("No", "refused"),
        (False, "refused"),
        ("maybe", "unknown"),
        (None, "unknown"),
        ({"nested": 1}, "unknown"),
    ],
)
def test_recorded_values_become_verdicts(value: object, expected: str) -> None:
    assert from_value(value, SETTINGS, "event").verdict == expected


def test_values_are_the_operators() -> None:
    settings = ConsentSettings(granted_values=[" Consented "], refused_values=["Opted-Out"])
    assert from_value("consented", settings, "event").verdict == "granted"
    assert from_value("opted-out", settings, "event").verdict == "refused"
    assert from_value("granted", settings, "event").verdict == "unknown"


def job(age_s: float = 0.0) -> Job:
    now = datetime.now(UTC)
    created = now - timedelta(seconds=age_s)
    return Job(
        key="attachment:c1:m1:a1",
        kind=JobKind.ATTACHMENT,
        payload={"conversation_id": "c1"},
        state=JobState.RUNNING,
        attempts=1,
        next_attempt_at=created,
        created_at=created,
        updated_at=now,
    )


def test_granted_and_not_checked_go_on() -> None:
    assert settle(job(), Verdict.of("granted", "event"), SETTINGS) is None
    assert settle(job(), Verdict.of("not_checked", "setting"), SETTINGS) is None


def test_a_refusal_ends_the_job_with_its_verdict_and_says_so(
    info_logs: list[MutableMapping[str, Any]],
) -> None:
    outcome = settle(job(), Verdict.of("refused", "conversation"), SETTINGS)
    logs = info_logs
    assert outcome is not None
    assert outcome.run_again_at is None
    assert outcome.result is not None
    assert outcome.result["consent"]["verdict"] == "refused"
    assert [(e["event"], e["log_level"], e["key"]) for e in logs] == [
        ("consent.refused", "info", "attachment:c1:m1:a1")
    ]


def test_an_unknown_verdict_holds_the_job_then_refuses_it(
    info_logs: list[MutableMapping[str, Any]],
) -> None:
    held = settle(job(age_s=10), Verdict.of("unknown", "conversation"), SETTINGS)
    logs = info_logs
    assert held is not None
    assert held.run_again_at is not None
    assert held.result is not None
    assert held.result["held"]
    assert 15 < (held.run_again_at - datetime.now(UTC)).total_seconds() <= 20
    assert logs[0]["event"] == "consent.held"
    late = settle(job(age_s=601), Verdict.of("unknown", "conversation"), SETTINGS)
    assert late is not None
    assert late.run_again_at is None
    assert late.result is not None
    assert late.result["consent"] == {
        **late.result["consent"],
        "verdict": "refused",
        "source": "hold_timeout",
    }


def test_the_customer_attribute_of_a_conversation_read() -> None:
    conversation = {
        "participants": [
            {"purpose": "agent", "attributes": {"biometricsConsent": "granted"}},
            {"purpose": "customer", "attributes": {"biometricsConsent": "refused"}},
        ]
    }
    assert customer_attribute(conversation, "biometricsConsent") == "refused"
    assert customer_attribute({"participants": [{"purpose": "customer"}]}, "x") is None
