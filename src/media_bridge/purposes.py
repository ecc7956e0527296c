"""Whose side a Genesys participant is on: the one definition every reader uses.

Source (``shared/genesys/``): ``VOICE.md`` gives a conversation participant's
``purpose`` as ``customer | ivr | acd | agent | ...`` and ``external``/``internal`` as
the *phrase* vocabulary of transcripts; ``sdk-reference.json`` (SDK 269.0.0,
``AnalyticsParticipantWithoutAttributes.purpose``) lists ``customer`` and ``external``
as two separate participant purposes. So a participant is the customer when its
purpose is ``customer`` (any case); a participant with purpose ``external`` is another
party and is never taken for the customer whose media, texts or consent the bridge
handles. The transcript phrase vocabulary stays in ``voice/transcripts.py``.
"""

from __future__ import annotations

from typing import Any, TypeGuard

#: the participant ``purpose`` of the customer (compared lower-cased)
CUSTOMER_PURPOSE = "customer"


def is_customer_purpose(purpose: Any) -> bool:
    """True for the customer's participant purpose, in any case; False for anything else."""
    return isinstance(purpose, str) and purpose.lower() == CUSTOMER_PURPOSE


def is_customer(participant: Any) -> TypeGuard[dict[str, Any]]:
    """True when a participant object (a dict of raw JSON) is the customer's."""
    return isinstance(participant, dict) and is_customer_purpose(participant.get("purpose"))
