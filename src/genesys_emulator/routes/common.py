"""The guard every API endpoint passes: bearer token, rate limit, permissions, ErrorBody."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from genesys_emulator import auth, errors
from genesys_emulator.config import OAuthClientConfig
from genesys_emulator.ratelimit import RateLimiter
from genesys_emulator.state import OrgState

Handler = Callable[[Request, OrgState, OAuthClientConfig], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def org(request: Request) -> OrgState:
    state: OrgState = request.app.state.org
    return state


def api_endpoint(
    handler: Handler,
    *,
    all_of: tuple[str, ...] = (),
    any_of: tuple[str, ...] = (),
) -> Endpoint:
    """Wrap ``handler`` so it runs only for an authenticated, permitted, unthrottled client."""

    async def endpoint(request: Request) -> Response:
        state = org(request)
        try:
            client = auth.authenticate(state, request)
            limiter: RateLimiter = request.app.state.limiter
            host = getattr(request.app.state, "host", "api")
            if host != "downloads" or limiter.count_downloads:
                wait = limiter.acquire(auth.bearer(request))  # per token, as Genesys
                if wait:
                    raise errors.too_many_requests(limiter.limit, limiter.window_s, wait)
            if all_of:
                auth.require_all(client, list(all_of))
            if any_of:
                auth.require_any(client, list(any_of))
            return await handler(request, state, client)
        except errors.ApiError as error:
            return errors.error_response(error, request.scope.get("correlation_id"))

    return endpoint


def json(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)
