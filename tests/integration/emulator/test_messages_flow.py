"""Messages, download links and signed storage URLs over real sockets."""

from __future__ import annotations

import hashlib

import aiohttp
import pytest

from genesys_emulator.testing import EmulatorHandle

pytestmark = pytest.mark.integration


async def _attachment_json(
    session: aiohttp.ClientSession, emu: EmulatorHandle, auth: dict[str, str]
) -> dict[str, object]:
    conversation, message, _ = emu.attachments()[0]
    url = f"{emu.api_url}/api/v2/conversations/messages/{conversation.id}/messages/{message.id}"
    async with session.get(url, headers=auth) as response:
        assert response.status == 200
        body = await response.json()
    attachment: dict[str, object] = body["normalizedMessage"]["content"][0]["attachment"]
    return attachment


async def test_attachment_bytes_match_declared_hash_and_size(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    attachment = await _attachment_json(session, emu, auth)
    async with session.get(str(attachment["url"]), headers=auth, allow_redirects=False) as redirect:
        assert redirect.status == 303
        location = redirect.headers["Location"]
    assert location.startswith(emu.storage_url)
    async with session.get(location) as response:
        assert response.status == 200
        data = await response.read()
        assert response.headers["Content-Type"].startswith(str(attachment["mime"]))
    assert hashlib.sha256(data).hexdigest() == attachment["sha256"]
    assert len(data) == attachment["contentSizeBytes"]


async def test_every_attachment_has_distinct_bytes(emu: EmulatorHandle) -> None:
    hashes = [emu.expected_object(a).sha256 for _, _, a in emu.attachments()]
    assert len(hashes) >= 8
    assert len(set(hashes)) == len(hashes)


async def test_each_message_call_gives_a_fresh_download_link(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    first = await _attachment_json(session, emu, auth)
    second = await _attachment_json(session, emu, auth)
    assert first["url"] != second["url"]
    assert first["sha256"] == second["sha256"]


async def test_issue_redirect_false_returns_url_response(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    attachment = await _attachment_json(session, emu, auth)
    async with session.get(f"{attachment['url']}?issueRedirect=false", headers=auth) as response:
        assert response.status == 200
        body = await response.json()
    assert set(body) == {"url"}
    assert "Signature=" in body["url"]
    assert "Expires=" in body["url"]


async def test_storage_refuses_authorization_header(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    attachment = await _attachment_json(session, emu, auth)
    async with session.get(f"{attachment['url']}?issueRedirect=false", headers=auth) as response:
        signed = (await response.json())["url"]
    async with session.get(signed, headers=auth) as response:
        assert response.status == 400
        assert "Only one auth mechanism allowed" in await response.text()
    assert emu.stats()["storageRequestsWithAuthorization"] == 1


async def test_signed_url_expires_then_message_endpoint_gives_a_working_one(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    attachment = await _attachment_json(session, emu, auth)
    async with session.get(f"{attachment['url']}?issueRedirect=false", headers=auth) as response:
        signed = (await response.json())["url"]
    async with session.get(signed) as response:
        assert response.status == 200
    emu.expire_links()
    async with session.get(signed) as response:
        assert response.status == 403
    async with session.get(str(attachment["url"]), headers=auth) as response:
        assert response.status == 404  # the download link is stale too
    fresh = await _attachment_json(session, emu, auth)
    async with session.get(str(fresh["url"]), headers=auth) as response:
        assert response.status == 200
        assert hashlib.sha256(await response.read()).hexdigest() == attachment["sha256"]


async def test_tampered_signature_is_forbidden(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    attachment = await _attachment_json(session, emu, auth)
    async with session.get(f"{attachment['url']}?issueRedirect=false", headers=auth) as response:
        signed: str = (await response.json())["url"]
    tampered = signed.replace("Expires=", "Expires=9")
    async with session.get(tampered) as response:
        assert response.status == 403


async def test_bulk_returns_text_message_listing(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    conversation = emu.conversations()[0]
    ids = [m.id for m in conversation.messages]
    url = f"{emu.api_url}/api/v2/conversations/messages/{conversation.id}/messages/bulk"
    async with session.post(
        url, params={"useNormalizedMessage": "true"}, json=ids, headers=auth
    ) as response:
        assert response.status == 200
        body = await response.json()
    assert [e["id"] for e in body["entities"]] == ids
    assert all("normalizedMessage" in e for e in body["entities"])


async def test_storage_serves_byte_ranges(
    emu: EmulatorHandle, session: aiohttp.ClientSession
) -> None:
    _, _, attachment = emu.attachments()[0]
    expected = emu.expected_object(attachment)
    async with session.get(
        emu.state.signed_url(attachment.object_key), headers={"Range": "bytes=0-9"}
    ) as response:
        assert response.status == 206
        assert response.headers["Content-Range"] == f"bytes 0-9/{expected.size}"
        assert len(await response.read()) == 10
