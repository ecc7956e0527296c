"""Pure voice helpers: recording selection, fileState verdicts, transcript normalisation,
channel decisions, messaging attachments, backfill intervals and jobs."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from media_bridge.jobs.backfill import FoundConversation, backfill_jobs, interval_chunks
from media_bridge.types import JobKind
from media_bridge.voice.channels import decide_from_levels
from media_bridge.voice.messaging import attachment_kind, attachments_from_recording
from media_bridge.voice.participants import call_info
from media_bridge.voice.recordings import Readiness, media_files, readiness
from media_bridge.voice.transcripts import Span, speaker_spans, utterances


def uris(*keys: str) -> dict[str, object]:
    return {k: {"mediaUri": f"https://x/{k}", "waveformData": []} for k in keys}


def test_media_files_prefer_s_and_order_channels() -> None:
    assert [m.key for m in media_files({"mediaUris": uris("1", "S", "0")})] == ["S"]
    assert [m.key for m in media_files({"mediaUris": uris("1", "0", "x")})] == ["0", "1", "x"]
    assert media_files({"mediaUris": {"0": {"waveformData": []}}}) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"fileState": "AVAILABLE", "mediaUris": uris("S")}, Readiness.READY),
        ({"fileState": "AVAILABLE", "mediaUris": {}}, Readiness.NOT_READY),
        ({"fileState": "RESTORED", "mediaUris": uris("0", "1")}, Readiness.READY),
        ({"fileState": "UPLOADING"}, Readiness.NOT_READY),
        ({"fileState": "ARCHIVED"}, Readiness.ARCHIVED),
        ({"fileState": "DELETED"}, Readiness.DELETED),
        ({"fileState": "RESTORING"}, Readiness.RESTORING),
        ({"fileState": "ERROR"}, Readiness.ERROR),
    ],
)
def test_readiness(body: dict[str, object], expected: Readiness) -> None:
    assert readiness(body) is expected


DOC = {
    "organizationId": "org",
    "startTime": 1_000_000,
    "transcripts": [
        {
            "transcriptId": "t",
            "language": "en-US",
            "startTime": 1_000_000,
            "phrases": [
                {
                    "text": "second",
                    "startTimeMs": 1_004_000,
                    "duration": {"milliseconds": 1000},
                    "participantPurpose": "external",
                    "words": [{"confidence": 0.5}, {"confidence": 0.7}],
                },
                {
                    "text": "first",
                    "startTimeMs": 1_001_000,
                    "duration": {"milliseconds": 2000},
                    "participantPurpose": "internal",
                    "confidence": 0.9,
                },
                {"text": "  ", "startTimeMs": 1_002_000},
                "junk",
            ],
        },
        None,
    ],
}


def test_utterances_sorted_with_speakers_offsets_and_confidence() -> None:
    rows = utterances(DOC, "c", "m")
    assert [(r["index"], r["speaker"], r["text"]) for r in rows] == [
        (0, "agent", "first"),
        (1, "customer", "second"),
    ]
    assert rows[0]["start_offset_ms"] == 1000
    assert rows[0]["end_offset_ms"] == 3000
    assert rows[0]["confidence"] == 0.9
    assert rows[1]["confidence"] == pytest.approx(0.6)
    assert rows[1]["start_time"] == "1970-01-01T00:16:44Z"
    assert utterances({"transcripts": "nope"}, "c", "m") == []


def test_speaker_spans() -> None:
    assert speaker_spans(DOC) == [Span(4.0, 5.0, "customer"), Span(1.0, 3.0, "agent")]


def test_auto_decision_follows_the_customer_phrases() -> None:
    frames = np.full(100, -80.0)
    loud_when_customer = frames.copy()
    loud_when_customer[10:30] = -20.0
    loud_when_agent = frames.copy()
    loud_when_agent[50:70] = -20.0
    spans = [Span(1.0, 3.0, "customer"), Span(5.0, 7.0, "agent")]
    right = decide_from_levels(loud_when_agent, loud_when_customer, spans, frame_s=0.1)
    assert right.customer == "right"
    assert right.method == "transcript"
    assert right.confidence == 1.0
    left = decide_from_levels(loud_when_customer, loud_when_agent, spans, frame_s=0.1)
    assert left.customer == "left"
    same = decide_from_levels(frames, frames, spans, frame_s=0.1, fallback="right")
    assert (same.customer, same.method, same.confidence) == ("right", "fallback", 0.0)
    none = decide_from_levels(frames, frames, [], frame_s=0.1)
    assert none.method == "fallback"


def test_messaging_transcript_attachments_use_event_keys() -> None:
    recording = {
        "messagingTranscript": [
            {
                "id": "msg1",
                "purpose": "customer",
                "timestamp": "2025-01-01T00:00:00Z",
                "messageMediaAttachments": [
                    {"id": "med1", "mediaType": "audio/ogg", "contentLength": 10, "url": "u"},
                    {"mediaType": "image/png"},
                ],
            },
            {"id": "msg2", "messageText": "hi"},
        ]
    }
    (ref,) = attachments_from_recording("conv", recording)
    assert ref.key == "attachment:conv:msg1:med1"
    assert (ref.media_type, ref.mime, ref.size) == ("Audio", "audio/ogg", 10)
    assert attachment_kind("application/pdf") == "File"
    assert attachment_kind(None) == "File"


def test_call_info_reads_the_customer_call_leg() -> None:
    conversation = {
        "participants": [
            {"purpose": "agent", "calls": [{"id": "agent-leg"}]},
            {"purpose": "customer", "id": "p1", "ani": "tel:+1", "calls": [{"id": "leg"}]},
        ]
    }
    assert call_info(conversation) == {
        "customer_participant_id": "p1",
        "ani": "tel:+1",
        "dnis": None,
        "communication_id": "leg",
    }
    assert call_info({})["communication_id"] is None


def test_interval_chunks_split_long_intervals() -> None:
    since = datetime(2025, 1, 1, tzinfo=UTC)
    until = datetime(2025, 3, 15, tzinfo=UTC)
    chunks = list(interval_chunks(since, until, 31))
    assert chunks == [
        "2025-01-01T00:00:00.000Z/2025-02-01T00:00:00.000Z",
        "2025-02-01T00:00:00.000Z/2025-03-04T00:00:00.000Z",
        "2025-03-04T00:00:00.000Z/2025-03-15T00:00:00.000Z",
    ]
    with pytest.raises(ValueError, match="after"):
        list(interval_chunks(until, since, 31))


def test_backfill_jobs_per_media_type() -> None:
    found = [
        FoundConversation("m1", "message", "s", "e", "whatsapp"),
        FoundConversation("m2", "message", "s", None),
        FoundConversation("v1", "voice", "s", "e"),
    ]
    jobs = {j.key: j for j in backfill_jobs(found, messaging_recordings=True)}
    assert set(jobs) == {
        "conversation:m1",
        "recording:m1",
        "conversation:m2",
        "recording:m2",
        "recording:v1",
    }
    assert jobs["conversation:m1"].payload["ended"] is True
    assert jobs["conversation:m2"].payload["ended"] is False
    assert jobs["recording:v1"].kind is JobKind.RECORDING
    only = {j.key for j in backfill_jobs(found, messaging_recordings=False, voice=False)}
    assert only == {"conversation:m1", "conversation:m2"}
