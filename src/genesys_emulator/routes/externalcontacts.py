"""GET /api/v2/externalcontacts/contacts/{contactId}: the org's customers as contacts.

The emulator's customers are stable across conversations (one external contact per
person); a contact's ``customFields`` carry the scenario's biometrics consent, which a
``late`` customer records only after a few reads (``ScenarioConfig.consent_late_reads``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from genesys_emulator import errors, render
from genesys_emulator.config import OAuthClientConfig
from genesys_emulator.routes.common import api_endpoint, json
from genesys_emulator.state import OrgState

CONTACT_VIEW = ("externalContacts:contact:view",)


async def get_contact(request: Request, state: OrgState, _: OAuthClientConfig) -> Response:
    contact_id = request.path_params["contactId"]
    conversations = state.conversations_of_contact(contact_id)
    if not conversations:
        raise errors.not_found(contact_id)
    reads = state.count_read(f"contact:{contact_id}")
    return json(render.external_contact(state, conversations, reads))


routes = [
    Route(
        "/api/v2/externalcontacts/contacts/{contactId}",
        api_endpoint(get_contact, all_of=CONTACT_VIEW),
        methods=["GET"],
    )
]
