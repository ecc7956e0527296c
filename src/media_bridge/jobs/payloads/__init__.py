"""One frozen payload type per ``JobKind``: what the ledger stores as a job's JSON.

Payloads are versioned (``v``) so that a ledger written by an older release is read, or
refused clearly: ``from_dict`` raises ``PayloadVersionUnknown`` (code ``payload_version``,
not retried) for a ``v`` this release does not know, and the job goes dead saying so
instead of failing later on a missing field. Every release so far has written ``v: 1``
on every payload (all builders since the planner's first commit, and every row of the
golden ledger ``tests/fixtures/ledger/v1/``), so a payload without ``v`` is refused too.
Fields added after a payload was written read as their defaults. A payload of a known
version that lacks a field its kind needs (an id of its key) or holds one of the wrong type
(a ``size`` that is no number) raises ``PayloadMalformed`` (code ``payload_malformed``, not
retried) naming the kind and the field. The ``event`` is provenance only: a malformed one
reads as empty.

``to_dict`` gives the JSON today's ledgers hold, key for key (``test_job_payloads`` reads
every golden-ledger payload and writes it back unchanged): a field that a variant of a
kind never wrote is left out, not written as null. Times are kept as the ISO 8601
strings they were written as: deliveries copy them. Import from here; the package's
modules (``common``, ``messages``, ``calls``) only keep each file small.

- ``AttachmentPayload``: one media attachment (``attachment:{conv}:{message}:{media}``).
- ``TextPayload``: a message's text (``text:{conv}:{message}``) or, with ``utterance_id``,
  a transcription utterance (``transcript:{conv}:{comm}:{utterance}``).
- ``ConversationPayload``: read a messaging conversation (``conversation:{conv}``).
- ``RecordingPayload``: a conversation's recordings (``recording:{conv}``; planned from an
  event, or by backfill with ``activity`` "backfill") or, with ``recording_id``, one
  recording (``recording:{conv}:{recording}``).
- ``TranscriptPayload``: one communication's transcript (``transcript:{conv}:{comm}``).
- ``EventMeta``: the ``event`` every payload carries (where the job came from);
  ``EventMeta.provenance`` is the one mapping of it to delivery fields (``org_id`` is
  delivered as ``organization_id``), by the field sets ``ORGANIZATION`` and
  ``EVENT_TRAIL`` (media metadata) and ``TEXT_PROVENANCE`` (NLP records).
"""

from media_bridge.jobs.payloads.calls import RecordingPayload, TranscriptPayload
from media_bridge.jobs.payloads.common import (
    ANALYTICS_CALL,
    BACKFILL,
    BACKFILL_EVENT_FIELDS,
    CONSENT_HINT,
    EVENT_FIELDS,
    EVENT_TRAIL,
    NO_TEXT,
    ORGANIZATION,
    PAYLOAD_VERSION,
    SPEAKER_FACTS,
    TEXT_PROVENANCE,
    EventMeta,
    ProvenanceField,
    check_version,
)
from media_bridge.jobs.payloads.messages import (
    AttachmentPayload,
    ConversationPayload,
    TextPayload,
)

__all__ = [
    "ANALYTICS_CALL",
    "BACKFILL",
    "BACKFILL_EVENT_FIELDS",
    "CONSENT_HINT",
    "EVENT_FIELDS",
    "EVENT_TRAIL",
    "NO_TEXT",
    "ORGANIZATION",
    "PAYLOAD_VERSION",
    "SPEAKER_FACTS",
    "TEXT_PROVENANCE",
    "AttachmentPayload",
    "ConversationPayload",
    "EventMeta",
    "ProvenanceField",
    "RecordingPayload",
    "TextPayload",
    "TranscriptPayload",
    "check_version",
]
