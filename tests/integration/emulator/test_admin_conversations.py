"""POST /__emulator__/conversations: what a new user sends, and what comes out of it."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from starlette.types import Message, Scope

from genesys_emulator.emulator import Emulator
from genesys_emulator.events import conversation_events
from genesys_emulator.server import build_host_app
from genesys_emulator.testing import EmulatorHandle
from tests.integration.emulator.emulator_helpers import small_config

pytestmark = pytest.mark.integration


async def _post(
    session: aiohttp.ClientSession, emu: EmulatorHandle, body: dict[str, Any]
) -> tuple[int, Any]:
    async with session.post(f"{emu.api_url}/__emulator__/conversations", json=body) as response:
        return response.status, await response.json()


def _detail_bodies(emu: EmulatorHandle, conversation_id: str) -> dict[str, dict[str, Any]]:
    """Detail events of the conversation that the emulator emitted, by activity."""
    with emu.state.lock:
        events = list(emu.state.events)
    found: dict[str, dict[str, Any]] = {}
    for event in events:
        topic: str = event["detail"]["topicName"]
        prefix = f"v2.detail.events.conversation.{conversation_id}."
        if topic.startswith(prefix):
            found[topic.removeprefix(prefix)] = event["detail"]["eventBody"]
    return found


async def test_a_list_of_texts_is_what_the_customer_sends(
    emu: EmulatorHandle, session: aiohttp.ClientSession
) -> None:
    texts = ["My card was stolen.", "Please block it."]
    status, body = await _post(session, emu, {"texts": texts, "attachments": []})
    assert status == 201, body
    conversation = emu.state.conversation(body[0]["id"])
    assert conversation is not None
    sent = [m.text for m in conversation.messages if m.direction == "inbound"]
    assert sent == texts


async def test_a_count_of_texts_still_sends_canned_ones(
    emu: EmulatorHandle, session: aiohttp.ClientSession
) -> None:
    status, body = await _post(session, emu, {"texts": 3, "attachments": [], "count": 2})
    assert status == 201, body
    assert len(body) == 2
    conversation = emu.state.conversation(body[0]["id"])
    assert conversation is not None
    assert sum(1 for m in conversation.messages if m.direction == "inbound" and m.text) == 3


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("texts", "hello"),
        ("texts", [1, 2]),
        ("texts", -1),
        ("count", "two"),
        ("channel", "carrier-pigeon"),
        ("attachments", ["ogg_opus", "tiff"]),
        ("kind", "fax"),
    ],
)
async def test_a_field_it_cannot_use_answers_400_naming_it(
    emu: EmulatorHandle, session: aiohttp.ClientSession, field: str, value: Any
) -> None:
    before = len(emu.conversations())
    status, body = await _post(session, emu, {field: value})
    assert status == 400
    assert body["status"] == 400
    assert body["code"] == "bad.request"
    assert body["messageParams"] == {"field": field}
    assert body["message"].startswith(f"{field}: ")
    assert len(emu.conversations()) == before  # nothing half-made


async def test_the_channel_name_is_read_case_insensitively(
    emu: EmulatorHandle, session: aiohttp.ClientSession
) -> None:
    status, body = await _post(session, emu, {"channel": "WhatsApp"})
    assert status == 201, body
    assert body[0]["channel"] == "whatsapp"
    details = _detail_bodies(emu, body[0]["id"])
    assert details, "no detail events emitted"
    assert {b["messageType"] for b in details.values() if "messageType" in b} == {"WHATSAPP"}


async def test_acd_end_does_not_carry_the_agents_session(emu: EmulatorHandle) -> None:
    for conversation in emu.conversations():
        events = conversation_events(emu.state, conversation, "detail")
        acd_end = [
            e["detail"]["eventBody"] for e in events if e["detail-type"].endswith(".acd.end")
        ]
        assert len(acd_end) == 1
        body = acd_end[0]
        assert body["participantId"] == conversation.acd_participant_id
        assert body.get("sessionId") not in (
            conversation.agent_session_id,
            conversation.customer_session_id,
        )


async def test_without_a_builder_adding_conversations_answers_409() -> None:
    """EmulatorServers(state) with no ScenarioBuilder: the admin API cannot add any."""
    emulator = Emulator(small_config())
    try:
        app = build_host_app(emulator.state, "api", emulator.state.limiter)  # no builder
        sent: list[Message] = []
        scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/__emulator__/conversations",
            "raw_path": b"/__emulator__/conversations",
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")],
            "server": ("127.0.0.1", 80),
            "client": ("127.0.0.1", 1234),
        }

        async def receive() -> Message:
            return {"type": "http.request", "body": b"{}", "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        await app(scope, receive, send)
    finally:
        emulator.state.close()
    assert sent[0]["status"] == 409
    body = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert body["code"] == "conflict"
