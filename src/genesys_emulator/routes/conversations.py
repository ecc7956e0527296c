"""GET /api/v2/conversations/{conversationId}: participants with calls[] (communication ids)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from genesys_emulator import errors, render
from genesys_emulator.config import OAuthClientConfig
from genesys_emulator.routes.common import api_endpoint, json
from genesys_emulator.state import OrgState


async def get_conversation(request: Request, state: OrgState, _: OAuthClientConfig) -> Response:
    conversation_id = request.path_params["conversationId"]
    conversation = state.conversation(conversation_id)
    if conversation is None:
        raise errors.not_found(conversation_id)
    state.count_read(f"conversation:{conversation.id}")
    attributes = render.participant_attributes(state, conversation)
    return json(render.conversation_resource(conversation, attributes))


routes = [
    Route(
        "/api/v2/conversations/{conversationId}",
        api_endpoint(get_conversation),
        methods=["GET"],
    )
]
