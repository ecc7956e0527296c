"""Gap backfills: Notifications are not durable, so every interval without a connected socket
(start, reconnect, channel renewal, and the periodic sweep) is read back through the
analytics query ``media-bridge backfill`` uses; the ledger skips keys it already holds."""

from __future__ import annotations

from datetime import datetime

from media_bridge import metrics
from media_bridge.config import Settings
from media_bridge.genesys import GenesysClient
from media_bridge.jobs.backfill import (
    BackfillReport,
    backfill_jobs,
    find_conversations,
    plan_missing,
)
from media_bridge.ledger.base import Ledger
from media_bridge.observability import get_logger

log = get_logger(__name__)


async def backfill_gap(
    genesys: GenesysClient,
    ledger: Ledger,
    settings: Settings,
    since: datetime,
    until: datetime,
    reason: str,
) -> BackfillReport:
    """Plan what the ledger lacks for conversations started in [since, until); raises on an
    API failure (the caller keeps the gap and tries again)."""
    voice = settings.voice
    report = BackfillReport()
    try:
        found = await find_conversations(
            genesys,
            since,
            until,
            settings.notifications.gap_media,
            chunk_days=voice.backfill_chunk_days,
            page_size=voice.backfill_page_size,
            report=report,
        )
        jobs = backfill_jobs(
            found, messaging_recordings=voice.backfill_messaging_recordings, voice=voice.enabled
        )
        missing = await plan_missing(ledger, jobs, report)
    except Exception as exc:
        metrics.NOTIFICATION_GAP_BACKFILLS.labels(reason=reason, outcome="failed").inc()
        log.warning(
            "notifications.gap_backfill_failed",
            reason=reason,
            since=since.isoformat(),
            until=until.isoformat(),
            error=str(exc)[:300],
        )
        raise
    metrics.NOTIFICATION_GAP_BACKFILLS.labels(reason=reason, outcome="ok").inc()
    metrics.NOTIFICATION_GAP_JOBS.inc(len(missing))
    log.info(
        "notifications.gap_backfill",
        reason=reason,
        since=since.isoformat(),
        until=until.isoformat(),
        conversations=report.found,
        queries=report.queries,
        planned=len(missing),
        already_known=report.already_known,
    )
    return report
