"""GET /api/v2/routing/queues: the org's queues, paged (``QueueEntityListing``).

Permission ``routing:queue:view`` (reported, GENESYS.md section 7). A page size above 500
answers 400 (assumed: the documented maximum of Genesys' paged listings is not verified).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from genesys_emulator import errors
from genesys_emulator.config import OAuthClientConfig
from genesys_emulator.routes.common import api_endpoint, json
from genesys_emulator.state import OrgState

QUEUES = "/api/v2/routing/queues"
MAX_PAGE_SIZE = 500


def _int(request: Request, name: str, default: int) -> int:
    try:
        return int(request.query_params.get(name, default))
    except ValueError as exc:
        raise errors.bad_request(f"{name} must be an integer.") from exc


async def list_queues(request: Request, state: OrgState, _: OAuthClientConfig) -> Response:
    size = _int(request, "pageSize", 25)
    number = _int(request, "pageNumber", 1)
    if not 1 <= size <= MAX_PAGE_SIZE or number < 1:
        raise errors.bad_request(f"pageSize must be 1..{MAX_PAGE_SIZE} and pageNumber >= 1.")
    with state.lock:
        queues = sorted(state.queues.items(), key=lambda item: item[1])
    page = queues[(number - 1) * size : number * size]
    count = max(1, -(-len(queues) // size))
    body = {
        "entities": [{"id": qid, "name": name, "selfUri": f"{QUEUES}/{qid}"} for qid, name in page],
        "pageSize": size,
        "pageNumber": number,
        "total": len(queues),
        "pageCount": count,
        "selfUri": f"{QUEUES}?pageSize={size}&pageNumber={number}",
        "firstUri": f"{QUEUES}?pageSize={size}&pageNumber=1",
        "lastUri": f"{QUEUES}?pageSize={size}&pageNumber={count}",
    }
    if number < count:
        body["nextUri"] = f"{QUEUES}?pageSize={size}&pageNumber={number + 1}"
    return json(body)


routes = [Route(QUEUES, api_endpoint(list_queues, all_of=("routing:queue:view",)), methods=["GET"])]
