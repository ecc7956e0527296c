"""The client and fetcher against the Genesys emulator (genesys_emulator.testing)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from genesys_emulator.config import (
    NO_MESSAGE_PERMS_CLIENT_ID,
    NO_MESSAGE_PERMS_CLIENT_SECRET,
    EmulatorConfig,
    ScenarioConfig,
)
from genesys_emulator.testing import EmulatorHandle, running_emulator
from media_bridge.errors import PermissionMissing, UrlExpired
from media_bridge.fetch.media import MediaFetcher
from media_bridge.genesys.attachments import attachment_from_message
from media_bridge.genesys.client import GenesysClient
from media_bridge.genesys.settings import GenesysSettings

pytestmark = pytest.mark.integration


def _config(**changes: Any) -> EmulatorConfig:
    config = EmulatorConfig(
        scenario=ScenarioConfig(
            messaging_conversations=3,
            voice_conversations=1,
            attachments_per_conversation=2,
            voice_note_seconds=1.0,
            call_seconds=3.0,
        )
    )
    for key, value in changes.items():
        setattr(config, key, value)
    return config


def _settings(emu: EmulatorHandle, **changes: Any) -> GenesysSettings:
    values = emu.genesys_settings() | {"backoff_base_s": 0.01, "backoff_max_s": 0.1}
    return GenesysSettings(**(values | changes))


def _count(emu: EmulatorHandle, host: str, status: int, path_part: str = "") -> int:
    return sum(
        r["count"]
        for r in emu.stats()["requests"]
        if r["host"] == host and r["status"] == status and path_part in r["path"]
    )


@pytest.fixture
def emu() -> Iterator[EmulatorHandle]:
    with running_emulator(_config()) as handle:
        yield handle


@pytest.fixture
async def client(emu: EmulatorHandle) -> AsyncIterator[GenesysClient]:
    async with GenesysClient(_settings(emu)) as c:
        yield c


async def _fetch_all(
    emu: EmulatorHandle, client: GenesysClient, dest: Path
) -> list[tuple[str, str]]:
    fetcher = MediaFetcher(client)

    async def one(conversation_id: str, message_id: str, media_id: str) -> tuple[str, str]:
        message = await client.get_message(conversation_id, message_id)
        attachment = attachment_from_message(message, media_id)
        assert attachment is not None
        done = await fetcher.download_attachment(attachment, dest, max_bytes=20 << 20)
        return media_id, done.sha256

    return await asyncio.gather(*(one(c.id, m.id, a.id) for c, m, a in emu.attachments()))


async def test_every_attachment_arrives_intact_and_storage_never_sees_the_token(
    emu: EmulatorHandle, client: GenesysClient, tmp_path: Path
) -> None:
    got = dict(await _fetch_all(emu, client, tmp_path))
    expected = {a.id: emu.expected_object(a).sha256 for _, _, a in emu.attachments()}
    assert got == expected
    assert len(got) >= 6
    stats = emu.stats()
    assert stats["storageRequestsWithAuthorization"] == 0
    assert stats["tokensIssued"] == 1


async def test_fifty_concurrent_calls_one_token_and_expiry_mid_run_one_refresh(
    emu: EmulatorHandle, client: GenesysClient
) -> None:
    conversation, message, _ = emu.attachments()[0]
    calls = [client.get_message(conversation.id, message.id) for _ in range(50)]
    assert len(await asyncio.gather(*calls)) == 50
    assert emu.stats()["tokensIssued"] == 1
    emu.expire_tokens()
    calls = [client.get_message(conversation.id, message.id) for _ in range(50)]
    assert len(await asyncio.gather(*calls)) == 50
    assert emu.stats()["tokensIssued"] == 2
    assert client.tokens.refreshes == 2


async def test_missing_message_permissions_are_named(emu: EmulatorHandle) -> None:
    conversation, message, _ = emu.attachments()[0]
    settings = _settings(
        emu, client_id=NO_MESSAGE_PERMS_CLIENT_ID, client_secret=NO_MESSAGE_PERMS_CLIENT_SECRET
    )
    async with GenesysClient(settings) as client:
        with pytest.raises(PermissionMissing) as info:
            await client.get_message(conversation.id, message.id)
    assert set(info.value.permissions) == {
        "conversation:message:view",
        "conversation:webmessaging:view",
    }
    assert info.value.any_of
    assert "role" in str(info.value)


async def test_rate_limit_paces_the_client_and_every_call_succeeds(
    emu: EmulatorHandle, client: GenesysClient
) -> None:
    conversation, message, _ = emu.attachments()[0]
    emu.set_rate_limit(20, 1.0)
    calls = [client.get_message(conversation.id, message.id) for _ in range(45)]
    assert len(await asyncio.gather(*calls)) == 45
    limited = _count(emu, "api", 429)
    assert client.stats.rate_limited == limited
    assert limited >= 1
    # the gate holds everyone back after a 429: no storm of retries
    assert limited <= 30


async def test_stale_links_and_signed_urls_are_url_expired_then_refreshed(
    emu: EmulatorHandle, client: GenesysClient, tmp_path: Path
) -> None:
    conversation, message, media = emu.attachments()[0]
    fetcher = MediaFetcher(client)
    attachment = attachment_from_message(
        await client.get_message(conversation.id, message.id), media.id
    )
    assert attachment is not None
    signed = await client.resolve_download(attachment["url"])
    emu.expire_links()
    with pytest.raises(UrlExpired):
        await fetcher.fetch_media(signed, tmp_path, max_bytes=20 << 20)
    with pytest.raises(UrlExpired):
        await fetcher.download_attachment(attachment, tmp_path, max_bytes=20 << 20)
    # the pipeline's answer to UrlExpired: read the message again for a fresh URL
    fresh = attachment_from_message(await client.get_message(conversation.id, message.id), media.id)
    assert fresh is not None
    done = await fetcher.download_attachment(fresh, tmp_path, max_bytes=20 << 20)
    assert done.sha256 == emu.expected_object(media).sha256
    assert sorted(p.name for p in tmp_path.iterdir()) == [done.path.name]


async def test_recordings_media_cache_fetched_without_token(
    emu: EmulatorHandle, client: GenesysClient, tmp_path: Path
) -> None:
    voice = next(c for c in emu.conversations() if c.kind == "voice")
    answer = await client.get_recordings(voice.id, format_id="WAV")
    for _ in range(50):
        if answer.ready:
            break
        await asyncio.sleep(0.1)
        answer = await client.get_recordings(voice.id, format_id="WAV")
    assert answer.ready
    uris = [
        entry["mediaUri"]
        for recording in answer.recordings
        for entry in (recording.get("mediaUris") or {}).values()
    ]
    assert uris
    fetcher = MediaFetcher(client)
    done = await fetcher.fetch_media(
        uris[0], tmp_path, max_bytes=50 << 20, declared_mime="audio/wav"
    )
    assert done.sniffed_mime == "audio/wav"
    assert emu.stats()["storageRequestsWithAuthorization"] == 0


async def test_faults_do_not_lose_a_file(emu: EmulatorHandle, tmp_path: Path) -> None:
    emu.set_faults(error_rate=0.2, drop_rate=0.05, truncate_rate=0.1, seed=11)
    settings = _settings(emu, max_attempts=10, download_attempts=10)
    async with GenesysClient(settings) as client:
        got = dict(await _fetch_all(emu, client, tmp_path))
    expected = {a.id: emu.expected_object(a).sha256 for _, _, a in emu.attachments()}
    assert got == expected
    assert sum(emu.stats()["faults"].values()) >= 3  # faults really happened
