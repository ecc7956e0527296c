"""Speech & Text Analytics: a pre-signed URL to a call's transcript document."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from genesys_emulator import errors
from genesys_emulator.config import OAuthClientConfig
from genesys_emulator.routes.common import api_endpoint, json
from genesys_emulator.state import OrgState


async def transcript_url(request: Request, state: OrgState, _: OAuthClientConfig) -> Response:
    conversation = state.conversation(request.path_params["conversationId"])
    communication_id = request.path_params["communicationId"]
    if (
        conversation is None
        or conversation.transcript_key is None
        or conversation.customer_session_id != communication_id
    ):
        raise errors.not_found(communication_id)
    return json({"url": state.signed_url(conversation.transcript_key, "storage")})


routes = [
    Route(
        "/api/v2/speechandtextanalytics/conversations/{conversationId}"
        "/communications/{communicationId}/transcripturl",
        api_endpoint(
            transcript_url,
            all_of=("recording:recording:view", "speechAndTextAnalytics:data:view"),
        ),
        methods=["GET"],
    )
]
