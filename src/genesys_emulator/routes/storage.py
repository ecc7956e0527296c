"""Signed-URL storage (S3/CloudFront-like): bytes for a valid signature, XML errors otherwise."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from genesys_emulator import signing
from genesys_emulator.routes.common import org

_BOTH_AUTH = (
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature "
    "query string parameter or the Authorization header should be specified"
)


def s3_error(status: int, code: str, message: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return Response(body, status_code=status, media_type="application/xml")


async def get_object(request: Request) -> Response:
    state = org(request)
    if state.config.refuse_authorization_on_signed and "authorization" in request.headers:
        return s3_error(400, "InvalidArgument", _BOTH_AUTH)
    raw_path = request.scope.get("raw_path", b"").decode() or request.url.path
    expires = request.query_params.get("Expires")
    verdict = signing.verify(
        state.signing_key, raw_path, expires, request.query_params.get("Signature")
    )
    if verdict == "ok" and expires is not None and int(expires) < state.signed_min_expires:
        verdict = "expired"
    if verdict == "bad":
        return s3_error(403, "AccessDenied", "Access denied")
    if verdict == "expired":
        return s3_error(state.config.expired_url_status, "AccessDenied", "Request has expired")
    key = request.path_params["key"]
    if state.store.get(key) is None:
        return s3_error(404, "NoSuchKey", "The specified key does not exist.")
    obj = state.store.materialize(key)
    assert obj.path is not None
    return FileResponse(
        obj.path,
        media_type=obj.content_type,
        headers={"Content-Disposition": f'attachment; filename="{obj.filename}"'},
    )


storage_routes = [Route("/media/{key:path}", get_object, methods=["GET", "HEAD"])]
media_cache_routes = [Route("/MediaCache/{key:path}", get_object, methods=["GET", "HEAD"])]
