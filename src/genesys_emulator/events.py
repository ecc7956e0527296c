"""Events the org emits, in the AWS EventBridge envelope Genesys uses (GENESYS.md section 1).

Two paths, chosen per scenario: the message topics (``v2.routing.queues.{id}.conversations.
messages`` and the users variant; bodies carry media[] with download links) and the
analytics detail topics (``v2.detail.events.conversation.{id}.customer.start`` ...; flat
bodies with ids only). ``scenario_events`` builds the list without any server running.
"""

from __future__ import annotations

import random
import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from genesys_emulator import render, times
from genesys_emulator.config import EmulatorConfig, EventPath
from genesys_emulator.state import Conversation, Message, OrgState
from genesys_emulator.times import epoch_ms

QUEUE_MESSAGES = "v2.routing.queues.{id}.conversations.messages"
USER_MESSAGES = "v2.users.{id}.conversations.messages"
DETAIL = "v2.detail.events.conversation.{id}.%s"
TRANSCRIPTION = "v2.conversations.{id}.transcription"
MESSAGE_TYPES = {
    "whatsapp": "WHATSAPP",
    "webmessaging": "WEBMESSAGING",
    "open": "OPEN",
    "facebook": "FACEBOOK",
    "instagram": "INSTAGRAM",
    "line": "LINE",
}
PROVIDERS = {"voice": "Edge", "webmessaging": "PureCloud Messaging"}


def _draw(*parts: object) -> int:
    """A stable pseudo-random number from ``parts`` (same scenario, same event times)."""
    return zlib.crc32(":".join(str(p) for p in parts).encode())


def event_moment(moment: datetime, *parts: object) -> datetime:
    """``moment`` with a millisecond part, as real event times have (``eventTime``)."""
    return moment.replace(microsecond=0) + timedelta(milliseconds=1 + _draw(*parts) % 999)


def envelope(
    config: EmulatorConfig, pattern: str, entity_id: str, body: dict[str, Any], moment: datetime
) -> dict[str, Any]:
    """Wrap ``body`` as EventBridge delivers a Genesys event (detail-type = topic pattern).

    As in real captures, ``detail.timestamp`` (ISO, milliseconds) comes a few tens of ms
    after the event itself (``moment``, the body's ``eventTime``), and the envelope's
    ``time`` is that timestamp truncated to whole seconds.
    """
    published = moment + timedelta(milliseconds=20 + _draw(pattern, entity_id, moment) % 60)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": pattern,
        "source": f"aws.partner/genesys.com/cloud/{config.org_id}/{config.event_bus_name}",
        "account": config.aws_account,
        "time": published.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": config.aws_region,
        "resources": [],
        "detail": {
            "topicName": pattern.replace("{id}", entity_id),
            "version": "2",
            "eventBody": body,
            "metadata": {"CorrelationId": str(uuid.uuid4())},
            "timestamp": times.iso(published),
        },
    }


def _event_message(state: OrgState, message: Message) -> dict[str, Any]:
    details: dict[str, Any] = {
        "message": {"id": message.id},
        "messageTime": times.iso(message.timestamp),
        "messageStatus": "received" if message.direction == "inbound" else "sent",
        "messageSegmentCount": 1,
        "messageMetadata": render.message_metadata(message),
    }
    # the REST counterpart of media[] is deprecated: whether the topic keeps filling it is
    # unknown, so a scenario can leave it out (consumers must then read the message)
    if message.attachments and state.config.scenario.topic_media:
        details["media"] = [render.message_media(state, a) for a in message.attachments]
    return details


def message_topic_body(state: OrgState, conversation: Conversation, upto: int) -> dict[str, Any]:
    """The conversation as the message topics show it after its first ``upto`` messages."""
    shown = conversation.messages[:upto]
    ended = upto >= len(conversation.messages) and conversation.end is not None
    participants: list[dict[str, Any]] = []
    for purpose, pid in (
        ("customer", conversation.customer_participant_id),
        ("acd", conversation.acd_participant_id),
        ("agent", conversation.agent_participant_id),
    ):
        participant: dict[str, Any] = {
            "id": pid,
            "purpose": purpose,
            "state": "disconnected" if ended or purpose == "acd" else "connected",
            "direction": "inbound",
            "type": conversation.channel,
            "held": False,
            "startTime": times.iso(conversation.start),
            "messages": [_event_message(state, m) for m in shown if m.participant_id == pid],
        }
        if purpose == "customer":
            participant["externalContact"] = {"id": conversation.external_contact_id}
            participant["address"] = conversation.customer_address
            participant["name"] = conversation.customer_name
            participant["attributes"] = render.participant_attributes(state, conversation)
        if purpose == "acd":
            participant["queue"] = {"id": conversation.queue_id}
        if purpose == "agent":
            participant["user"] = {"id": conversation.user_id}
            participant["queue"] = {"id": conversation.queue_id}
            participant["wrapupRequired"] = True
        if ended and conversation.end is not None:
            participant["endTime"] = times.iso(conversation.end)
            participant["disconnectType"] = "client" if purpose == "customer" else "endpoint"
        participants.append(participant)
    return {
        "id": conversation.id,
        "participants": participants,
        "divisions": render.divisions(conversation),
    }


