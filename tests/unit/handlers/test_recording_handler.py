"""The recording handler through the ``JobHandler`` contract, with fakes of the Genesys
client and fetcher and the real audio step (in-process): which recording and transcript
jobs a listing plans, when it waits or gives up, what one recording's delivery holds (the
customer channel split out of the stereo file), and which error each dead fileState gives.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from media_bridge.audio import AudioSettings
from media_bridge.config import Settings
from media_bridge.errors import UrlExpired
from media_bridge.genesys import RecordingAnswer, RecordingsAnswer
from media_bridge.jobs import JobHandler
from media_bridge.jobs.keys import (
    attachment_key,
    recording_file_key,
    recording_key,
    transcript_key,
)
from media_bridge.types import JobKind
from media_bridge.voice.errors import (
    RecordingArchived,
    RecordingDeleted,
    RecordingFailed,
    RecordingNotReady,
)
from media_bridge.worker.handlers.recording import handle_recording
from tests.unit.audio.audio_signals import speech_like
from tests.unit.handlers.fakes import InlineAudio, handler_context, job, wav

CONV, RID = "conv-1", "rec-1"
HANDLER: JobHandler = handle_recording
EVENT = {"event_id": "ev-1", "org_id": "org-1"}
#: one recording per conversation is read on its own (no batch below two)
NO_BATCH = Settings(voice={"recording_batch": False})
MEDIA_URI = "https://recordings.example.invalid/rec-1.wav?sig=1"
FRESH_URI = "https://recordings.example.invalid/rec-1.wav?sig=2"
CONVERSATION = {
    "id": CONV,
    "participants": [
        {
            "id": "p-cust",
            "purpose": "customer",
            "ani": "tel:+15550100",
            "calls": [{"id": "comm-1", "recording": True}],
        },
        {"id": "p-agent", "purpose": "agent", "userId": "user-3"},
    ],
}


def _listing_payload() -> dict[str, Any]:
    """``recording:{conv}`` as the planner records it after customer.end."""
    return {
        "v": 1,
        "conversation_id": CONV,
        "media_type": "VOICE",
        "activity": "customer.end",
        "participant_id": "p-cust",
        "session_id": None,
        "speaker_facts": None,
        "event": EVENT,
    }


def _audio(rid: str, **extra: Any) -> dict[str, Any]:
    return {"id": rid, "media": "audio", "sessionId": "comm-1", **extra}


async def test_a_listing_plans_a_job_per_audio_recording_and_the_transcript(
    tmp_path: Path,
) -> None:
    fakes = handler_context(tmp_path, NO_BATCH)
    screen = {"id": "scr-1", "media": "screen"}
    fakes.genesys.recordings[CONV] = [RecordingsAnswer(True, [_audio(RID), screen])]
    fakes.genesys.conversations[CONV] = CONVERSATION
    outcome = await HANDLER(
        job(recording_key(CONV), JobKind.RECORDING, _listing_payload()), fakes.ctx
    )
    assert [(j.key, j.kind) for j in outcome.new_jobs] == [
        (recording_file_key(CONV, RID), JobKind.RECORDING),
        (transcript_key(CONV, "comm-1"), JobKind.TRANSCRIPT),
    ]
    child = outcome.new_jobs[0].payload
    assert child["recording_id"] == RID
    assert child["call"]["customer_participant_id"] == "p-cust"
    assert child["call"]["communication_id"] == "comm-1"
    assert child["call"]["speakers"]["customer"]["address"] == "tel:+15550100"
    assert "via" not in child
    assert outcome.result["skipped"] == [{"id": "scr-1", "media": "screen"}]
    assert outcome.result["transcript"] == transcript_key(CONV, "comm-1")


async def test_several_recordings_go_through_the_batch(tmp_path: Path) -> None:
    fakes = handler_context(tmp_path)  # voice.recording_batch on, at least 2 recordings
    fakes.genesys.recordings[CONV] = [RecordingsAnswer(True, [_audio("r1"), _audio("r2")])]
    fakes.genesys.conversations[CONV] = CONVERSATION
    outcome = await HANDLER(
        job(recording_key(CONV), JobKind.RECORDING, _listing_payload()), fakes.ctx
    )
    recordings = [j.payload for j in outcome.new_jobs if j.kind is JobKind.RECORDING]
    assert [p["via"] for p in recordings] == ["batch", "batch"]
    assert [p["listed"]["id"] for p in recordings] == ["r1", "r2"]


async def test_still_transcoding_waits_then_gives_up(tmp_path: Path) -> None:
    fakes = handler_context(tmp_path, Settings(voice={"transcode_max_wait_s": 600}))
    fakes.genesys.recordings[CONV] = [RecordingsAnswer(False, [])]  # HTTP 202
    young = job(recording_key(CONV), JobKind.RECORDING, _listing_payload(), age_s=5)
    outcome = await HANDLER(young, fakes.ctx)
    assert outcome.result["waiting"] == "recordings still transcoding (HTTP 202)"
    assert outcome.run_again_at is not None
    assert outcome.run_again_at > datetime.now(UTC)
    old = job(recording_key(CONV), JobKind.RECORDING, _listing_payload(), age_s=900)
    with pytest.raises(RecordingNotReady, match="still transcoding"):
        await HANDLER(old, fakes.ctx)


async def test_an_empty_listing_waits_only_for_a_recorded_call(tmp_path: Path) -> None:
    fakes = handler_context(tmp_path, NO_BATCH)
    fakes.genesys.recordings[CONV] = [RecordingsAnswer(True, [])]
    fakes.genesys.conversations[CONV] = CONVERSATION  # its call leg says it is recorded
    recorded = await HANDLER(
        job(recording_key(CONV), JobKind.RECORDING, _listing_payload()), fakes.ctx
    )
    assert recorded.result["waiting"] == "no recording listed yet"
    fakes.genesys.conversations[CONV] = {"id": CONV, "participants": []}
    unrecorded = await HANDLER(
        job(recording_key(CONV), JobKind.RECORDING, _listing_payload()), fakes.ctx
    )
    assert unrecorded.result == {"recordings": 0, "reason": "the conversation has none"}
    assert unrecorded.run_again_at is None


@pytest.mark.parametrize(
    ("media_types", "planned"),
    [(["*"], ["a1", "i1"]), (["all"], ["a1", "i1"]), (["Audio"], ["a1"])],
)
async def test_a_messaging_recording_plans_the_wanted_attachments(
    tmp_path: Path, media_types: list[str], planned: list[str]
) -> None:
    """The one media-type filter: ``["*"]`` plans everything here too."""
    fakes = handler_context(tmp_path, Settings(fetch={"media_types": media_types}))
    messaging = {
        "id": "msg-rec",
        "media": "message",
        "messagingTranscript": [
            {
                "id": "m1",
                "purpose": "customer",
                "messageMediaAttachments": [
                    {"id": "a1", "mediaType": "audio/ogg", "url": "https://x.invalid/a1"},
                    {"id": "i1", "mediaType": "image/png", "url": "https://x.invalid/i1"},
                ],
            }
        ],
    }
    fakes.genesys.recordings[CONV] = [RecordingsAnswer(True, [messaging])]
    outcome = await HANDLER(
        job(recording_key(CONV), JobKind.RECORDING, _listing_payload()), fakes.ctx
    )
    assert [j.key for j in outcome.new_jobs] == [attachment_key(CONV, "m1", m) for m in planned]
    assert fakes.genesys.calls == [("get_recordings", CONV, "WAV")]  # no conversation read


def _file_payload() -> dict[str, Any]:
    """``recording:{conv}:{rid}`` as the listing plans it."""
    call = {
        "customer_participant_id": "p-cust",
        "ani": "tel:+15550100",
        "communication_id": "comm-1",
        "speakers": {"customer": {"participant_id": "p-cust", "address": "tel:+15550100"}},
    }
    return {"v": 1, "conversation_id": CONV, "recording_id": RID, "call": call, "event": EVENT}


def _ready(uri: str = MEDIA_URI, **extra: Any) -> RecordingAnswer:
    body = _audio(RID, fileState="AVAILABLE", mediaUris={"S": {"mediaUri": uri}}, **extra)
    return RecordingAnswer(True, body)


#: customer speech on the left, a quiet agent on the right (voice.customer_channel = left)
STEREO = wav(speech_like(3.0, 16000), 0.01 * speech_like(3.0, 16000, f0=220.0, seed=5))


async def test_one_recording_is_split_and_delivered_with_its_channels(tmp_path: Path) -> None:
    fakes = handler_context(tmp_path, NO_BATCH, audio=InlineAudio(AudioSettings()))
    fakes.genesys.recording[(CONV, RID)] = [_ready()]
    fakes.fetcher.media[MEDIA_URI] = STEREO
    key = recording_file_key(CONV, RID)
    outcome = await HANDLER(job(key, JobKind.RECORDING, _file_payload()), fakes.ctx)
    [delivery] = fakes.media.deliveries
    assert delivery.key == key
    assert delivery.kind is JobKind.RECORDING
    roles = [f.role for f in delivery.files]
    assert roles[0] == "original"
    assert "customer" in roles
    assert "agent" in roles
    assert fakes.media.contents[0]["original"] == STEREO
    meta = delivery.metadata
    assert meta["channels"]["decision"]["customer"] == "left"
    assert meta["channels"]["decision"]["method"] == "setting"  # voice.customer_channel
    assert meta["audio"]["customer"]["speech"]["net_speech_s"] > 1.0
    assert meta["speaker"]["role"] == "customer"
    assert outcome.result["customer_channel"] == "left"
    assert outcome.result["bytes"] == len(STEREO)
    assert outcome.result["consent"]["verdict"] == "not_checked"


async def test_the_customer_channel_setting_picks_the_side(tmp_path: Path) -> None:
    """With the customer on the right, the quiet right channel is the customer's file."""
    settings = Settings(voice={"recording_batch": False, "customer_channel": "right"})
    fakes = handler_context(tmp_path, settings, audio=InlineAudio(AudioSettings()))
    fakes.genesys.recording[(CONV, RID)] = [_ready()]
    fakes.fetcher.media[MEDIA_URI] = wav(np.zeros(48000), speech_like(3.0, 16000))
    await HANDLER(job(recording_file_key(CONV, RID), JobKind.RECORDING, _file_payload()), fakes.ctx)
    audio = fakes.media.deliveries[0].metadata["audio"]
    assert audio["customer"]["speech"]["net_speech_s"] > 1.0
    assert audio["agent"]["speech"]["net_speech_s"] == 0.0


