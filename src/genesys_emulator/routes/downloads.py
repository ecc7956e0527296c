"""The api-downloads host: GET /api/v2/downloads/{downloadId} -> signed storage URL."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from genesys_emulator import errors
from genesys_emulator.config import OAuthClientConfig
from genesys_emulator.routes.common import api_endpoint, json
from genesys_emulator.state import OrgState


async def get_download(request: Request, state: OrgState, _: OAuthClientConfig) -> Response:
    download_id = request.path_params["downloadId"]
    with state.lock:
        link = state.downloads.get(download_id)
    if link is None or time.time() >= link.expires_at:
        raise errors.not_found(download_id)
    url = state.signed_url(link.object_key, "storage")
    if link.redirect_status is not None:
        return RedirectResponse(url, status_code=link.redirect_status)
    if request.query_params.get("issueRedirect", "true").lower() == "false":
        return json({"url": url})
    return RedirectResponse(url, status_code=state.config.download_redirect_status)


routes = [Route("/api/v2/downloads/{downloadId}", api_endpoint(get_download), methods=["GET"])]