def detail_body(
    conversation: Conversation,
    kind: str,
    moment: datetime,
    external_organization_id: str | None = None,
) -> dict[str, Any]:
    """A flat analytics detail event body (eventTime in epoch ms, ids only)."""
    customer_side = kind.startswith("customer")
    body: dict[str, Any] = {
        "eventTime": epoch_ms(moment),
        "conversationId": conversation.id,
        "participantId": (
            conversation.customer_participant_id
            if customer_side
            else conversation.agent_participant_id
        ),
        "sessionId": conversation.customer_session_id
        if customer_side
        else conversation.agent_session_id,
        "mediaType": "VOICE" if conversation.kind == "voice" else "MESSAGE",
        "provider": PROVIDERS.get(conversation.channel, "PureCloud Messaging"),
        "direction": "INBOUND",
        "divisionId": conversation.division_id,
    }
    if conversation.kind == "message":
        body["messageType"] = MESSAGE_TYPES.get(conversation.channel, "OPEN")
        body["addressFrom"] = conversation.customer_address
    else:
        body["ani"] = conversation.customer_address
        body["dnis"] = "tel:+18005550100"
    # every detail event names the conversation's external contacts (the customer's);
    # the customer's own events also name the contact (and its organisation, if any)
    body["conversationExternalContactIds"] = [conversation.external_contact_id]
    if customer_side:
        body["externalContactId"] = conversation.external_contact_id
        if external_organization_id:
            body["externalOrganizationId"] = external_organization_id
    if kind == "customer.end":
        body["disconnectType"] = "CLIENT"
        body["interactingDurationMs"] = epoch_ms(moment) - epoch_ms(conversation.start)
    if kind == "acd.end":
        body["participantId"] = conversation.acd_participant_id
        del body["sessionId"]  # the agent's: the acd participant has no session of its own
        body["queueId"] = conversation.queue_id
        body["acdOutcome"] = "ANSWERED"
        body["answeredUserId"] = conversation.user_id
    if kind == "acw":
        del body["divisionId"]  # not a field of AcwDetailEventTopicAfterCallWorkEvent
        body["userId"] = conversation.user_id
        body["queueId"] = conversation.queue_id
        body["wrapupDurationMs"] = 15000
    return body


@dataclass(frozen=True, slots=True)
class _Utterance:
    """Where one turn's utterance sits: its id, channel and times (ms)."""

    utterance_id: str
    channel: str
    session_ms: int
    offset_ms: int
    #: milliseconds per word
    step: int


def _result(at: _Utterance, shown: list[tuple[str, float]], final: bool) -> dict[str, Any]:
    """One transcript of a turn: its first ``shown`` words (a partial), or all (final)."""
    text = " ".join(word for word, _ in shown)
    confidence = round(sum(c for _, c in shown) / len(shown), 2)
    word_list = [
        {
            "word": word,
            "confidence": c,
            "offsetMs": at.offset_ms + i * at.step,
            "startTimeMs": at.session_ms + at.offset_ms + i * at.step,
            "durationMs": at.step,
        }
        for i, (word, c) in enumerate(shown)
    ]
    return {
        "utteranceId": at.utterance_id,
        "isFinal": final,
        "channel": at.channel,
        "dialect": "en-US",
        "engineProvider": "GENESYS",
        "engineName": "Genesys",
        "alternatives": [
            {
                "confidence": confidence,
                "offsetMs": at.offset_ms,
                "durationMs": at.step * len(shown),
                "transcript": text,
                "decoratedTranscript": text[:1].upper() + text[1:] + ".",
                "words": word_list,
            }
        ],
    }


