"""Every response and event the bridge relies on, checked field by field against the SDK."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from genesys_emulator.config import NO_MESSAGE_PERMS_CLIENT_ID, NO_MESSAGE_PERMS_CLIENT_SECRET
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import EmulatorHandle
from tests.integration.emulator.emulator_helpers import get_token
from tests.integration.emulator.emulator_sdk_check import assert_conforms, check_model

pytestmark = pytest.mark.integration


async def _get(session: aiohttp.ClientSession, url: str, **kwargs: Any) -> tuple[int, Any]:
    async with session.get(url, **kwargs) as response:
        return response.status, await response.json()


async def test_checker_catches_wrong_fields() -> None:
    assert check_model({"url": 3}, "UrlResponse")
    assert check_model({"nope": "x"}, "UrlResponse")
    assert check_model({"fileState": "LOST"}, "Recording")
    assert not check_model({"url": "x"}, "UrlResponse")


async def test_messaging_responses_conform(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    checked = 0
    for conversation in emu.conversations():
        if conversation.kind != "message":
            continue
        base = f"{emu.api_url}/api/v2/conversations/messages/{conversation.id}"
        status, body = await _get(session, base, headers=auth)
        assert status == 200
        assert_conforms(body, "MessageConversation")
        for message in conversation.messages:
            status, body = await _get(session, f"{base}/messages/{message.id}", headers=auth)
            assert status == 200
            assert_conforms(body, "MessageData")
            checked += 1
        async with session.post(
            f"{base}/messages/bulk",
            params={"useNormalizedMessage": "true"},
            json=[m.id for m in conversation.messages],
            headers=auth,
        ) as response:
            assert_conforms(await response.json(), "TextMessageListing")
        status, body = await _get(
            session,
            f"{emu.api_url}/api/v2/conversations/{conversation.id}/recordings",
            headers=auth,
        )
        assert_conforms(body, "list[Recording]")
        status, body = await _get(
            session, f"{emu.api_url}/api/v2/conversations/{conversation.id}", headers=auth
        )
        assert_conforms(body, "Conversation")
    assert checked >= 8
    _, attachment = emu.attachments()[0][1:]
    url = emu.state.download_url(attachment.object_key) + "?issueRedirect=false"
    status, body = await _get(session, url, headers=auth)
    assert status == 200
    assert_conforms(body, "UrlResponse")


async def test_voice_responses_conform(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    voice = next(c for c in emu.conversations() if c.kind == "voice")
    status, body = await _get(
        session, f"{emu.api_url}/api/v2/conversations/{voice.id}", headers=auth
    )
    assert_conforms(body, "Conversation")
    customer = next(p for p in body["participants"] if p["purpose"] == "customer")
    communication_id = customer["calls"][0]["id"]
    for format_id in ("WAV", "NONE"):
        status, body = await _get(
            session,
            f"{emu.api_url}/api/v2/conversations/{voice.id}/recordings",
            params={"formatId": format_id},
            headers=auth,
        )
        assert status == 200
        assert_conforms(body, "list[Recording]")
        status, body = await _get(
            session,
            f"{emu.api_url}/api/v2/conversations/{voice.id}/recordings/{body[0]['id']}",
            params={"formatId": format_id},
            headers=auth,
        )
        assert_conforms(body, "Recording")
    status, body = await _get(
        session,
        f"{emu.api_url}/api/v2/speechandtextanalytics/conversations/{voice.id}"
        f"/communications/{communication_id}/transcripturl",
        headers=auth,
    )
    assert status == 200
    assert_conforms(body, "TranscriptUrl")
    status, transcript = await _get(session, body["url"])
    assert status == 200
    assert transcript["communicationId"] == communication_id
    assert {p["participantPurpose"] for p in transcript["transcripts"][0]["phrases"]} == {
        "internal",
        "external",
    }


async def test_external_contacts_conform_and_carry_consent(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    whatsapp = next(c for c in emu.conversations() if c.channel == "whatsapp")
    whatsapp.consent = "late"
    url = f"{emu.api_url}/api/v2/externalcontacts/contacts/{whatsapp.external_contact_id}"
    status, first = await _get(session, url, headers=auth)
    assert status == 200
    assert_conforms(first, "ExternalContact")
    assert first["id"] == whatsapp.external_contact_id
    assert first["whatsAppId"]["phoneNumber"]["e164"] == whatsapp.customer_address
    field = emu.config.scenario.consent_field
    assert field not in first["customFields"]  # a late answer: not on the first read
    _, second = await _get(session, url, headers=auth)
    assert second["customFields"][field] == "granted"
    status, missing = await _get(
        session, f"{emu.api_url}/api/v2/externalcontacts/contacts/{'0' * 8}", headers=auth
    )
    assert status == 404
    assert_conforms(missing, "ErrorBody")
    token = await get_token(
        session, emu, NO_MESSAGE_PERMS_CLIENT_ID, NO_MESSAGE_PERMS_CLIENT_SECRET
    )
    status, refused = await _get(session, url, headers={"Authorization": f"Bearer {token}"})
    assert status == 403
    assert_conforms(refused, "ErrorBody")
    assert "externalContacts:contact:view" in str(refused)


async def test_participant_data_carries_consent(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    voice = next(c for c in emu.conversations() if c.kind == "voice")
    voice.consent = "refused"
    _, body = await _get(session, f"{emu.api_url}/api/v2/conversations/{voice.id}", headers=auth)
    customer = next(p for p in body["participants"] if p["purpose"] == "customer")
    assert customer["attributes"] == {emu.config.scenario.consent_attribute: "refused"}
    messaging = next(c for c in emu.conversations() if c.kind == "message")
    messaging.consent = "none"
    _, body = await _get(
        session, f"{emu.api_url}/api/v2/conversations/messages/{messaging.id}", headers=auth
    )
    assert_conforms(body, "MessageConversation")
    customer = next(p for p in body["participants"] if p["purpose"] == "customer")
    assert customer["attributes"] == {}


async def test_analytics_query_conforms_and_filters(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    interval = f"{(now - timedelta(days=1)).isoformat()}/{(now + timedelta(hours=1)).isoformat()}"
    url = f"{emu.api_url}/api/v2/analytics/conversations/details/query"
    query = {"interval": interval, "paging": {"pageSize": 2, "pageNumber": 1}}
    async with session.post(url, json=query, headers=auth) as response:
        assert response.status == 200
        body = await response.json()
    assert_conforms(body, "AnalyticsConversationQueryResponse")
    assert body["totalHits"] == len(emu.conversations())
    assert len(body["conversations"]) == 2
    voice_query = {
        "interval": interval,
        "segmentFilters": [
            {"type": "and", "predicates": [{"dimension": "mediaType", "value": "voice"}]}
        ],
    }
    async with session.post(url, json=voice_query, headers=auth) as response:
        body = await response.json()
    assert body["totalHits"] == 1
    old = {"interval": "2001-01-01T00:00:00Z/2001-01-02T00:00:00Z"}
    async with session.post(url, json=old, headers=auth) as response:
        assert (await response.json()) == {"totalHits": 0}


async def test_batch_and_limits_responses_conform(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    voice = next(c for c in emu.conversations() if c.kind == "voice")
    pairs = [{"conversationId": voice.id, "recordingId": voice.recordings[0].id}]
    url = f"{emu.api_url}/api/v2/recording/batchrequests"
    async with session.post(url, json={"batchDownloadRequestList": pairs}, headers=auth) as r:
        submitted = await r.json()
    assert_conforms(submitted, "BatchDownloadJobSubmissionResult")
    status, job = await _get(session, f"{url}/{submitted['id']}", headers=auth)
    assert status == 200
    assert_conforms(job, "BatchDownloadJobStatusResult")
    assert job["results"][0]["resultUrl"]
    status, limits = await _get(
        session,
        f"{emu.api_url}/api/v2/organizations/limits/namespaces/platform.api",
        headers=auth,
    )
    assert status == 200
    assert_conforms(limits, "LimitsEntityListing")
    assert limits["entities"][0]["value"] == emu.config.rate_limit_requests


async def test_error_bodies_conform(emu: EmulatorHandle, session: aiohttp.ClientSession) -> None:
    conversation, message, _ = emu.attachments()[0]
    url = f"{emu.api_url}/api/v2/conversations/messages/{conversation.id}/messages/{message.id}"
    status, body = await _get(session, url)
    assert status == 401
    assert_conforms(body, "ErrorBody")
    token = await get_token(
        session, emu, NO_MESSAGE_PERMS_CLIENT_ID, NO_MESSAGE_PERMS_CLIENT_SECRET
    )
    status, body = await _get(session, url, headers={"Authorization": f"Bearer {token}"})
    assert status == 403
    assert_conforms(body, "ErrorBody")
    status, body = await _get(
        session,
        f"{emu.api_url}/api/v2/conversations/messages/{conversation.id}/messages/{'0' * 32}",
        headers={"Authorization": f"Bearer {await get_token(session, emu)}"},
    )
    assert status == 404
    assert body["code"] == "not.found"
    assert_conforms(body, "ErrorBody")
    emu.set_rate_limit(1, 60)
    auth = {"Authorization": f"Bearer {await get_token(session, emu)}"}
    await _get(session, url, headers=auth)
    status, body = await _get(session, url, headers=auth)
    assert status == 429
    assert_conforms(body, "ErrorBody")


def test_events_conform(emu: EmulatorHandle) -> None:
    events = scenario_events(emu.state, "both")
    seen = set()
    for event in events:
        detail = event["detail"]
        topic = detail["topicName"]
        body = detail["eventBody"]
        if topic.startswith("v2.routing.queues."):
            model = "QueueConversationMessageEventTopicMessageConversation"
        elif topic.startswith("v2.users."):
            model = "ConversationMessageEventTopicMessageConversation"
        elif topic.endswith(".transcription"):
            model = "TranscriptionTopicTranscriptionMessage"
        elif topic.endswith(".acd.end"):
            model = "AcdEndDetailEventTopicAcdEndEvent"
        elif topic.endswith(".acw"):
            model = "AcwDetailEventTopicAfterCallWorkEvent"
        else:  # customer.start has no model in the reference; customer.end's is a superset
            model = "CustomerEndDetailEventTopicCustomerEndEvent"
        assert_conforms(body, model)
        seen.add(model)
    assert len(seen) == 6


def test_detail_events_name_contacts_and_carry_real_times(emu: EmulatorHandle) -> None:
    events = scenario_events(emu.state, "detail")
    details = [e for e in events if ".detail.events." in e["detail"]["topicName"]]
    assert details
    with_millis = 0
    for event in details:
        body = event["detail"]["eventBody"]
        conversation = emu.state.conversations[body["conversationId"]]
        assert body["conversationExternalContactIds"] == [conversation.external_contact_id]
        if ".customer." in event["detail"]["topicName"]:
            assert body["externalOrganizationId"]
        else:
            assert "externalOrganizationId" not in body
        event_time = datetime.fromtimestamp(body["eventTime"] / 1000, UTC)
        with_millis += body["eventTime"] % 1000 != 0
        timestamp = event["detail"]["timestamp"]
        assert len(timestamp) == len("2026-01-01T00:00:00.000Z")
        published = datetime.fromisoformat(timestamp)
        assert timedelta(milliseconds=10) <= published - event_time <= timedelta(milliseconds=100)
        assert event["time"] == published.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert with_millis == len(details)


def test_calls_emit_transcription_events(emu: EmulatorHandle) -> None:
    voice = next(c for c in emu.conversations() if c.kind == "voice")
    events = [
        e
        for e in scenario_events(emu.state, "detail")
        if e["detail"]["topicName"] == f"v2.conversations.{voice.id}.transcription"
    ]
    bodies = [e["detail"]["eventBody"] for e in events]
    assert {b["communicationId"] for b in bodies} == {voice.customer_session_id}
    results = [t for b in bodies for t in b["transcripts"]]
    assert any(not t["isFinal"] for t in results)
    finals = [t for t in results if t["isFinal"]]
    assert len({t["utteranceId"] for t in finals}) == len(finals) >= 2
    assert {t["channel"] for t in finals} == {"EXTERNAL", "INTERNAL"}
    assert bodies[-1]["status"]["status"] == "SESSION_ENDED"
    assert bodies[-1]["transcripts"] == []
    assert all(b["status"]["status"] == "SESSION_ONGOING" for b in bodies[:-1])
