"""Finds a person's consent verdict before anything of theirs is downloaded.

``participant_attribute``: the attribute an Architect flow set on the customer participant,
first from the event that planned the job (no request), else from one read of the
conversation (messaging or call), which is also how a held job re-checks.
``external_contact``: the custom field of the external contact, one read per contact per
``consent.cache_s``; without an external contact id the verdict is ``unknown``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Literal

from media_bridge import metrics
from media_bridge.consent.settings import ConsentSettings
from media_bridge.consent.verdict import Verdict, from_value, not_checked
from media_bridge.genesys import GenesysApi
from media_bridge.identity import SpeakerFacts
from media_bridge.jobs.priority import Priority, running_as
from media_bridge.purposes import is_customer

ConversationKind = Literal["message", "call"]


def customer_attribute(conversation: dict[str, Any], name: str) -> Any:
    """``participants[purpose=customer].attributes[name]`` of a conversation read, or None."""
    for participant in conversation.get("participants") or []:
        if not is_customer(participant):
            continue
        attributes = participant.get("attributes")
        if isinstance(attributes, dict) and name in attributes:
            return attributes[name]
    return None


class ConsentChecker:
    def __init__(
        self,
        settings: ConsentSettings,
        genesys: GenesysApi,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.genesys = genesys
        self._clock = clock
        self._contacts: dict[str, tuple[float, Verdict]] = {}
        #: one read per contact at a time: concurrent clips of one person share it
        self._reading: dict[str, asyncio.Task[Verdict]] = {}

    @property
    def enabled(self) -> bool:
        return self.settings.mode != "off"

    @property
    def planning_attribute(self) -> str | None:
        """The participant attribute planners keep as a job's consent hint (or None)."""
        return self.settings.attribute if self.settings.mode == "participant_attribute" else None

    async def check(
        self,
        *,
        conversation_id: str,
        kind: ConversationKind,
        facts: SpeakerFacts | None,
        hint: Any = None,
        hint_source: str = "event",
    ) -> Verdict:
        """The verdict for the customer of ``conversation_id``; ``hint`` is the attribute's
        value as the planning event (or the planning job's read, ``hint_source``) showed it
        (None: it did not say)."""
        mode = self.settings.mode
        if mode == "off":
            return not_checked()
        # consent reads and re-checks rank with live work, whatever job makes them: a
        # held clip waits on them (``media_bridge.jobs.priority``)
        with running_as(Priority.LIVE):
            return await self._check(mode, conversation_id, kind, facts, hint, hint_source)

    async def _check(
        self,
        mode: str,
        conversation_id: str,
        kind: ConversationKind,
        facts: SpeakerFacts | None,
        hint: Any,
        hint_source: str,
    ) -> Verdict:
        if mode == "participant_attribute":
            if hint is not None:
                verdict = from_value(hint, self.settings, hint_source)
                if verdict.verdict != "unknown":
                    return verdict
            return await self._conversation(conversation_id, kind)
        contact = facts.external_contact_id if facts is not None else None
        if not contact:
            return Verdict.of("unknown", "external_contact")
        return await self._contact(contact)

    async def _conversation(self, conversation_id: str, kind: ConversationKind) -> Verdict:
        metrics.CONSENT_READS.labels(source="conversation").inc()
        if kind == "message":
            conversation = await self.genesys.get_message_conversation(conversation_id)
        else:
            conversation = await self.genesys.get_conversation(conversation_id)
        value = customer_attribute(conversation, self.settings.attribute)
        return from_value(value, self.settings, "conversation")

    async def _contact(self, contact_id: str) -> Verdict:
        cached = self._contacts.get(contact_id)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        reading = self._reading.get(contact_id)
        if reading is None:
            reading = asyncio.ensure_future(self._read_contact(contact_id))
            self._reading[contact_id] = reading
            reading.add_done_callback(lambda _: self._reading.pop(contact_id, None))
        # shielded: one waiting job being cancelled must not cancel the others' read
        return await asyncio.shield(reading)

    async def _read_contact(self, contact_id: str) -> Verdict:
        now = self._clock()
        metrics.CONSENT_READS.labels(source="external_contact").inc()
        contact = await self.genesys.get_external_contact(contact_id)
        fields = contact.get("customFields")
        value = (
            fields.get(self.settings.external_contact_field) if isinstance(fields, dict) else None
        )
        verdict = from_value(value, self.settings, "external_contact")
        # an unknown answer may be recorded any moment: keep it no longer than a re-check
        keep = self.settings.cache_s
        if verdict.verdict == "unknown":
            keep = min(keep, self.settings.recheck_s)
        self._contacts[contact_id] = (now + keep, verdict)
        return verdict
