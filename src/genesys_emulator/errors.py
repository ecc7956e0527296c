"""Genesys `ErrorBody` responses: the JSON shape, codes and messages the real API sends."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.responses import JSONResponse

CORRELATION_HEADER = "ININ-Correlation-Id"


class ApiError(Exception):
    """Raised by a route; rendered as an ErrorBody with the same status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        message_params: dict[str, str] | None = None,
        message_with_params: str | None = None,
        headers: dict[str, str] | None = None,
        entity_id: str | None = None,
        limit: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.message_params = message_params or {}
        self.message_with_params = message_with_params or message
        self.headers = headers or {}
        self.entity_id = entity_id
        self.limit = limit


def error_body(error: ApiError, correlation_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "message": error.message,
        "code": error.code,
        "status": error.status,
        "messageWithParams": error.message_with_params,
        "messageParams": error.message_params,
        "contextId": correlation_id,
        "details": [],
        "errors": [],
    }
    if error.entity_id:
        body["entityId"] = error.entity_id
    if error.limit:
        body["limit"] = error.limit
    return body


def error_response(error: ApiError, correlation_id: str | None = None) -> JSONResponse:
    cid = correlation_id or str(uuid.uuid4())
    headers = {CORRELATION_HEADER: cid, **error.headers}
    return JSONResponse(error_body(error, cid), status_code=error.status, headers=headers)


def authentication_required() -> ApiError:
    return ApiError(
        401,
        "authentication.required",
        "No authentication bearer token specified in authorization header.",
    )


def bad_credentials() -> ApiError:
    return ApiError(401, "bad.credentials", "Invalid login credentials.")


def credentials_expired() -> ApiError:
    return ApiError(
        401,
        "credentials.expired",
        "The supplied credentials are expired and cannot be used.",
    )


def missing_permissions(permissions: list[str], *, any_of: bool) -> ApiError:
    """403 naming the permission(s) the way Genesys does (all-of or any-of)."""
    listed = ", ".join(permissions)
    if any_of:
        code = "missing.any.permissions"
        template = (
            "Unable to perform the requested action. You must have at least one of the "
            "following permissions assigned: {permissions}"
        )
    else:
        code = "missing.permissions"
        template = (
            "Unable to perform the requested action. "
            "You are missing the following permission(s): {permissions}"
        )
    message = template.format(permissions=f"[{listed}]")
    return ApiError(
        403,
        code,
        message,
        message_params={"permissions": f"[{listed}]"},
        message_with_params=template,
    )


def not_found(entity_id: str | None = None) -> ApiError:
    return ApiError(404, "not.found", "The requested resource was not found.", entity_id=entity_id)


def not_authorized() -> ApiError:
    return ApiError(
        403, "not.authorized", "You are not authorized to perform the requested action."
    )


def bad_request(message: str, code: str = "bad.request") -> ApiError:
    return ApiError(400, code, message)


def too_many_requests(limit: int, window_s: float, retry_after_s: int) -> ApiError:
    window = int(window_s)
    return ApiError(
        429,
        "too.many.requests",
        f"Rate limit exceeded the maximum [{limit}] requests within [{window}] seconds",
        message_params={"limit": str(limit), "window": str(window)},
        message_with_params=(
            "Rate limit exceeded the maximum [{limit}] requests within [{window}] seconds"
        ),
        headers={"Retry-After": str(retry_after_s)},
        limit={
            "key": "client.credentials.token.rate.per.minute",
            "namespace": "platform.api",
            "value": limit,
        },
    )


def server_error(status: int) -> ApiError:
    if status == 503:
        return ApiError(503, "service.unavailable", "Service Unavailable")
    return ApiError(500, "internal.server.error", "The server encountered an unexpected error.")
