"""GET /api/v2/organizations/limits/namespaces/{namespaceName}: the org's effective limits.

``platform.api`` answers the emulator's configured rate limit (the requests allowed per token
in one window; Genesys' key is per minute); the other namespaces answer no entities.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from genesys_emulator.config import OAuthClientConfig
from genesys_emulator.routes.common import api_endpoint, json
from genesys_emulator.state import OrgState

RATE_KEY = "client.credentials.token.rate.per.minute"


async def get_limits(request: Request, state: OrgState, _: OAuthClientConfig) -> Response:
    namespace = request.path_params["namespaceName"]
    entities = []
    if namespace == "platform.api":
        entities.append({"key": RATE_KEY, "namespace": namespace, "value": state.limiter.limit})
    return json({"entities": entities})


routes = [
    Route(
        "/api/v2/organizations/limits/namespaces/{namespaceName}",
        api_endpoint(get_limits),  # any authenticated client (GENESYS.md section 8)
        methods=["GET"],
    )
]
