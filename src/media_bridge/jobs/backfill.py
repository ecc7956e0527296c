"""Backfill: find past conversations with the analytics details query and plan what the
ledger does not hold yet, then let the workers fetch it.

- the interval ``since/until`` is split into chunks of at most ``voice.backfill_chunk_days``
  (assumed API limit: 31 days per query; not verified against a public source);
- every page is read (``paging.pageSize`` / ``pageNumber``) until a short page or
  ``totalHits`` is reached;
- messaging conversations -> ``conversation:{conv}`` (ended, so not watched) and, with
  ``voice.backfill_messaging_recordings``, ``recording:{conv}`` whose messaging
  transcript plans attachment jobs with the event path's keys; voice conversations ->
  ``recording:{conv}`` (with the call's participants as analytics gives them, payload
  ``analytics_call``, so its recordings may need no conversation read). A key the
  ledger already holds is not planned again, so a second run over the same interval
  fetches nothing new.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from media_bridge.genesys import GenesysClient
from media_bridge.jobs.keys import conversation_key, recording_key
from media_bridge.jobs.payloads import BACKFILL, ConversationPayload, EventMeta, RecordingPayload
from media_bridge.ledger.base import Ledger
from media_bridge.types import JobKind, NewJob
from media_bridge.voice.analytics_call import call_facts

MediaChoice = Literal["message", "voice", "all"]
#: analytics ``mediaType`` values the backfill knows how to fetch
_KINDS = {"message": "message", "voice": "voice"}


@dataclass(frozen=True, slots=True)
class FoundConversation:
    conversation_id: str
    media_type: str  # message | voice
    start: str | None
    end: str | None
    message_type: str | None = None
    #: a call's customer and agent from the analytics answer (``call_facts``)
    call: dict[str, Any] | None = None


@dataclass(slots=True)
class BackfillReport:
    found: int = 0
    queries: int = 0
    already_known: int = 0
    planned: list[str] = field(default_factory=list)


def interval_chunks(since: datetime, until: datetime, chunk_days: float) -> Iterator[str]:
    """``start/end`` ISO intervals covering [since, until) in chunks of ``chunk_days``."""
    if until <= since:
        raise ValueError("--until must be after --since")
    step = timedelta(days=chunk_days)
    start = since
    while start < until:
        end = min(until, start + step)
        yield f"{_iso(start)}/{_iso(end)}"
        start = end


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def conversation_query(interval: str, media: MediaChoice, page: int, size: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "interval": interval,
        "order": "asc",
        "orderBy": "conversationStart",
        "paging": {"pageSize": size, "pageNumber": page},
    }
    if media != "all":
        body["segmentFilters"] = [
            {
                "type": "and",
                "predicates": [{"type": "dimension", "dimension": "mediaType", "value": media}],
            }
        ]
    return body


def _found(item: dict[str, Any]) -> FoundConversation | None:
    conversation_id = item.get("conversationId")
    if not isinstance(conversation_id, str) or not conversation_id:
        return None
    media: str | None = None
    message_type: str | None = None
    for participant in item.get("participants") or []:
        for session in (participant or {}).get("sessions") or []:
            kind = str((session or {}).get("mediaType") or "").lower()
            if kind in _KINDS:
                media = kind
                message_type = message_type or session.get("messageType")
    if media is None:
        return None
    return FoundConversation(
        conversation_id,
        media,
        item.get("conversationStart"),
        item.get("conversationEnd"),
        message_type,
        call_facts(item) if media == "voice" else None,
    )


async def find_conversations(
    client: GenesysClient,
    since: datetime,
    until: datetime,
    media: MediaChoice,
    *,
    chunk_days: float = 31.0,
    page_size: int = 100,
    report: BackfillReport | None = None,
) -> list[FoundConversation]:
    """Every messaging / voice conversation that started in [since, until), each once."""
    report = report or BackfillReport()
    found: dict[str, FoundConversation] = {}
    for interval in interval_chunks(since, until, chunk_days):
        page = 1
        seen = 0
        while True:
            body = await client.analytics_conversation_details_query(
                conversation_query(interval, media, page, page_size)
            )
            report.queries += 1
            items = [c for c in body.get("conversations") or [] if isinstance(c, dict)]
            for item in items:
                conversation = _found(item)
                if conversation and (media == "all" or conversation.media_type == media):
                    found.setdefault(conversation.conversation_id, conversation)
            seen += len(items)
            total = body.get("totalHits")
            if len(items) < page_size or (isinstance(total, int) and seen >= total):
                break
            page += 1
    report.found = len(found)
    return list(found.values())


def backfill_jobs(
    conversations: list[FoundConversation], *, messaging_recordings: bool, voice: bool = True
) -> list[NewJob]:
    event = EventMeta.backfill()
    jobs: list[NewJob] = []
    for conversation in conversations:
        conv = conversation.conversation_id
        if conversation.media_type == "message":
            watch = ConversationPayload(
                conversation_id=conv,
                event=event,
                media_type="MESSAGE",
                message_type=(conversation.message_type or "").upper() or None,
                activity=BACKFILL,
                # a conversation without an end is still open: watch it
                ended=conversation.end is not None,
            )
            jobs.append(NewJob(conversation_key(conv), JobKind.CONVERSATION, watch.to_dict()))
            if messaging_recordings:
                recordings = RecordingPayload(conv, event, media_type="MESSAGE", activity=BACKFILL)
                jobs.append(NewJob(recording_key(conv), JobKind.RECORDING, recordings.to_dict()))
        elif voice:
            recordings = RecordingPayload(
                conv, event, media_type="VOICE", activity=BACKFILL, analytics_call=conversation.call
            )
            jobs.append(NewJob(recording_key(conv), JobKind.RECORDING, recordings.to_dict()))
    return jobs


async def plan_missing(ledger: Ledger, jobs: list[NewJob], report: BackfillReport) -> list[NewJob]:
    """Record the jobs whose keys the ledger does not hold; returns those."""
    known = await ledger.existing_keys(j.key for j in jobs)
    missing = [j for j in jobs if j.key not in known]
    report.already_known += len(jobs) - len(missing)
    if missing:
        await ledger.add_jobs(missing)
    report.planned.extend(j.key for j in missing)
    return missing
