"""Messaging conversations: the conversation, one message, several messages."""

from __future__ import annotations

import json as jsonlib

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from genesys_emulator import errors, render
from genesys_emulator.config import OAuthClientConfig
from genesys_emulator.routes.common import api_endpoint, json
from genesys_emulator.state import Conversation, OrgState

MESSAGE_VIEW = ("conversation:message:view", "conversation:webmessaging:view")


def _messaging(state: OrgState, conversation_id: str) -> Conversation:
    conversation = state.conversation(conversation_id)
    if conversation is None or conversation.kind != "message":
        raise errors.not_found(conversation_id)
    return conversation


async def get_conversation(request: Request, state: OrgState, _: OAuthClientConfig) -> Response:
    conversation = _messaging(state, request.path_params["conversationId"])
    state.count_read(f"conversation:{conversation.id}")
    return json(render.message_conversation(state, conversation))


async def get_message(request: Request, state: OrgState, _: OAuthClientConfig) -> Response:
    conversation = _messaging(state, request.path_params["conversationId"])
    message_id = request.path_params["messageId"]
    for message in conversation.messages:
        if message.id == message_id:
            return json(render.message_data(state, conversation, message))
    raise errors.not_found(message_id)


async def bulk_messages(request: Request, state: OrgState, _: OAuthClientConfig) -> Response:
    conversation = _messaging(state, request.path_params["conversationId"])
    try:
        ids = jsonlib.loads(await request.body() or b"[]")
    except ValueError as exc:
        raise errors.bad_request("The request body is not valid JSON.", "invalid.json") from exc
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise errors.bad_request("The request body must be a list of message ids.")
    normalized = request.query_params.get("useNormalizedMessage", "false").lower() == "true"
    wanted = set(ids)
    entities = []
    for message in conversation.messages:
        if message.id in wanted:
            data = render.message_data(state, conversation, message)
            if not normalized:
                data.pop("normalizedMessage", None)
            entities.append(data)
    return json({"entities": entities})


routes = [
    Route(
        "/api/v2/conversations/messages/{conversationId}",
        api_endpoint(get_conversation),
        methods=["GET"],
    ),
    Route(
        "/api/v2/conversations/messages/{conversationId}/messages/bulk",
        api_endpoint(bulk_messages, any_of=MESSAGE_VIEW),
        methods=["POST"],
    ),
    Route(
        "/api/v2/conversations/messages/{conversationId}/messages/{messageId}",
        api_endpoint(get_message, any_of=MESSAGE_VIEW),
        methods=["GET"],
    ),
]
