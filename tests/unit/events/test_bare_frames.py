"""Issue 24: bare Notifications API frames, and BCP 47 case of transcript languages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from media_bridge.errors import BadInput
from media_bridge.intake.events import (
    ParseResult,
    ParseStatus,
    parse_event_result,
    parse_payload_results,
)
from media_bridge.intake.ingest import Intake
from media_bridge.jobs.payloads import EventMeta
from media_bridge.jobs.planning import plan_jobs, utterance_payloads
from media_bridge.ledger import SqliteLedger
from media_bridge.types import JobKind
from media_bridge.values import bcp47_case

CONV = "11111111-2222-3333-4444-555555555555"
OTHER = "66666666-7777-8888-9999-000000000000"


def _frame(org: str | None) -> dict[str, object]:
    body: dict[str, object] = {"conversationId": CONV, "mediaType": "VOICE", "eventTime": 1}
    if org is not None:
        body["organizationId"] = org
    return {
        "topicName": f"v2.detail.events.conversation.{CONV}.customer.end",
        "version": "2",
        "eventBody": body,
        "metadata": {"CorrelationId": "c-1"},
    }


def test_bare_frame_is_parsed_with_org_from_event_body() -> None:
    result = parse_event_result(_frame("org-9"))
    assert result.status is ParseStatus.OK
    assert result.event.org_id == "org-9"
    assert result.event.correlation_id == "c-1"
    assert result.event.activities[0].conversation_id == CONV
    assert result.event.event_id.startswith("notif-")


def test_bare_frame_id_is_stable_and_json_lines_of_frames_are_accepted() -> None:
    raw = b"\n".join(json.dumps(_frame(None)).encode() for _ in range(2))
    results = parse_payload_results(raw)
    ids = {r.event.event_id for r in results if isinstance(r, ParseResult)}
    assert len(results) == 2
    assert len(ids) == 1


def test_language_is_normalised_to_bcp47_case() -> None:
    assert bcp47_case("es-us") == "es-US"
    assert bcp47_case("ES-us") == "es-US"
    assert bcp47_case("zh-hant-tw") == "zh-Hant-TW"
    assert bcp47_case("") is None
    body = {
        "conversationId": CONV,
        "communicationId": "comm-1",
        "transcripts": [
            {
                "utteranceId": "u1",
                "isFinal": True,
                "channel": "EXTERNAL",
                "dialect": "es-us",
                "engineId": "eng-7",
                "alternatives": [{"transcript": "hola"}],
            }
        ],
    }
    (utterance,) = utterance_payloads(body, EventMeta())
    assert utterance.language == "es-US"
    assert utterance.engine_id == "eng-7"


def test_non_uuid_detail_id_is_ignored_where_unused_and_rejected_where_used() -> None:
    frame = {
        "topicName": "v2.detail.events.conversation.anonymised.flow.outcome",
        "eventBody": {"mediaType": "VOICE", "organizationId": "o"},
    }
    result = parse_event_result(frame)
    assert result.status is ParseStatus.UNKNOWN_TOPIC
    assert result.event.activities == []
    used = {
        "topicName": "v2.detail.events.conversation.anonymised.customer.end",
        "eventBody": {"mediaType": "VOICE"},
    }
    with pytest.raises(BadInput, match="no conversation id"):
        parse_event_result(used)


def test_session_ended_transcription_plans_the_transcript_job() -> None:
    frame = {
        "topicName": f"v2.conversations.{CONV}.transcription",
        "eventBody": {
            "conversationId": CONV,
            "communicationId": "comm-1",
            "status": {"status": "SESSION_ENDED"},
        },
    }
    event = parse_event_result(frame).event
    (job,) = plan_jobs(event, None, session_transcripts=True)
    assert job.kind is JobKind.TRANSCRIPT
    assert job.key == f"transcript:{CONV}:comm-1"
    assert plan_jobs(event, None) == []


async def test_a_bare_frame_without_an_org_takes_the_configured_org(tmp_path: Path) -> None:
    ledger = SqliteLedger(str(tmp_path / "ledger.db"))
    await ledger.open()
    try:
        intake = Intake(ledger, media_types=frozenset({"Audio"}), default_org_id="org-configured")
        with_org = _frame("org-in-body")
        with_org["topicName"] = f"v2.detail.events.conversation.{OTHER}.customer.end"
        with_org["eventBody"] = {**with_org["eventBody"], "conversationId": OTHER}  # type: ignore[dict-item]
        body = "\n".join(json.dumps(frame) for frame in (_frame(None), with_org))
        result = await intake.accept(body.encode(), "test")
        assert result.rejected == []
        orgs = {
            job.payload["conversation_id"]: job.payload["event"]["org_id"]
            for job in await ledger.list_jobs(state=None, limit=10)
        }
        assert orgs == {CONV: "org-configured", OTHER: "org-in-body"}
    finally:
        await ledger.close()
