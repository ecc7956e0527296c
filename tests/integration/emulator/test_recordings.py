"""Recordings: 202 while transcoding, formats that decode, stereo channels, file states."""

from __future__ import annotations

import asyncio
import io
import time
from typing import cast

import aiohttp
import av
import numpy as np
import pytest
from av.container import InputContainer

from genesys_emulator.testing import EmulatorHandle, running_emulator
from tests.integration.emulator.emulator_helpers import get_token, small_config

pytestmark = pytest.mark.integration


def _voice(emu: EmulatorHandle) -> str:
    return next(c.id for c in emu.conversations() if c.kind == "voice")


def _decode(data: bytes) -> np.ndarray:
    with cast(InputContainer, av.open(io.BytesIO(data))) as container:
        frames = [f.to_ndarray() for f in container.decode(audio=0)]
    stacked = np.concatenate(frames, axis=1) if frames else np.zeros((1, 0))
    return stacked.astype(np.float64)


async def test_202_while_transcoding_then_200() -> None:
    with running_emulator(small_config(transcoding_delay_s=0.6)) as emu:
        async with aiohttp.ClientSession() as session:
            auth = {"Authorization": f"Bearer {await get_token(session, emu)}"}
            url = f"{emu.api_url}/api/v2/conversations/{_voice(emu)}/recordings"
            params = {"formatId": "WAV", "maxWaitMs": "1"}
            async with session.get(url, params=params, headers=auth) as response:
                assert response.status == 202
                assert await response.read() == b""
            deadline = time.monotonic() + 5
            status = 202
            while status == 202 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
                async with session.get(url, params=params, headers=auth) as response:
                    status = response.status
                    body = await response.json() if status == 200 else None
            assert status == 200
            assert body is not None
            assert body[0]["mediaUris"]["S"]["mediaUri"]


@pytest.mark.parametrize("format_id", ["WAV", "WAV_ULAW", "OGG_OPUS", "MP3", "WEBM"])
async def test_every_format_decodes_to_stereo(
    emu: EmulatorHandle,
    session: aiohttp.ClientSession,
    auth: dict[str, str],
    format_id: str,
) -> None:
    url = f"{emu.api_url}/api/v2/conversations/{_voice(emu)}/recordings"
    async with session.get(url, params={"formatId": format_id}, headers=auth) as response:
        assert response.status == 200
        recording = (await response.json())[0]
    assert recording["fileState"] == "AVAILABLE"
    async with session.get(recording["mediaUris"]["S"]["mediaUri"]) as response:
        assert response.status == 200
        data = await response.read()
    samples = _decode(data)
    assert samples.shape[0] == 2 or samples.ndim == 2


async def test_customer_left_agent_right_have_different_speech(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    url = f"{emu.api_url}/api/v2/conversations/{_voice(emu)}/recordings"
    async with session.get(url, params={"formatId": "WAV"}, headers=auth) as response:
        recording = (await response.json())[0]
    async with session.get(recording["mediaUris"]["S"]["mediaUri"]) as response:
        data = await response.read()
    with cast(InputContainer, av.open(io.BytesIO(data))) as container:
        stream = container.streams.audio[0]
        assert stream.channels == 2
        pcm = np.concatenate([f.to_ndarray().reshape(-1, 2) for f in container.decode(stream)])
    left, right = pcm[:, 0].astype(np.float64), pcm[:, 1].astype(np.float64)
    # turn-taking: where one channel is loud the other is mostly quiet
    frame = 800
    n = len(left) // frame
    left_energy = (left[: n * frame].reshape(n, frame) ** 2).mean(axis=1)
    right_energy = (right[: n * frame].reshape(n, frame) ** 2).mean(axis=1)
    assert (left_energy > 1e5).any()
    assert (right_energy > 1e5).any()
    both_loud = ((left_energy > 1e5) & (right_energy > 1e5)).mean()
    assert both_loud < 0.1


async def test_archived_recording_has_no_media(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    voice = next(c for c in emu.conversations() if c.kind == "voice")
    recording_id = voice.recordings[0].id
    async with session.put(
        f"{emu.api_url}/__emulator__/recordings/{voice.id}/{recording_id}",
        json={"fileState": "ARCHIVED"},
    ) as response:
        assert response.status == 200
    url = f"{emu.api_url}/api/v2/conversations/{voice.id}/recordings/{recording_id}"
    async with session.get(url, params={"formatId": "WAV"}, headers=auth) as response:
        assert response.status == 200
        body = await response.json()
    assert body["fileState"] == "ARCHIVED"
    assert "mediaUris" not in body
    assert "archiveDate" in body


async def test_per_channel_media_uri_keys() -> None:
    with running_emulator(small_config(media_uri_keys="channels")) as emu:
        async with aiohttp.ClientSession() as session:
            auth = {"Authorization": f"Bearer {await get_token(session, emu)}"}
            url = f"{emu.api_url}/api/v2/conversations/{_voice(emu)}/recordings"
            async with session.get(url, params={"formatId": "WAV"}, headers=auth) as response:
                uris = (await response.json())[0]["mediaUris"]
            assert set(uris) == {"0", "1"}
            async with session.get(uris["0"]["mediaUri"]) as response:
                mono = await response.read()
    with av.open(io.BytesIO(mono)) as container:
        assert container.streams.audio[0].channels == 1


async def test_messaging_recording_lists_attachments(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    conversation, _, attachment = emu.attachments()[0]
    url = f"{emu.api_url}/api/v2/conversations/{conversation.id}/recordings"
    async with session.get(url, headers=auth) as response:
        assert response.status == 200
        recordings = await response.json()
    attachments = [
        a
        for entry in recordings[0]["messagingTranscript"]
        for a in entry.get("messageMediaAttachments", [])
    ]
    assert attachment.id in {a["id"] for a in attachments}
    first = next(a for a in attachments if a["id"] == attachment.id)
    async with session.get(first["url"]) as response:
        assert response.status == 200
        assert len(await response.read()) == first["contentLength"]
