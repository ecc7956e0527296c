"""Intake: raw event bytes -> parsed events -> planned jobs, durable in the ledger.

This is the only step between a source and its acknowledgement, so it does no
network work: parse, plan, one ledger write. Downloads happen in workers. An event
that cannot be parsed is kept in the ledger's rejected table (never dropped) and
is acknowledged too: retrying the same bytes cannot fix it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from media_bridge import metrics
from media_bridge.events.parse import ParseStatus, Rejection, parse_payload_results
from media_bridge.ledger.base import Ledger
from media_bridge.observability import get_logger
from media_bridge.planner import plan_jobs
from media_bridge.sources.base import RawEvent, Source
from media_bridge.types import JobKind, NewJob, ParsedEvent

log = get_logger(__name__)


@dataclass(slots=True)
class IntakeResult:
    events: int = 0
    jobs_added: int = 0
    unknown_topics: int = 0
    rejected: list[str] = field(default_factory=list)

    def merge(self, other: IntakeResult) -> None:
        self.events += other.events
        self.jobs_added += other.jobs_added
        self.unknown_topics += other.unknown_topics
        self.rejected.extend(other.rejected)


class Intake:
    def __init__(
        self,
        ledger: Ledger,
        *,
        media_types: set[str] | None,
        recording_delay_s: float = 0.0,
        kinds: frozenset[JobKind] | None = None,
        watch_message_conversations: bool = False,
        on_new_jobs: Callable[[], None] | None = None,
    ) -> None:
        self._ledger = ledger
        self._media_types = media_types
        self._recording_delay_s = recording_delay_s
        #: job kinds this process runs; others (e.g. recordings when off) are not planned
        self._kinds = kinds
        self._watch_message_conversations = watch_message_conversations
        self._on_new_jobs = on_new_jobs

    async def accept(self, raw: bytes, origin: str) -> IntakeResult:
        """Parse one payload (an event, an array, or JSON lines) and record its jobs."""
        return await self.accept_many([RawEvent(raw, origin)])

    async def accept_many(self, raws: list[RawEvent]) -> IntakeResult:
        result = IntakeResult()
        received = datetime.now(UTC)
        jobs: list[NewJob] = []
        for raw in raws:
            for item in parse_payload_results(raw.body):
                if isinstance(item, Rejection):
                    result.rejected.append(item.reason)
                    metrics.EVENTS_IN.labels(outcome="rejected").inc()
                    await self._ledger.record_rejected(raw.origin, item.reason, item.raw)
                    log.warning("event_rejected", origin=raw.origin, reason=item.reason)
                    continue
                result.events += 1
                metrics.TOPICS.labels(family=item.family.value).inc()
                if item.status is ParseStatus.UNKNOWN_TOPIC:
                    result.unknown_topics += 1
                    metrics.EVENTS_IN.labels(outcome="unknown_topic").inc()
                    continue
                metrics.EVENTS_IN.labels(outcome="accepted").inc()
                jobs.extend(self._plan(item.event, received))
        if jobs:
            result.jobs_added = await self._ledger.add_jobs(jobs)
            metrics.JOBS_PLANNED.labels(kind="event").inc(result.jobs_added)
            if self._on_new_jobs is not None:
                self._on_new_jobs()
        return result

    def _plan(self, event: ParsedEvent, received: datetime) -> list[NewJob]:
        planned = plan_jobs(
            event,
            self._media_types,
            received_at=received,
            recording_delay_s=self._recording_delay_s,
            watch_message_conversations=self._watch_message_conversations,
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
