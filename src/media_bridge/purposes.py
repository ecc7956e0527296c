"""Whose side a Genesys participant is on: the one definition every reader uses.

Source (``shared/genesys/``): ``VOICE.md`` gives a conversation participant's
``purpose`` as ``customer | ivr | acd | agent | ...`` and ``external``/``internal`` as
the *phrase* vocabulary of transcripts; ``sdk-reference.json`` (SDK 269.0.0,
``AnalyticsParticipantWithoutAttributes.purpose``) lists ``customer`` and ``external``
as two separate participant purposes. So a participant is the customer when its
purpose is ``customer`` (any case); a participant with purpose ``external`` is another
party and is never taken for the customer whose media, texts or consent the bridge
handles. The transcript phrase vocabulary stays in ``voice/transcripts.py``.

The agent is the participant with purpose ``agent`` (any case). A speaker's ``role``
(``identity.facts``) has the two values deliveries name (``docs/delivery-metadata.md``:
``customer`` or ``agent``, "which side of the conversation spoke"): ``customer`` for a
customer purpose, ``agent`` for the organisation's side (every other purpose given,
``external`` included unless it is set as a customer purpose).

Unsure, so configurable: Genesys does not say which purpose the far end of an
agent-dialled call gets (reported elsewhere as ``external``); ``identity.customer_purposes``
(default ``["customer"]``) sets the list once at start, for every reader.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeGuard

#: the participant ``purpose`` of the customer (compared lower-cased)
CUSTOMER_PURPOSE = "customer"
#: the participant ``purpose`` of the agent (compared lower-cased)
AGENT_PURPOSE = "agent"
_customer_purposes: frozenset[str] = frozenset({CUSTOMER_PURPOSE})


def set_customer_purposes(purposes: Iterable[str]) -> None:
    """Which purposes are the customer's, for the whole process (``identity.customer_purposes``,
    applied when the bridge starts)."""
    global _customer_purposes
    chosen = frozenset(p.lower() for p in purposes)
    if not chosen:
        raise ValueError("at least one customer purpose is needed")
    _customer_purposes = chosen


def customer_purposes() -> frozenset[str]:
    return _customer_purposes


def is_customer_purpose(purpose: Any) -> bool:
    """True for a customer participant purpose, in any case; False for anything else."""
    return isinstance(purpose, str) and purpose.lower() in _customer_purposes


def is_customer(participant: Any) -> TypeGuard[dict[str, Any]]:
    """True when a participant object (a dict of raw JSON) is the customer's."""
    return isinstance(participant, dict) and is_customer_purpose(participant.get("purpose"))


def is_agent(participant: Any) -> TypeGuard[dict[str, Any]]:
    """True when a participant object's purpose is ``agent`` (any case)."""
    if not isinstance(participant, dict):
        return False
    purpose = participant.get("purpose")
    return isinstance(purpose, str) and purpose.lower() == AGENT_PURPOSE
