"""Tokens, 401 codes, 403 permission messages and 429 rate limiting over real sockets."""

from __future__ import annotations

import time

import aiohttp
import pytest

from genesys_emulator.config import NO_MESSAGE_PERMS_CLIENT_ID, NO_MESSAGE_PERMS_CLIENT_SECRET
from genesys_emulator.testing import EmulatorHandle, running_emulator
from tests.integration.emulator.emulator_helpers import basic, get_token, small_config

pytestmark = pytest.mark.integration


def _message_url(emu: EmulatorHandle) -> str:
    conversation, message, _ = emu.attachments()[0]
    return f"{emu.api_url}/api/v2/conversations/messages/{conversation.id}/messages/{message.id}"


async def test_token_response_shape(emu: EmulatorHandle, session: aiohttp.ClientSession) -> None:
    async with session.post(
        f"{emu.login_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(emu.client_id, emu.client_secret),
    ) as response:
        assert response.status == 200
        body = await response.json()
    assert body["token_type"] == "bearer"
    assert 86000 < body["expires_in"] <= 86399
    assert len(body["access_token"]) > 20


async def test_bad_client_secret_is_refused(
    emu: EmulatorHandle, session: aiohttp.ClientSession
) -> None:
    async with session.post(
        f"{emu.login_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(emu.client_id, "wrong"),
    ) as response:
        assert response.status == 401
        assert (await response.json())["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("header", "code"),
    [(None, "authentication.required"), ("Bearer not-a-token", "bad.credentials")],
)
async def test_401_codes(
    emu: EmulatorHandle, session: aiohttp.ClientSession, header: str | None, code: str
) -> None:
    headers = {"Authorization": header} if header else {}
    async with session.get(_message_url(emu), headers=headers) as response:
        assert response.status == 401
        assert response.headers["ININ-Correlation-Id"]
        body = await response.json()
    assert body["code"] == code
    assert body["status"] == 401


async def test_token_expires() -> None:
    config = small_config(token_lifetime_s=0.3)
    with running_emulator(config) as emu:
        async with aiohttp.ClientSession() as session:
            token = await get_token(session, emu)
            headers = {"Authorization": f"Bearer {token}"}
            async with session.get(_message_url(emu), headers=headers) as response:
                assert response.status == 200
            deadline = time.monotonic() + 5
            status, body = 200, {}
            while status == 200 and time.monotonic() < deadline:
                async with session.get(_message_url(emu), headers=headers) as response:
                    status, body = response.status, await response.json()
            assert status == 401
            assert body["code"] == "credentials.expired"
            fresh = {"Authorization": f"Bearer {await get_token(session, emu)}"}
            async with session.get(_message_url(emu), headers=fresh) as response:
                assert response.status == 200


async def test_403_names_any_of_message_permissions(
    emu: EmulatorHandle, session: aiohttp.ClientSession
) -> None:
    token = await get_token(
        session, emu, NO_MESSAGE_PERMS_CLIENT_ID, NO_MESSAGE_PERMS_CLIENT_SECRET
    )
    async with session.get(
        _message_url(emu), headers={"Authorization": f"Bearer {token}"}
    ) as response:
        assert response.status == 403
        body = await response.json()
    assert body["code"] == "missing.any.permissions"
    assert "conversation:message:view" in body["message"]
    assert "conversation:webmessaging:view" in body["message"]
    assert body["messageParams"]["permissions"] == (
        "[conversation:message:view, conversation:webmessaging:view]"
    )
    # the conversation endpoint needs no permission
    conversation = emu.attachments()[0][0]
    async with session.get(
        f"{emu.api_url}/api/v2/conversations/messages/{conversation.id}",
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        assert response.status == 200


async def test_403_names_missing_all_of_permission() -> None:
    config = small_config()
    config.clients[0].permissions = frozenset({"recording:recording:view"})
    with running_emulator(config) as emu:
        voice = next(c for c in emu.conversations() if c.kind == "voice")
        async with aiohttp.ClientSession() as session:
            token = await get_token(session, emu)
            url = (
                f"{emu.api_url}/api/v2/speechandtextanalytics/conversations/{voice.id}"
                f"/communications/{voice.customer_session_id}/transcripturl"
            )
            async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
                assert response.status == 403
                body = await response.json()
    assert body["code"] == "missing.permissions"
    assert body["message"].endswith("[speechAndTextAnalytics:data:view]")


async def test_429_with_retry_after(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    emu.set_rate_limit(5, 60.0)
    statuses = []
    retry_after = None
    body: dict[str, object] = {}
    for _ in range(7):
        async with session.get(_message_url(emu), headers=auth) as response:
            statuses.append(response.status)
            if response.status == 429:
                retry_after = response.headers["Retry-After"]
                body = await response.json()
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429, 429]
    assert retry_after is not None
    assert int(retry_after) >= 1
    assert body["code"] == "too.many.requests"
    assert body["message"] == "Rate limit exceeded the maximum [5] requests within [60] seconds"


async def test_rate_limit_is_per_token_in_a_rolling_window(
    emu: EmulatorHandle, session: aiohttp.ClientSession
) -> None:
    emu.set_rate_limit(3, 1.0)
    first = {"Authorization": f"Bearer {await get_token(session, emu)}"}
    second = {"Authorization": f"Bearer {await get_token(session, emu)}"}  # same client

    async def status(headers: dict[str, str]) -> int:
        async with session.get(_message_url(emu), headers=headers) as response:
            return response.status

    assert [await status(first) for _ in range(4)] == [200, 200, 200, 429]
    # another token of the same client has a window of its own
    assert [await status(second) for _ in range(3)] == [200, 200, 200]
    time.sleep(1.05)  # the first token's requests have left the window
    assert [await status(first) for _ in range(4)] == [200, 200, 200, 429]


async def test_download_requests_count_only_when_configured(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    _, attachment = emu.attachments()[0][1:]
    url = emu.state.download_url(attachment.object_key) + "?issueRedirect=false"

    async def statuses(count: int) -> list[int]:
        found = []
        for _ in range(count):
            async with session.get(url, headers=auth) as response:
                found.append(response.status)
        return found

    emu.set_rate_limit(2, 60.0)
    assert await statuses(3) == [200, 200, 429]
    emu.set_rate_limit(2, 60.0, count_downloads=False)
    assert await statuses(4) == [200] * 4
    async with session.put(
        f"{emu.api_url}/__emulator__/ratelimit",
        json={"requests": 2, "windowS": 60, "countDownloads": True},
    ) as response:
        assert (await response.json())["countDownloads"] is True
    assert await statuses(3) == [200, 200, 429]
