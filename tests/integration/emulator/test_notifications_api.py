"""The emulator's Notifications API over real sockets: channels, subscriptions and limits,
the channel WebSocket (frames, heartbeats, drops, socket_closing, expiry), queues, topics."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from genesys_emulator.testing import EmulatorHandle, running_emulator
from tests.integration.emulator.emulator_helpers import get_token, small_config

CHANNELS = "/api/v2/notifications/channels"


async def _json(response: aiohttp.ClientResponse) -> Any:
    return json.loads(await response.text())


async def _channel(session: aiohttp.ClientSession, emu: EmulatorHandle, auth: Any) -> Any:
    async with session.post(f"{emu.api_url}{CHANNELS}", headers=auth) as response:
        assert response.status == 200, await response.text()
        return await _json(response)


async def _frames(ws: aiohttp.ClientWebSocketResponse, n: int, timeout: float = 5.0) -> list[Any]:
    found: list[Any] = []
    while len(found) < n:
        message = await asyncio.wait_for(ws.receive(), timeout)
        if message.type != aiohttp.WSMsgType.TEXT:
            found.append({"closed": message.type.name})
            break
        found.append(json.loads(message.data))
    return found


async def test_channel_subscribe_and_receive_bare_frames(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    channel = await _channel(session, emu, auth)
    assert set(channel) == {"id", "connectUri", "expires"}
    assert channel["connectUri"].startswith("ws://")
    queue = emu.builder.queue_id
    topic = f"v2.routing.queues.{queue}.conversations.messages"
    body = [{"id": topic}, {"id": "v2.nothing.{id}"}, {"id": "v2.detail.events.conversation.x.acw"}]
    async with session.put(
        f"{emu.api_url}{CHANNELS}/{channel['id']}/subscriptions", json=body, headers=auth
    ) as response:
        assert response.status == 200
        listing = await _json(response)
    assert [e["id"] for e in listing["entities"]] == [topic]
    async with session.ws_connect(channel["connectUri"]) as ws:
        async with session.post(
            f"{emu.api_url}/__emulator__/conversations",
            json={"kind": "message", "attachments": ["ogg_opus"], "texts": 1},
        ) as response:
            assert response.status == 201
        (frame,) = await _frames(ws, 1)
    assert set(frame) == {"topicName", "version", "eventBody", "metadata"}
    assert frame["topicName"] == topic
    assert "source" not in frame
    assert frame["eventBody"]["participants"]


async def test_limits_errors_and_listing(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    emu.config.notification_max_channels = 3
    first = await _channel(session, emu, auth)
    for _ in range(3):
        await _channel(session, emu, auth)
    async with session.get(f"{emu.api_url}{CHANNELS}", headers=auth) as response:
        ids = [c["id"] for c in (await _json(response))["entities"]]
    assert len(ids) == 3
    assert first["id"] not in ids
    topics = [{"id": f"v2.conversations.{i:08d}-0000.transcription"} for i in range(1001)]
    url = f"{emu.api_url}{CHANNELS}/{ids[0]}/subscriptions"
    async with session.put(url, json=topics, headers=auth) as response:
        assert response.status == 400
        error = await _json(response)
        assert error["code"] == "bad.request"
        assert "1000" in error["message"]
    async with session.put(url, json=topics[:1000], headers=auth) as response:
        assert response.status == 200
    async with session.post(url, json=topics[1000:], headers=auth) as response:
        assert response.status == 400  # POST adds: 1,001 in all
    async with session.get(url, headers=auth) as response:
        assert len((await _json(response))["entities"]) == 1000
    async with session.put(
        f"{emu.api_url}{CHANNELS}/nope/subscriptions", json=[], headers=auth
    ) as r:
        assert r.status == 404
        assert (await _json(r))["code"] == "not.found"
    async with session.put(url, json={"id": "x"}, headers=auth) as response:
        assert response.status == 400


async def test_heartbeats_drop_and_socket_closing() -> None:
    with running_emulator(small_config(notification_heartbeat_s=0.2)) as emu:
        async with aiohttp.ClientSession() as session:
            auth = {"Authorization": f"Bearer {await get_token(session, emu)}"}
            channel = await _channel(session, emu, auth)
            async with session.ws_connect(channel["connectUri"]) as ws:
                beats = await _frames(ws, 2, timeout=2.0)
                assert (
                    beats
                    == [
                        {
                            "topicName": "channel.metadata",
                            "eventBody": {"message": "WebSocket Heartbeat"},
                        }
                    ]
                    * 2
                )
                async with session.post(
                    f"{emu.api_url}/__emulator__/notifications/socket-closing", json={}
                ) as response:
                    assert (await response.json())["announced"] == 1
                frames = await _frames(ws, 3, timeout=2.0)
                assert any(f.get("topicName") == "v2.system.socket_closing" for f in frames)
                async with session.post(
                    f"{emu.api_url}/__emulator__/notifications/drop", json={}
                ) as response:
                    assert (await response.json())["dropped"] == 1
                rest = await _frames(ws, 10, timeout=2.0)
                assert rest[-1].get("closed") in {"CLOSE", "CLOSED", "CLOSING"}
            # an unknown channel's handshake is refused
            bad = channel["connectUri"].rsplit("/", 1)[0] + "/streaming-nope"
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                async with session.ws_connect(bad):
                    pass
            assert refused.value.status == 403


async def test_channel_expires_unless_resubscribed() -> None:
    with running_emulator(
        small_config(notification_channel_lifetime_s=0.6, notification_heartbeat_s=5.0)
    ) as emu:
        async with aiohttp.ClientSession() as session:
            auth = {"Authorization": f"Bearer {await get_token(session, emu)}"}
            kept, gone = await _channel(session, emu, auth), await _channel(session, emu, auth)
            async with session.ws_connect(gone["connectUri"]) as ws:
                for _ in range(3):
                    await asyncio.sleep(0.3)
                    url = f"{emu.api_url}{CHANNELS}/{kept['id']}/subscriptions"
                    async with session.put(url, json=[], headers=auth) as response:
                        assert response.status == 200
                frames = await _frames(ws, 2, timeout=2.0)
            assert frames[0]["topicName"] == "v2.system.socket_closing"
            assert frames[1].get("closed")
            async with session.get(f"{emu.api_url}{CHANNELS}", headers=auth) as response:
                listed = [c["id"] for c in (await _json(response))["entities"]]
            assert listed == [kept["id"]]


async def test_queues_paged_and_available_topics() -> None:
    with running_emulator(small_config(extra_queues=1499)) as emu:
        async with aiohttp.ClientSession() as session:
            auth = {"Authorization": f"Bearer {await get_token(session, emu)}"}
            seen: list[str] = []
            page = 1
            while True:
                async with session.get(
                    f"{emu.api_url}/api/v2/routing/queues",
                    params={"pageSize": "500", "pageNumber": str(page)},
                    headers=auth,
                ) as response:
                    body = await _json(response)
                seen += [q["id"] for q in body["entities"]]
                if "nextUri" not in body:
                    break
                page += 1
            assert len(set(seen)) == 1500 == body["total"]
            assert emu.builder.queue_id in seen
            async with session.get(
                f"{emu.api_url}/api/v2/notifications/availabletopics",
                params={"expand": "transports"},
                headers=auth,
            ) as response:
                topics = {t["id"]: t["transports"] for t in (await _json(response))["entities"]}
            assert "Websocket" in topics["v2.routing.queues.{id}.conversations.messages"]
            assert topics["v2.detail.events.conversation.{id}.customer.end"] == ["EventBridge"]
