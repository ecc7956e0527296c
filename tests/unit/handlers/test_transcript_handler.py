"""The transcript handler through the ``JobHandler`` contract, with fakes: one record per
utterance under its own key, a stale URL asked for again, a transcript not there yet polled
and then given up on, and the speakers a SESSION_ENDED job takes from the recording path."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from media_bridge.config import Settings
from media_bridge.errors import MalformedAnswer, UrlExpired
from media_bridge.jobs import JobHandler
from media_bridge.jobs.keys import recording_file_key, recording_key, transcript_key, utterance_key
from media_bridge.types import Job, JobKind, JobState
from media_bridge.voice.errors import TranscriptNotFound
from media_bridge.worker.handlers.transcript import handle_transcript
from tests.unit.handlers.fakes import handler_context, job

CONV, COMM = "conv-1", "comm-1"
KEY = transcript_key(CONV, COMM)
URL1 = "https://transcripts.example.invalid/t?sig=1"
URL2 = "https://transcripts.example.invalid/t?sig=2"
HANDLER: JobHandler = handle_transcript
SPEAKERS = {
    "customer": {"participant_id": "p-cust", "external_contact_id": "contact-7"},
    "agent": {"role": "agent", "participant_id": "p-agent", "user_id": "user-3"},
}
DOCUMENT = {
    "organizationId": "org-1",
    "transcripts": [
        {
            "transcriptId": "t1",
            "language": "en-US",
            "startTime": 1_700_000_000_000,
            "phrases": [
                {
                    "text": "thanks for calling",
                    "participantPurpose": "internal",
                    "startTimeMs": 1_700_000_000_500,
                    "duration": {"milliseconds": 900},
                },
                {
                    "text": "my number is 555 0100",
                    "participantPurpose": "external",
                    "startTimeMs": 1_700_000_002_000,
                    "duration": {"milliseconds": 1500},
                },
            ],
        }
    ],
}


def _payload(speakers: dict[str, Any] | None = SPEAKERS) -> dict[str, Any]:
    return {
        "v": 1,
        "conversation_id": CONV,
        "communication_id": COMM,
        "speakers": speakers,
        "event": {"event_id": "ev-1", "org_id": "org-1"},
    }


async def test_each_utterance_is_delivered_under_its_own_key(tmp_path: Path) -> None:
    fakes = handler_context(tmp_path)
    fakes.genesys.transcript_urls[(CONV, COMM)] = [URL1]
    fakes.fetcher.json[URL1] = DOCUMENT
    outcome = await HANDLER(job(KEY, JobKind.TRANSCRIPT, _payload()), fakes.ctx)
    records = fakes.texts.records
    assert list(records) == [utterance_key(CONV, COMM, 0), utterance_key(CONV, COMM, 1)]
    agent, customer = records.values()
    assert (agent["speaker"], agent["text"]) == ("agent", "thanks for calling")
    assert (customer["speaker"], customer["text"]) == ("customer", "my number is 555 0100")
    assert customer["key"] == utterance_key(CONV, COMM, 1)
    assert customer["consent"]["verdict"] == "not_checked"  # text: never held
    assert "contact-7" in customer["speaker_key"]
    assert agent["speaker_key"] != customer["speaker_key"]
    assert outcome.result == {
        "sink": "kept-texts",
        "utterances": 2,
        "speakers": ["agent", "customer"],
    }


async def test_a_stale_transcript_url_is_asked_for_again(tmp_path: Path) -> None:
    fakes = handler_context(tmp_path)
    fakes.genesys.transcript_urls[(CONV, COMM)] = [URL1, URL2]
    fakes.fetcher.json[URL1] = UrlExpired("403")
    fakes.fetcher.json[URL2] = DOCUMENT
    outcome = await HANDLER(job(KEY, JobKind.TRANSCRIPT, _payload()), fakes.ctx)
    assert fakes.fetcher.fetched == [URL1, URL2]
    assert outcome.result["utterances"] == 2


async def test_a_missing_transcript_is_polled_then_given_up(tmp_path: Path) -> None:
    """Analytics runs after the call: a 404 waits, up to ``voice.transcript_max_wait_s``."""
    settings = Settings(voice={"transcript_max_wait_s": 600})
    fakes = handler_context(tmp_path, settings)  # no transcript URL: the API answers 404
    young = job(KEY, JobKind.TRANSCRIPT, _payload(), age_s=10)
    outcome = await HANDLER(young, fakes.ctx)
    assert outcome.result == {"waiting": "transcript not found yet"}
    assert outcome.run_again_at is not None
    assert outcome.run_again_at > datetime.now(UTC)
    old = job(KEY, JobKind.TRANSCRIPT, _payload(), age_s=700)
    with pytest.raises(TranscriptNotFound, match=f"no transcript for communication {COMM}"):
        await HANDLER(old, fakes.ctx)
    assert fakes.texts.records == {}


async def test_a_document_that_is_not_an_object_is_malformed(tmp_path: Path) -> None:
    fakes = handler_context(tmp_path)
    fakes.genesys.transcript_urls[(CONV, COMM)] = [URL1]
    fakes.fetcher.json[URL1] = ["not", "an", "object"]
    with pytest.raises(MalformedAnswer):
        await HANDLER(job(KEY, JobKind.TRANSCRIPT, _payload()), fakes.ctx)


def _ledger_job(key: str, state: JobState, **fields: Any) -> Job:
    now = datetime.now(UTC)
    payload = fields.pop("payload", {})
    return Job(key, JobKind.RECORDING, payload, state, 1, now, now, now, **fields)


async def test_a_session_ended_job_takes_the_recording_paths_speakers(tmp_path: Path) -> None:
    parent = _ledger_job(recording_key(CONV), JobState.DONE, result={"audio": ["r1"]})
    child = _ledger_job(
        recording_file_key(CONV, "r1"),
        JobState.DONE,
        payload={
            "v": 1,
            "conversation_id": CONV,
            "recording_id": "r1",
            "call": {"speakers": SPEAKERS},
        },
    )
    fakes = handler_context(tmp_path, ledger_jobs=[parent, child])
    fakes.genesys.transcript_urls[(CONV, COMM)] = [URL1]
    fakes.fetcher.json[URL1] = DOCUMENT
    await HANDLER(job(KEY, JobKind.TRANSCRIPT, _payload(speakers=None)), fakes.ctx)
    assert ("get_conversation", CONV) not in fakes.genesys.calls
    customer = fakes.texts.records[utterance_key(CONV, COMM, 1)]
    assert "contact-7" in customer["speaker_key"]


async def test_a_session_ended_job_waits_while_the_recording_job_is_due(tmp_path: Path) -> None:
    parent = _ledger_job(recording_key(CONV), JobState.PENDING)
    fakes = handler_context(tmp_path, ledger_jobs=[parent])
    outcome = await HANDLER(job(KEY, JobKind.TRANSCRIPT, _payload(speakers=None)), fakes.ctx)
    assert outcome.result == {"waiting": "the recording path maps the speakers"}
    assert outcome.run_again_at is not None
    assert fakes.genesys.calls == []  # not even the transcript URL yet
