"""The attachment handler through the ``JobHandler`` contract, with fakes: which URL is
fetched, what the media sink receives, how a stale link is re-read (bounded), and which
error a message without the attachment gives. The audio step is the real one, in-process."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from media_bridge.audio import AudioSettings
from media_bridge.config import Settings
from media_bridge.errors import NotFound, UrlExpired
from media_bridge.jobs import JobHandler
from media_bridge.jobs.keys import attachment_key
from media_bridge.jobs.payloads import EventMeta
from media_bridge.jobs.planning import attachment_payload
from media_bridge.types import AttachmentRef, JobKind
from media_bridge.worker.handlers.attachment import handle_attachment
from tests.unit.audio.audio_signals import speech_like
from tests.unit.handlers.fakes import InlineAudio, handler_context, job, wav

CONV, MID, MEDIA = "conv-1", "msg-1", "media-1"
KEY = attachment_key(CONV, MID, MEDIA)
#: a Downloads API link on the default region's downloads host: fetched as the event gives it
EVENT_LINK = "https://api-downloads.mypurecloud.com/api/v2/downloads/d0wn10ad"
SIGNED = "https://storage.example.invalid/media-1?X-Amz-Signature=abc"
EVENT = {"org_id": "org-1", "event_id": "ev-1", "received_at": "2026-01-01T00:00:00+00:00"}
HANDLER: JobHandler = handle_attachment
CLIP = wav(speech_like(3.0, 16000))


def _payload(url: str | None, media_type: str = "Image") -> dict[str, Any]:
    ref = AttachmentRef(CONV, MID, MEDIA, media_type, mime="image/png", url=url)
    return attachment_payload(ref, EventMeta.from_dict(EVENT)).to_dict()


def _message(url: str) -> dict[str, Any]:
    attachment = {"id": MEDIA, "mediaType": "Image", "url": url, "filename": "photo.png"}
    return {
        "id": MID,
        "normalizedMessage": {"content": [{"contentType": "Attachment", "attachment": attachment}]},
    }


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_an_event_download_link_is_fetched_without_a_message_read(tmp_path: Path) -> None:
    fakes = handler_context(tmp_path)
    fakes.fetcher.media[EVENT_LINK] = PNG
    outcome = await HANDLER(job(KEY, JobKind.ATTACHMENT, _payload(EVENT_LINK)), fakes.ctx)
    assert fakes.genesys.calls == []
    assert fakes.fetcher.fetched == [EVENT_LINK]
    [delivery] = fakes.media.deliveries
    assert delivery.key == KEY
    assert [f.role for f in delivery.files] == ["original"]
    assert fakes.media.contents == [{"original": PNG}]
    meta = delivery.metadata
    assert meta["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert meta["mime"] == "image/png"
    assert meta["url_refreshes"] == 0
    assert meta["organization_id"] == "org-1"
    trail = ("event_id", "correlation_id", "event_time", "received_at")
    assert {k: meta[k] for k in trail} == {
        "event_id": "ev-1",
        "correlation_id": None,
        "event_time": None,
        "received_at": "2026-01-01T00:00:00+00:00",
    }
    assert outcome.result["sink"] == "kept"
    assert outcome.result["bytes"] == len(PNG)
    assert list(tmp_path.iterdir()) == []  # the temporary download is gone


async def test_a_stale_link_is_read_again_from_the_message(tmp_path: Path) -> None:
    fakes = handler_context(tmp_path)
    fakes.genesys.messages[(CONV, MID)] = _message(SIGNED)
    fakes.fetcher.media[SIGNED] = [UrlExpired("403 from storage"), PNG]
    outcome = await HANDLER(job(KEY, JobKind.ATTACHMENT, _payload(None)), fakes.ctx)
    # the second read is fresh: the kept read's link has just failed
    assert fakes.genesys.calls == [("get_message", CONV, MID)] * 2
    assert fakes.media.deliveries[0].metadata["url_refreshes"] == 1
    assert fakes.media.deliveries[0].metadata["original_filename"] == "photo.png"
    assert outcome.result["sha256"] == hashlib.sha256(PNG).hexdigest()


async def test_refreshes_are_bounded(tmp_path: Path) -> None:
    fakes = handler_context(tmp_path, Settings(fetch={"max_url_refreshes": 1}))
    fakes.genesys.messages[(CONV, MID)] = _message(SIGNED)
    fakes.fetcher.media[SIGNED] = UrlExpired("403 from storage")
    with pytest.raises(UrlExpired):
        await HANDLER(job(KEY, JobKind.ATTACHMENT, _payload(None)), fakes.ctx)
    assert len(fakes.fetcher.fetched) == 2  # the first link and one refresh
    assert fakes.media.deliveries == []


async def test_a_message_without_the_attachment_is_not_found(tmp_path: Path) -> None:
    fakes = handler_context(tmp_path)
    fakes.genesys.messages[(CONV, MID)] = {"id": MID, "normalizedMessage": {"content": []}}
    with pytest.raises(NotFound, match=f"attachment {MEDIA} is not in message {MID}"):
        await HANDLER(job(KEY, JobKind.ATTACHMENT, _payload(None)), fakes.ctx)
    assert fakes.fetcher.fetched == []


async def test_audio_is_normalised_and_delivered_with_its_report(tmp_path: Path) -> None:
    fakes = handler_context(tmp_path, audio=InlineAudio(AudioSettings()))
    fakes.fetcher.media[EVENT_LINK] = CLIP
    outcome = await HANDLER(job(KEY, JobKind.ATTACHMENT, _payload(EVENT_LINK, "Audio")), fakes.ctx)
    [delivery] = fakes.media.deliveries
    roles = [f.role for f in delivery.files]
    assert roles[:2] == ["original", "normalized"]
    assert fakes.media.contents[0]["original"] == CLIP
    audio = delivery.metadata["audio"]
    assert audio["speech"]["net_speech_s"] > 1.0
    assert "path" not in audio["output"]  # worker paths stay out of the metadata
    assert outcome.result["sink"] == "kept"


async def test_a_clip_below_the_gate_is_dropped_with_below_gate_drop(tmp_path: Path) -> None:
    settings = Settings(audio={"below_gate": "drop"})
    fakes = handler_context(tmp_path, settings, audio=InlineAudio(settings.audio))
    fakes.fetcher.media[EVENT_LINK] = wav(np.zeros(16000 * 3))
    outcome = await HANDLER(job(KEY, JobKind.ATTACHMENT, _payload(EVENT_LINK, "Audio")), fakes.ctx)
    assert fakes.media.deliveries == []
    assert outcome.result["sink"] is None
    assert outcome.result["sha256"] == hashlib.sha256(wav(np.zeros(16000 * 3))).hexdigest()
