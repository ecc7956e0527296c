"""Intake: raw event bytes -> parsed events -> planned jobs, durable in the ledger.

This is the only step between a source and its acknowledgement, so it does no
network work: parse, plan, one ledger write. Downloads happen in workers. An event
that cannot be parsed is kept in the ledger's rejected table (never dropped) and
is acknowledged too: retrying the same bytes cannot fix it. Should the ledger still
refuse a value of the batch (``LedgerDataError``), the batch is written event by
event and only the events it refuses are rejected: one bad event never takes the
good ones beside it down.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from media_bridge import metrics
from media_bridge.intake.events.parse import (
    TOO_MANY_EVENTS,
    ParseStatus,
    Rejection,
    parse_payload_results,
)
from media_bridge.intake.sources.base import RawEvent, Source
from media_bridge.jobs.planning import MessageTopics, plan_jobs
from media_bridge.ledger.base import AddedJobs, Ledger, LedgerDataError
from media_bridge.observability import get_logger
from media_bridge.types import JobKind, NewJob, ParsedEvent

log = get_logger(__name__)


@dataclass(slots=True)
class IntakeResult:
    events: int = 0
    #: new keys
    jobs_added: int = 0
    #: existing jobs an event reopened (a conversation watch revived by a new event)
    jobs_reopened: int = 0
    unknown_topics: int = 0
    rejected: list[str] = field(default_factory=list)
    #: a body refused whole: more events than ``max_events`` allowed
    too_many_events: bool = False

    def merge(self, other: IntakeResult) -> None:
        self.events += other.events
        self.jobs_added += other.jobs_added
        self.jobs_reopened += other.jobs_reopened
        self.unknown_topics += other.unknown_topics
        self.rejected.extend(other.rejected)
        self.too_many_events = self.too_many_events or other.too_many_events

    def reasons(self, most: int = 5) -> dict[str, int]:
        """The rejections by reason, the ``most`` commonest (an answer carries counts)."""
        from collections import Counter

        counted = Counter(reason[:200] for reason in self.rejected)
        return dict(counted.most_common(most))


@dataclass(frozen=True, slots=True)
class _Planned:
    """The jobs of one accepted event, with what it takes to reject it instead."""

    origin: str
    raw: bytes
    jobs: list[NewJob]


class Intake:
    def __init__(
        self,
        ledger: Ledger,
        *,
        media_types: frozenset[str] | None,
        recording_delay_s: float = 0.0,
        kinds: frozenset[JobKind] | None = None,
        message_topics: MessageTopics = MessageTopics.TEXTS,
        session_transcripts: bool = False,
        on_new_jobs: Callable[[], None] | None = None,
        consent_attribute: str | None = None,
        max_media_per_message: int | None = None,
        default_org_id: str | None = None,
    ) -> None:
        self._ledger = ledger
        self._media_types = media_types
        self._recording_delay_s = recording_delay_s
        #: job kinds this process runs; others (e.g. recordings when off) are not planned
        self._kinds = kinds
        #: what a message topic's message ids plan (also a conversation watch per
        #: conversation, for orgs that only stream message topics)
        self._message_topics = message_topics
        #: a transcription event's SESSION_ENDED plans the call's transcript job
        self._session_transcripts = session_transcripts
        self._on_new_jobs = on_new_jobs
        self._consent_attribute = consent_attribute
        #: an event naming more media for one message is rejected (amplification)
        self._max_media = max_media_per_message
        #: the org of events that do not name one (bare Notifications API frames)
        self._default_org_id = default_org_id
        #: detail-types already logged as disagreeing with their topic
        self._mismatches_logged: set[str] = set()

    async def accept(
        self, raw: bytes, origin: str, *, max_events: int | None = None
    ) -> IntakeResult:
        """Parse one payload (an event, an array, or JSON lines) and record its jobs; a
        payload of more than ``max_events`` events is refused whole (one rejected row)."""
        return await self.accept_many([RawEvent(raw, origin)], max_events=max_events)

    async def accept_many(
        self, raws: list[RawEvent], *, max_events: int | None = None
    ) -> IntakeResult:
        """Record the jobs of a batch; its rejections go to the ledger in one write."""
        result = IntakeResult()
        received = datetime.now(UTC)
        planned: list[_Planned] = []
        rejections: list[tuple[str, str, bytes]] = []
        for raw in raws:
            for item in parse_payload_results(raw.body, max_events):
                if isinstance(item, Rejection):
                    if item.reason.startswith(TOO_MANY_EVENTS):
                        result.too_many_events = True
                    self._reject(result, rejections, raw.origin, item.reason, item.raw)
                    continue
                crowded = self._crowded_message(item.event)
                if crowded is not None:
                    self._reject(result, rejections, raw.origin, crowded, item.raw or raw.body)
                    continue
                result.events += 1
                if item.event.detail_type_mismatch is not None:
                    self._note_detail_type(item.event)
                metrics.TOPICS.labels(family=item.family.value).inc()
                if item.status is ParseStatus.UNKNOWN_TOPIC:
                    result.unknown_topics += 1
                    metrics.EVENTS_IN.labels(outcome="unknown_topic").inc()
                    continue
                metrics.EVENTS_IN.labels(outcome="accepted").inc()
                jobs = self._plan(item.event, received)
                if jobs:
                    planned.append(_Planned(raw.origin, item.raw or raw.body, jobs))
        if planned:
            recorded = await self._record(planned, result, rejections)
            result.jobs_added = recorded.new
            result.jobs_reopened = recorded.reopened
            metrics.JOBS_PLANNED.labels(kind="event").inc(recorded)
            _count_promoted(recorded)
            if self._on_new_jobs is not None:
                self._on_new_jobs()
        if rejections:
            await self._ledger.record_rejected_many(rejections)
        return result

    def _crowded_message(self, event: ParsedEvent) -> str | None:
        """Why an event is refused for naming too many media for one message, or None."""
        if self._max_media is None or len(event.attachments) <= self._max_media:
            return None
        from collections import Counter

        per_message = Counter((a.conversation_id, a.message_id) for a in event.attachments)
        (_, most), *_ = per_message.most_common(1)
        if most <= self._max_media:
            return None
        return f"too many media for one message: {most}, the limit is {self._max_media}"

    async def _record(
        self,
        planned: list[_Planned],
        result: IntakeResult,
        rejections: list[tuple[str, str, bytes]],
    ) -> AddedJobs:
        """One write for the batch; if the ledger refuses a value, one write per event."""
        try:
            return await self._ledger.add_jobs([job for event in planned for job in event.jobs])
        except LedgerDataError as exc:
            log.warning("batch_refused_by_ledger", events=len(planned), error=str(exc))
        new = reopened = promoted = 0
        for event in planned:
            try:
                added = await self._ledger.add_jobs(event.jobs)
                new += added.new
                reopened += added.reopened
                promoted += added.promoted
            except LedgerDataError as exc:
                result.events -= 1
                reason = f"the ledger refused the event's jobs: {exc}"
                self._reject(result, rejections, event.origin, reason, event.raw)
        return AddedJobs(new=new, reopened=reopened, promoted=promoted)

    @staticmethod
    def _reject(
        result: IntakeResult,
        rejections: list[tuple[str, str, bytes]],
        origin: str,
        reason: str,
        raw: bytes,
    ) -> None:
        """Count a rejection and queue its row (written once, at the end of the batch);
        logged once per batch and reason, not once per event."""
        if reason not in result.rejected[-1:]:
            log.warning("event_rejected", origin=origin, reason=reason)
        result.rejected.append(reason)
        metrics.EVENTS_IN.labels(outcome="rejected").inc()
        rejections.append((origin, reason, raw))

    def _note_detail_type(self, event: ParsedEvent) -> None:
        """Count every disagreement; log each distinct detail-type once (a rule or input
        transformer that rewrites it would otherwise log on every event)."""
        metrics.DETAIL_TYPE_MISMATCH.inc()
        detail_type = str(event.detail_type_mismatch)
        if detail_type in self._mismatches_logged or len(self._mismatches_logged) >= 100:
            return
        self._mismatches_logged.add(detail_type)
        log.warning(
            "event.detail_type_mismatch",
            detail_type=detail_type,
            topic=event.topic[:200],
            event_id=event.event_id,
        )

    def _plan(self, event: ParsedEvent, received: datetime) -> list[NewJob]:
        if event.org_id is None:
            event.org_id = self._default_org_id
        planned = plan_jobs(
            event,
            self._media_types,
            received_at=received,
            recording_delay_s=self._recording_delay_s,
            message_topics=self._message_topics,
            consent_attribute=self._consent_attribute,
            session_transcripts=self._session_transcripts,
        )
        if self._kinds is None:
            return planned
        return [job for job in planned if job.kind in self._kinds]


async def pump(source: Source, intake: Intake) -> IntakeResult:
    """Move every batch of a source into the ledger, acknowledging each after it is recorded."""
    total = IntakeResult()
    async for batch in source.batches():
        total.merge(await intake.accept_many(batch))
        await source.ack(batch)
    return total


def _count_promoted(added: AddedJobs) -> None:
    """Waiting backfill (or deferred) jobs that a live event named again are live now:
    counted and logged, not decided silently."""
    if added.promoted:
        metrics.JOBS_PROMOTED.inc(added.promoted)
        log.info("jobs_promoted_to_live", jobs=added.promoted)