async def test_a_stale_media_uri_reads_the_recording_again(tmp_path: Path) -> None:
    fakes = handler_context(tmp_path, NO_BATCH)  # audio off: the original alone
    fakes.genesys.recording[(CONV, RID)] = [_ready(MEDIA_URI), _ready(FRESH_URI)]
    fakes.fetcher.media[MEDIA_URI] = UrlExpired("403 from storage")
    fakes.fetcher.media[FRESH_URI] = STEREO
    key = recording_file_key(CONV, RID)
    await HANDLER(job(key, JobKind.RECORDING, _file_payload()), fakes.ctx)
    assert fakes.fetcher.fetched == [MEDIA_URI, FRESH_URI]
    assert [c[0] for c in fakes.genesys.calls] == ["get_recording", "get_recording"]
    [delivery] = fakes.media.deliveries
    assert [f.role for f in delivery.files] == ["original"]
    assert delivery.metadata["url_refreshes"] == 1
    assert delivery.metadata["channels"]["reason"] == "audio processing is off"


@pytest.mark.parametrize(
    ("state", "error"),
    [("ARCHIVED", RecordingArchived), ("DELETED", RecordingDeleted), ("ERROR", RecordingFailed)],
)
async def test_a_dead_file_state_raises_its_error(
    tmp_path: Path, state: str, error: type[Exception]
) -> None:
    fakes = handler_context(tmp_path, NO_BATCH)
    fakes.genesys.recording[(CONV, RID)] = [RecordingAnswer(True, _audio(RID, fileState=state))]
    with pytest.raises(error):
        await HANDLER(
            job(recording_file_key(CONV, RID), JobKind.RECORDING, _file_payload()), fakes.ctx
        )
    assert fakes.fetcher.fetched == []
    assert fakes.media.deliveries == []


async def test_a_silent_customer_channel_is_dropped_with_below_gate_drop(tmp_path: Path) -> None:
    settings = Settings(voice={"recording_batch": False}, audio={"below_gate": "drop"})
    fakes = handler_context(tmp_path, settings, audio=InlineAudio(settings.audio))
    fakes.genesys.recording[(CONV, RID)] = [_ready()]
    fakes.fetcher.media[MEDIA_URI] = wav(np.zeros(48000), speech_like(3.0, 16000))
    key = recording_file_key(CONV, RID)
    outcome = await HANDLER(job(key, JobKind.RECORDING, _file_payload()), fakes.ctx)
    assert fakes.media.deliveries == []
    assert outcome.result["sink"] is None
