"""Bearer tokens and permissions for the API hosts, and the login host's token endpoint."""

from __future__ import annotations

import base64
import binascii
import time
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from genesys_emulator import errors
from genesys_emulator.config import OAuthClientConfig
from genesys_emulator.state import OrgState


def bearer(request: Request) -> str:
    """The request's bearer token ("" without one)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def authenticate(state: OrgState, request: Request) -> OAuthClientConfig:
    """The OAuth client behind the request's bearer token, or a 401 ApiError."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise errors.authentication_required()
    with state.lock:
        token = state.tokens.get(value.strip())
        client = state.clients.get(token.client_id) if token else None
    if token is None or client is None:
        raise errors.bad_credentials()
    if time.time() >= token.expires_at:
        raise errors.credentials_expired()
    return client


def require_all(client: OAuthClientConfig, permissions: list[str]) -> None:
    missing = [p for p in permissions if p not in client.permissions]
    if missing:
        raise errors.missing_permissions(missing, any_of=False)


def require_any(client: OAuthClientConfig, permissions: list[str]) -> None:
    if not any(p in client.permissions for p in permissions):
        raise errors.missing_permissions(permissions, any_of=True)


def _login_error(status: int, error: str, description: str) -> JSONResponse:
    # Shape seen from login.mypurecloud.* in the wild (reported, not verified):
    # {"error":"invalid_client","description":"authentication failed","error_description":...}
    return JSONResponse(
        {"error": error, "description": description, "error_description": description},
        status_code=status,
    )


async def token_endpoint(request: Request) -> Response:
    """POST /oauth/token with HTTP Basic client credentials and grant_type=client_credentials."""
    state: OrgState = request.app.state.org
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("latin-1")).items()}
    client_id = secret = ""
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return _login_error(400, "invalid_request", "malformed authorization header")
    else:  # RFC 6749 also allows the credentials in the form body
        client_id, secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
    grant = str(form.get("grant_type", ""))
    if grant != "client_credentials":
        return _login_error(400, "unsupported_grant_type", f"grant type {grant!r} not supported")
    client = state.clients.get(client_id)
    if client is None or client.client_secret != secret:
        return _login_error(401, "invalid_client", "authentication failed")
    token = state.issue_token(client)
    return JSONResponse(
        {
            "access_token": token.value,
            "token_type": "bearer",
            "expires_in": max(0, int(token.expires_at - time.time())),
        },
        headers={"Cache-Control": "no-store"},
    )
