"""JSON bodies of API responses, field for field as the SDK models name them."""

from __future__ import annotations

import uuid
from typing import Any

from genesys_emulator.state import Attachment, Conversation, Message, OrgState, Recording
from genesys_emulator.times import epoch_ms, iso

#: the number every emulated call dialled (a voice conversation's DNIS)
CALL_DNIS = "tel:+18005550100"

PLATFORM = {
    "whatsapp": "Whatsapp",
    "webmessaging": "WebMessaging",
    "open": "Open",
    "facebook": "Facebook",
    "instagram": "Instagram",
    "line": "Line",
}


def _ref(state: OrgState, kind: str, entity_id: str) -> dict[str, str]:
    return {"id": entity_id, "selfUri": f"/api/v2/{kind}/{entity_id}"}


def _agent_address(conversation: Conversation) -> str:
    return f"emulator-{conversation.channel}-integration"


def message_media(state: OrgState, attachment: Attachment) -> dict[str, Any]:
    """`MessageMedia` (REST) / `...EventTopicMessageMedia` (events): mediaType is a mime type."""
    obj = state.attachment_object(attachment)
    return {
        "url": state.download_url(attachment.object_key),
        "mediaType": attachment.mime,
        "contentLengthBytes": obj.size,
        "name": attachment.filename,
        "id": attachment.id,
    }


def message_metadata(message: Message) -> dict[str, Any]:
    """``messageMetadata``: a ``Text`` entry when the message has text (the SDK enum lists
    ``Text`` among the content types; that Genesys lists it is an assumption, see
    docs/emulator.md), then one ``Attachment`` entry per attachment."""
    content: list[dict[str, Any]] = [{"contentType": "Text"}] if message.text else []
    content += [{"contentType": "Attachment", "subType": a.media_type} for a in message.attachments]
    return {"type": "Text", "content": content}


def message_details(
    state: OrgState, conversation: Conversation, message: Message
) -> dict[str, Any]:
    """`MessageDetails` as in GET /api/v2/conversations/messages/{id}."""
    details: dict[str, Any] = {
        "messageId": message.id,
        "messageURI": (f"/api/v2/conversations/messages/{conversation.id}/messages/{message.id}"),
        "messageStatus": "received" if message.direction == "inbound" else "sent",
        "messageSegmentCount": 1,
        "messageTime": iso(message.timestamp),
        "messageMetadata": message_metadata(message),
    }
    if message.attachments:
        details["media"] = [message_media(state, a) for a in message.attachments]
    return details


def _participants_base(conversation: Conversation) -> list[dict[str, Any]]:
    start = iso(conversation.start)
    end = iso(conversation.end) if conversation.end else None
    state = "disconnected" if conversation.end else "connected"
    customer: dict[str, Any] = {
        "id": conversation.customer_participant_id,
        "startTime": start,
        "connectedTime": start,
        "purpose": "customer",
        "state": state,
        "direction": "inbound",
        "held": False,
        "wrapupRequired": False,
        "type": conversation.channel,
        "recipientType": "external",
        "externalContact": {"id": conversation.external_contact_id},
        "name": conversation.customer_name,
        "fromAddress": {"addressNormalized": conversation.customer_address},
        "toAddress": {"addressNormalized": _agent_address(conversation)},
    }
    acd: dict[str, Any] = {
        "id": conversation.acd_participant_id,
        "startTime": start,
        "purpose": "acd",
        "state": "disconnected",
        "direction": "inbound",
        "held": False,
        "wrapupRequired": False,
        "type": conversation.channel,
        "queue": {"id": conversation.queue_id},
    }
    agent: dict[str, Any] = {
        "id": conversation.agent_participant_id,
        "startTime": start,
        "connectedTime": start,
        "purpose": "agent",
        "state": state,
        "direction": "inbound",
        "held": False,
        "wrapupRequired": True,
        "type": conversation.channel,
        "user": {"id": conversation.user_id},
        "queue": {"id": conversation.queue_id},
    }
    if end:
        for participant in (customer, acd, agent):
            participant["endTime"] = end
            participant["disconnectType"] = "client" if participant is customer else "endpoint"
    return [customer, acd, agent]


def divisions(conversation: Conversation) -> list[dict[str, Any]]:
    return [
        {
            "division": {"id": conversation.division_id},
            "entities": [{"id": conversation.queue_id}],
        }
    ]