def transcription_bodies(
    state: OrgState, conversation: Conversation
) -> list[tuple[datetime, dict[str, Any]]]:
    """Real-time transcription of a call (``TranscriptionTopicTranscriptionMessage``).

    Per turn of the dialogue a partial utterance half-way through it and the final one just
    after it (the same words as the transcript document), then ``SESSION_ENDED``. The
    communication is the customer's call (the transcript's ``communicationId``).
    """
    from genesys_emulator.scenario import call_words

    if conversation.kind != "voice" or not conversation.recordings:
        return []
    recording = conversation.recordings[0]
    seconds = (recording.end - recording.start).total_seconds()
    session_ms = epoch_ms(recording.start)
    base: dict[str, Any] = {
        "organizationId": state.config.org_id,
        "conversationId": conversation.id,
        "communicationId": conversation.customer_session_id,
        "sessionStartTimeMs": session_ms,
        "transcriptionStartTimeMs": session_ms,
    }

    def body(moment: datetime, status: str, transcripts: list[dict[str, Any]]) -> dict[str, Any]:
        offset = int((moment - recording.start).total_seconds() * 1000)
        return {
            **base,
            "eventTime": times.iso(moment),
            "status": {"offsetMs": offset, "status": status},
            "transcripts": transcripts,
        }

    timed: list[tuple[datetime, dict[str, Any]]] = []
    spoken = call_words(random.Random(recording.seed), recording.seed, seconds)
    for index, (turn, words) in enumerate(spoken):
        utterance_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{conversation.id}/utterance/{index}"))
        offset_ms = int(turn.start_s * 1000)
        duration_ms = int((turn.end_s - turn.start_s) * 1000)
        step = duration_ms // len(words)
        channel = "EXTERNAL" if turn.speaker == "customer" else "INTERNAL"
        at = _Utterance(utterance_id, channel, session_ms, offset_ms, step)

        middle = recording.start + timedelta(seconds=(turn.start_s + turn.end_s) / 2)
        final_at = recording.start + timedelta(seconds=turn.end_s + 0.3)
        if len(words) > 1:
            partial = words[: len(words) // 2]
            timed.append((middle, body(middle, "SESSION_ONGOING", [_result(at, partial, False)])))
        timed.append((final_at, body(final_at, "SESSION_ONGOING", [_result(at, words, True)])))
    ended = recording.end + timedelta(milliseconds=500)
    timed.append((ended, body(ended, "SESSION_ENDED", [])))
    return timed


def conversation_events(
    state: OrgState, conversation: Conversation, path: EventPath | None = None
) -> list[dict[str, Any]]:
    """Every event one conversation produces, in time order.

    The detail path also carries a call's real-time transcription
    (``v2.conversations.{id}.transcription``).
    """
    config = state.config
    path = path or config.scenario.event_path
    timed: list[tuple[datetime, dict[str, Any]]] = []
    end = conversation.end or conversation.start
    if path in ("detail", "both"):
        organization = render.external_organization_id(state)
        for kind, at in (
            ("customer.start", conversation.start),
            ("acd.end", conversation.start + timedelta(seconds=3)),
            ("customer.end", end),
            ("acw", end + timedelta(seconds=15)),
        ):
            moment = event_moment(at, conversation.id, kind)
            body = detail_body(conversation, kind, moment, organization)
            timed.append((moment, envelope(config, DETAIL % kind, conversation.id, body, moment)))
        for moment, body in transcription_bodies(state, conversation):
            timed.append((moment, envelope(config, TRANSCRIPTION, conversation.id, body, moment)))
    if path in ("message", "both") and conversation.kind == "message":
        for index, message in enumerate(conversation.messages, start=1):
            if message.direction != "inbound":
                continue
            body = message_topic_body(state, conversation, index)
            timed.append(
                (
                    message.timestamp,
                    envelope(
                        config, QUEUE_MESSAGES, conversation.queue_id, body, message.timestamp
                    ),
                )
            )
        final = message_topic_body(state, conversation, len(conversation.messages))
        timed.append((end, envelope(config, USER_MESSAGES, conversation.user_id, final, end)))
    timed.sort(key=lambda pair: pair[0])
    return [event for _, event in timed]


def scenario_events(state: OrgState, path: EventPath | None = None) -> list[dict[str, Any]]:
    """The events of every conversation in the org, in time order."""
    with state.lock:
        conversations = sorted(state.conversations.values(), key=lambda c: c.start)
    events = [e for c in conversations for e in conversation_events(state, c, path)]
    return sorted(events, key=lambda e: e["detail"]["timestamp"])


def build_scenario_events(
    config: EmulatorConfig | None = None,
    downloads_url: str | None = None,
    path: EventPath | None = None,
) -> list[dict[str, Any]]:
    """The events of a freshly seeded org, without starting a server (replay files, demos).

    Download links in message-topic events point at ``downloads_url`` (default
    ``https://api-downloads.<domain>``); they will not resolve unless an emulator with the
    same config and seed serves them.
    """
    from genesys_emulator.emulator import Emulator

    emulator = Emulator(config)
    try:
        domain = emulator.config.domain
        emulator.state.public_urls = {
            "downloads": downloads_url or f"https://api-downloads.{domain}"
        }
        return scenario_events(emulator.state, path)
    finally:
        emulator.state.close()


async def emit_for_conversations(
    state: OrgState, conversations: list[Conversation]
) -> list[dict[str, Any]]:
    """Record the conversations' events and send them to the configured sinks."""
    from genesys_emulator.event_sinks import send_all

    events = [e for c in conversations for e in conversation_events(state, c)]
    with state.lock:
        state.events.extend(events)
    state.notifications.publish(events)
    await send_all(state.config.event_sinks, events)
    return events
