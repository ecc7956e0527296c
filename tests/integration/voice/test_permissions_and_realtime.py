"""Missing permissions are named in the dead job; real-time transcription utterances
(``v2.conversations.{id}.transcription``) reach the NLP sink with speaker, time, confidence."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from genesys_emulator.config import (
    DEFAULT_PERMISSIONS,
    EmulatorConfig,
    OAuthClientConfig,
    ScenarioConfig,
    default_clients,
)
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import running_emulator
from media_bridge.ledger import ledger_from_url
from media_bridge.types import Job, JobState
from tests.integration.bridge.harness import (
    bridge_settings,
    nlp_records,
    run_bridge,
    write_events,
)

pytestmark = pytest.mark.integration


def client_without(permission: str) -> OAuthClientConfig:
    perms = frozenset(p for p in DEFAULT_PERMISSIONS if p != permission)
    # no ":" in a client id: basic auth splits id and secret there
    name = permission.replace(":", "-")
    return OAuthClientConfig(f"without-{name}", "secret", perms)


async def dead_jobs(settings: Any) -> list[Job]:
    ledger = ledger_from_url(settings.ledger.url)
    await ledger.open()
    try:
        return await ledger.list_jobs(JobState.DEAD)
    finally:
        await ledger.close()


@pytest.mark.parametrize(
    ("missing", "dead_kind"),
    # the transcript URL needs both permissions: the transcript job that SESSION_ENDED plans
    # dies with the recording one
    [
        ("recording:recording:view", {"recording", "transcript"}),
        ("speechAndTextAnalytics:data:view", {"transcript"}),
    ],
)
async def test_missing_permission_is_named(
    tmp_path: Path, missing: str, dead_kind: set[str]
) -> None:
    client = client_without(missing)
    config = EmulatorConfig(
        clients=[*default_clients(), client],
        scenario=ScenarioConfig(seed=7, messaging_conversations=0, voice_conversations=1),
    )
    with running_emulator(config) as emu:
        events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state, "detail"))
        genesys = {"client_id": client.client_id, "client_secret": client.client_secret}
        settings = bridge_settings(emu, tmp_path, genesys=genesys, voice={"recording_delay_s": 0.0})
        await run_bridge(settings, events)
    dead = await dead_jobs(settings)
    assert {job.kind.value for job in dead} == dead_kind
    assert len(dead) == len(dead_kind)
    for job in dead:
        assert job.error_code == "permission_missing"
        assert missing in (job.last_error or "")


def transcription_event(conversation_id: str, communication_id: str) -> dict[str, Any]:
    start = 1_760_000_000_000

    def utterance(uid: str, final: bool, channel: str, text: str, offset: int) -> dict[str, Any]:
        return {
            "utteranceId": uid,
            "isFinal": final,
            "channel": channel,
            "alternatives": [
                {
                    "confidence": 0.87,
                    "offsetMs": offset,
                    "durationMs": 1500,
                    "transcript": text,
                    "decoratedTranscript": text,
                    "words": [],
                }
            ],
            "engineProvider": "GENESYS",
            "dialect": "en-US",
        }

    body = {
        "eventTime": "2025-10-09T08:53:20.000Z",
        "organizationId": "7b5a3c1e-2d4f-4a6b-8c9d-0e1f2a3b4c5d",
        "conversationId": conversation_id,
        "communicationId": communication_id,
        "sessionStartTimeMs": start,
        "transcriptionStartTimeMs": start,
        "status": {"offsetMs": 0, "status": "SESSION_ONGOING"},
        "transcripts": [
            utterance("u-1", False, "EXTERNAL", "my card is", 1000),
            utterance("u-1", True, "EXTERNAL", "my card is blocked", 1000),
            utterance("u-2", True, "INTERNAL", "let me check that", 3000),
        ],
    }
    topic = f"v2.conversations.{conversation_id}.transcription"
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "v2.conversations.{id}.transcription",
        "source": "aws.partner/genesys.com/cloud/7b5a3c1e/test",
        "account": "123456789012",
        "time": "2025-10-09T08:53:20Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": {"topicName": topic, "version": "2", "eventBody": body},
    }


async def test_realtime_final_utterances_reach_the_nlp_sink(tmp_path: Path) -> None:
    conv, comm = str(uuid.uuid4()), str(uuid.uuid4())
    config = EmulatorConfig(
        scenario=ScenarioConfig(messaging_conversations=0, voice_conversations=0)
    )
    with running_emulator(config) as emu:
        events = write_events(tmp_path / "events.jsonl", [transcription_event(conv, comm)] * 2)
        counts, _ = await run_bridge(bridge_settings(emu, tmp_path), events)
    assert counts[JobState.DEAD] == 0
    records = sorted(nlp_records(tmp_path), key=lambda r: r["offset_ms"])
    assert [(r["speaker"], r["text"]) for r in records] == [
        ("customer", "my card is blocked"),
        ("agent", "let me check that"),
    ]
    assert [r["key"] for r in records] == [
        f"transcript:{conv}:{comm}:u-1",
        f"transcript:{conv}:{comm}:u-2",
    ]
    assert records[0]["confidence"] == pytest.approx(0.87)
    assert records[0]["start_time"].startswith("2025-10-09T08:53:21")
