"""The Notifications source's pure parts: what a frame is, which topics a conversation
gets, and how topics are spread over channels."""

from __future__ import annotations

import json

from media_bridge.notifications.frames import classify, conversation_topics, split_topics

CONV = "2f7bf00a-0fc2-4d6a-9b56-92238191433e"


def _frame(topic: str, body: object) -> str:
    return json.dumps({"topicName": topic, "version": "2", "eventBody": body, "metadata": {}})


def test_control_frames_and_junk() -> None:
    heartbeat = _frame("channel.metadata", {"message": "WebSocket Heartbeat"})
    assert classify(heartbeat).kind == "heartbeat"
    assert classify(_frame("v2.system.socket_closing", {})).kind == "socket_closing"
    assert classify("not json").kind == "junk"
    assert classify("[1]").kind == "junk"


def test_events_name_their_conversation_and_whether_it_ended() -> None:
    queue = f"v2.routing.queues.{CONV}.conversations.messages"
    open_body = {"id": CONV, "participants": [{"purpose": "customer", "state": "connected"}]}
    ended_body = {"id": CONV, "participants": [{"purpose": "customer", "state": "disconnected"}]}
    assert classify(_frame(queue, open_body)).conversation_id == CONV
    assert not classify(_frame(queue, open_body)).ended
    assert classify(_frame(queue, ended_body)).ended
    transcription = f"v2.conversations.{CONV}.transcription"
    done = {"conversationId": CONV, "status": {"status": "SESSION_ENDED"}}
    assert classify(_frame(transcription, done)).ended
    end = f"v2.detail.events.conversation.{CONV}.customer.end"
    assert classify(_frame(end, {"conversationId": CONV})).ended


def test_conversation_topics_follow_what_the_websocket_offers() -> None:
    assert conversation_topics(CONV, set()) == [f"v2.conversations.{CONV}.transcription"]
    offered = {"v2.detail.events.conversation.{id}.customer.end"}
    assert conversation_topics(CONV, offered) == [
        f"v2.conversations.{CONV}.transcription",
        f"v2.detail.events.conversation.{CONV}.customer.end",
    ]


def test_topics_are_split_by_the_limits() -> None:
    topics = [f"t{i}" for i in range(1500)]
    groups, left = split_topics(topics, 1000, 20)
    assert [len(g) for g in groups] == [1000, 500]
    assert left == []
    groups, left = split_topics(topics, 1000, 1)
    assert [len(g) for g in groups] == [1000]
    assert left == topics[1000:]
    assert split_topics([], 1000, 20) == ([[]], [])