def consent_answer(state: OrgState, conversation: Conversation, reads: int) -> str | None:
    """The customer's recorded biometrics consent as the ``reads``-th read shows it."""
    if conversation.consent in ("granted", "refused"):
        return conversation.consent
    if conversation.consent == "late" and reads > state.config.scenario.consent_late_reads:
        return "granted"
    return None


def participant_attributes(state: OrgState, conversation: Conversation) -> dict[str, str]:
    """The customer's participant data (``attributes``) as an Architect flow set it."""
    answer = consent_answer(state, conversation, state.reads[f"conversation:{conversation.id}"])
    if answer is None:
        return {}
    return {state.config.scenario.consent_attribute: answer}


def external_organization_id(state: OrgState) -> str:
    """The one external organisation every emulated customer belongs to (an assumption:
    real detail events name one; a B2C org may file consumers under one)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"genesys-emulator:{state.config.org_id}:customers"))


def external_contact(
    state: OrgState, conversations: list[Conversation], reads: int
) -> dict[str, Any]:
    """`ExternalContact` of one emulated person, with the consent custom field."""
    first = conversations[0]
    phone = next(
        (
            c.customer_address.removeprefix("tel:")
            for c in conversations
            if c.channel in ("whatsapp", "voice")
        ),
        None,
    )
    first_name, _, last_name = first.customer_name.partition(" ")
    contact: dict[str, Any] = {
        "id": first.external_contact_id,
        "firstName": first_name,
        "lastName": last_name,
        "type": "Curated",
        "createDate": iso(first.start),
        "modifyDate": iso(first.start),
        "customFields": {},
        "externalOrganization": {
            "id": external_organization_id(state),
            "name": "Customers",
            "selfUri": f"/api/v2/externalcontacts/organizations/{external_organization_id(state)}",
        },
        "selfUri": f"/api/v2/externalcontacts/contacts/{first.external_contact_id}",
    }
    if phone is not None:
        contact["cellPhone"] = {"e164": phone, "display": phone, "acceptsSMS": True}
        if any(c.channel == "whatsapp" for c in conversations):
            contact["whatsAppId"] = {
                "displayName": first.customer_name,
                "phoneNumber": {"e164": phone, "display": phone},
            }
    answer = consent_answer(state, first, reads)
    if answer is not None:
        contact["customFields"][state.config.scenario.consent_field] = answer
    return contact


def message_conversation(state: OrgState, conversation: Conversation) -> dict[str, Any]:
    """`MessageConversation`: participants with their messages[] and media[]."""
    participants = _participants_base(conversation)
    participants[0]["attributes"] = participant_attributes(state, conversation)
    by_id = {p["id"]: p for p in participants}
    for participant in participants:
        participant["messages"] = []
    for message in conversation.messages:
        by_id[message.participant_id]["messages"].append(
            message_details(state, conversation, message)
        )
    return {
        "id": conversation.id,
        "participants": participants,
        "divisions": divisions(conversation),
        "selfUri": f"/api/v2/conversations/messages/{conversation.id}",
    }


def attachment_content(state: OrgState, attachment: Attachment) -> dict[str, Any]:
    obj = state.attachment_object(attachment)
    return {
        "contentType": "Attachment",
        "attachment": {
            "id": attachment.id,
            "mediaType": attachment.media_type,
            "url": state.download_url(attachment.object_key),
            "mime": attachment.mime,
            "filename": attachment.filename,
            "sha256": obj.sha256,
            "contentSizeBytes": obj.size,
        },
    }


def message_data(state: OrgState, conversation: Conversation, message: Message) -> dict[str, Any]:
    """`MessageData` with normalizedMessage.content[]; every call issues fresh links."""
    inbound = message.direction == "inbound"
    # WhatsApp senders are phone numbers in E.164; other messengers give an opaque
    # platform id (a PSID, a guest id); both name the external contact Genesys matched
    customer = {
        "id": conversation.customer_address,
        "idType": "Phone" if conversation.channel == "whatsapp" else "Opaque",
        "nickname": conversation.customer_name,
        "externalContactId": conversation.external_contact_id,
    }
    integration = {"id": _agent_address(conversation)}
    channel: dict[str, Any] = {
        "id": _agent_address(conversation),
        "platform": PLATFORM.get(conversation.channel, "Open"),
        "type": "Private",
        "messageId": f"wamid.{message.id}" if conversation.channel == "whatsapp" else message.id,
        "from": customer if inbound else integration,
        "to": integration if inbound else customer,
        "time": iso(message.timestamp),
    }
    normalized: dict[str, Any] = {
        "id": message.id,
        "channel": channel,
        "type": "Text",
        "content": [attachment_content(state, a) for a in message.attachments],
        "direction": "Inbound" if inbound else "Outbound",
        "originatingEntity": "Human",
    }
    if message.text is not None:
        normalized["text"] = message.text
    if not inbound:
        normalized["status"] = "Sent"
    return {
        "id": message.id,
        "providerMessageId": channel["messageId"],
        "timestamp": iso(message.timestamp),
        "fromAddress": channel["from"]["id"],
        "toAddress": channel["to"]["id"],
        "direction": message.direction,
        "messengerType": conversation.channel if conversation.channel != "line" else "open",
        "status": "received" if inbound else "sent",
        "normalizedMessage": normalized,
        "conversationId": conversation.id,
        "selfUri": f"/api/v2/conversations/messages/{conversation.id}/messages/{message.id}",
    }


def conversation_resource(
    conversation: Conversation, attributes: dict[str, str] | None = None
) -> dict[str, Any]:
    """`Conversation` (GET /api/v2/conversations/{id}): calls[] for voice, messages[] else."""
    participants: list[dict[str, Any]] = []
    state = "disconnected" if conversation.end else "connected"
    legs = (
        ("customer", conversation.customer_participant_id, conversation.customer_session_id),
        ("acd", conversation.acd_participant_id, None),
        ("agent", conversation.agent_participant_id, conversation.agent_session_id),
    )
    for purpose, participant_id, session_id in legs:
        participant: dict[str, Any] = {
            "id": participant_id,
            "startTime": iso(conversation.start),
            "purpose": purpose,
            "queueId": conversation.queue_id,
            "wrapupRequired": purpose == "agent",
        }
        if conversation.end:
            participant["endTime"] = iso(conversation.end)
        if purpose == "agent":
            participant["userId"] = conversation.user_id
        if purpose == "customer":
            participant["attributes"] = dict(attributes or {})
            participant["externalContactId"] = conversation.external_contact_id
            participant["name"] = conversation.customer_name
            participant["address"] = conversation.customer_address
            if conversation.kind == "voice":
                participant["ani"] = conversation.customer_address
                participant["aniName"] = conversation.customer_name
                participant["dnis"] = CALL_DNIS
        if session_id is not None:
            leg = {"id": session_id, "state": state, "direction": "inbound", "held": False}
            if conversation.kind == "voice":
                recording = conversation.recordings[0] if conversation.recordings else None
                leg["recording"] = recording is not None
                if recording is not None:
                    leg["recordingId"] = recording.id
                participant["calls"] = [leg]
            else:
                leg["type"] = conversation.channel
                participant["messages"] = [leg]
        participants.append(participant)
    body: dict[str, Any] = {
        "id": conversation.id,
        "startTime": iso(conversation.start),
        "participants": participants,
        "divisions": divisions(conversation),
        "recordingState": "NONE" if not conversation.recordings else "ACTIVE",
        "state": state,
        "selfUri": f"/api/v2/conversations/{conversation.id}",
    }
    if conversation.end:
        body["endTime"] = iso(conversation.end)
    return body


def recording_base(conversation: Conversation, recording: Recording) -> dict[str, Any]:
    duration_ms = epoch_ms(recording.end) - epoch_ms(recording.start)
    return {
        "id": recording.id,
        "conversationId": conversation.id,
        "startTime": iso(recording.start),
        "endTime": iso(recording.end),
        "media": recording.media,
        "mediaSubtype": recording.media_subtype,
        "fileState": recording.file_state,
        "sessionId": recording.session_id,
        "outputDurationMs": duration_ms,
        "maxAllowedRestorationsForOrg": 5,
        "remainingRestorationsAllowedForOrg": 5,
        "creationTime": iso(recording.end),
        "recordingFileRole": "CUSTOMER_EXPERIENCE",
        "selfUri": f"/api/v2/conversations/{conversation.id}/recordings/{recording.id}",
    }
