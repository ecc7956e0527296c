"""What a job does with its consent verdict, before any download.

``granted`` / ``not_checked``: go on. ``refused``: nothing is fetched; the job is done with
the verdict in its result. ``unknown``: the job is held (no audio fetched) and checked
again every ``consent.recheck_s`` until ``consent.hold_max_s`` after it was planned, then
refused. Every refusal and hold is logged at INFO with the job key and counted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from media_bridge import metrics
from media_bridge.consent.settings import ConsentSettings
from media_bridge.consent.verdict import Verdict
from media_bridge.jobs import JobOutcome
from media_bridge.observability import get_logger
from media_bridge.types import Job

log = get_logger(__name__)


def settle(job: Job, verdict: Verdict, settings: ConsentSettings) -> JobOutcome | None:
    """None when the job may deliver; else the outcome that holds or ends it."""
    # the stored JSON, not a ``jobs.payloads`` type: any kind's job comes here, for one
    # field (for the log) that every kind has
    conversation_id = job.payload.get("conversation_id")
    if verdict.allows_delivery:
        metrics.CONSENT_VERDICTS.labels(kind=str(job.kind), verdict=verdict.verdict).inc()
        return None
    if verdict.verdict == "unknown":
        age = (datetime.now(UTC) - job.created_at).total_seconds()
        if age < settings.hold_max_s:
            metrics.CONSENT_VERDICTS.labels(kind=str(job.kind), verdict="held").inc()
            log.info(
                "consent.held",
                key=job.key,
                conversation_id=conversation_id,
                source=verdict.source,
                waited_s=round(age, 1),
                hold_max_s=settings.hold_max_s,
            )
            again = datetime.now(UTC) + timedelta(seconds=settings.recheck_s)
            return JobOutcome(
                result={"consent": verdict.to_dict(), "held": "consent not recorded yet"},
                run_again_at=again,
            )
        verdict = Verdict.of("refused", "hold_timeout")
    metrics.CONSENT_VERDICTS.labels(kind=str(job.kind), verdict="refused").inc()
    log.info(
        "consent.refused",
        key=job.key,
        conversation_id=conversation_id,
        source=verdict.source,
    )
    return JobOutcome(result={"consent": verdict.to_dict(), "skipped": "consent refused"})
