"""POST /api/v2/analytics/conversations/details/query: find conversations by interval."""

from __future__ import annotations

import json as jsonlib
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from genesys_emulator import errors, render, times
from genesys_emulator.config import OAuthClientConfig
from genesys_emulator.routes.common import api_endpoint, json
from genesys_emulator.state import Conversation, OrgState

MESSAGE_TYPE = {
    "whatsapp": "whatsapp",
    "webmessaging": "webmessaging",
    "open": "open",
    "facebook": "facebook",
    "instagram": "instagram",
    "line": "line",
}


def _interval(value: object) -> tuple[datetime, datetime]:
    if not isinstance(value, str) or "/" not in value:
        raise errors.bad_request("interval must be 'start/end' in ISO-8601.", "invalid.interval")
    start, end = value.split("/", 1)
    try:
        return (
            datetime.fromisoformat(start.replace("Z", "+00:00")),
            datetime.fromisoformat(end.replace("Z", "+00:00")),
        )
    except ValueError as exc:
        raise errors.bad_request(f"Invalid interval {value!r}.", "invalid.interval") from exc


def _predicates(filters: object) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(filters, list):
        for item in filters:
            if isinstance(item, dict):
                found.extend(p for p in item.get("predicates", []) if isinstance(p, dict))
                for clause in item.get("clauses", []) or []:
                    found.extend(p for p in clause.get("predicates", []) if isinstance(p, dict))
    return found


def _media_type(conversation: Conversation) -> str:
    return "voice" if conversation.kind == "voice" else "message"


def _session(conversation: Conversation, session_id: str, direction: str) -> dict[str, Any]:
    session: dict[str, Any] = {
        "mediaType": _media_type(conversation),
        "sessionId": session_id,
        "direction": direction,
        "recording": bool(conversation.recordings),
    }
    if conversation.kind == "message":
        session["messageType"] = MESSAGE_TYPE.get(conversation.channel, "open")
    else:  # the call's numbers, as GET /api/v2/conversations/{id} gives them
        session["ani"] = conversation.customer_address
        session["dnis"] = render.CALL_DNIS
    return session


def analytics_conversation(conversation: Conversation) -> dict[str, Any]:
    body: dict[str, Any] = {
        "conversationId": conversation.id,
        "conversationStart": times.iso(conversation.start),
        "originatingDirection": "inbound",
        "conversationInitiator": "customer",
        "customerParticipation": True,
        "divisionIds": [conversation.division_id],
        "participants": [
            {
                "participantId": conversation.customer_participant_id,
                "purpose": "customer",
                "participantName": conversation.customer_name,
                "externalContactId": conversation.external_contact_id,
                "sessions": [_session(conversation, conversation.customer_session_id, "inbound")],
            },
            {
                "participantId": conversation.agent_participant_id,
                "purpose": "agent",
                "userId": conversation.user_id,
                "sessions": [_session(conversation, conversation.agent_session_id, "inbound")],
            },
        ],
    }
    if conversation.end:
        body["conversationEnd"] = times.iso(conversation.end)
    return body


def _matches(conversation: Conversation, predicates: list[dict[str, Any]]) -> bool:
    for predicate in predicates:
        dimension, value = predicate.get("dimension"), predicate.get("value")
        if value is None:
            continue
        if dimension == "mediaType" and str(value).lower() != _media_type(conversation):
            return False
        if dimension == "messageType" and str(value).lower() != MESSAGE_TYPE.get(
            conversation.channel, ""
        ):
            return False
        if dimension == "conversationId" and value != conversation.id:
            return False
    return True


async def details_query(request: Request, state: OrgState, _: OAuthClientConfig) -> Response:
    try:
        query = jsonlib.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise errors.bad_request("The request body is not valid JSON.", "invalid.json") from exc
    if not isinstance(query, dict):
        raise errors.bad_request("The request body must be a ConversationQuery object.")
    start, end = _interval(query.get("interval"))
    paging = query.get("paging") or {}
    page_size = int(paging.get("pageSize", 25))
    page_number = int(paging.get("pageNumber", 1))
    if not 1 <= page_size <= 100 or page_number < 1:
        raise errors.bad_request("paging.pageSize must be 1..100 and pageNumber >= 1.")
    predicates = _predicates(query.get("segmentFilters")) + _predicates(
        query.get("conversationFilters")
    )
    with state.lock:
        candidates = list(state.conversations.values())
    hits = sorted(
        (c for c in candidates if start <= c.start < end and _matches(c, predicates)),
        key=lambda c: (c.start, c.id),
        reverse=query.get("order") == "desc",
    )
    page = hits[(page_number - 1) * page_size : page_number * page_size]
    body: dict[str, Any] = {"totalHits": len(hits)}
    if page:
        body["conversations"] = [analytics_conversation(c) for c in page]
    return json(body)


routes = [
    Route(
        "/api/v2/analytics/conversations/details/query",
        api_endpoint(details_query, all_of=("analytics:conversationDetail:view",)),
        methods=["POST"],
    )
]
