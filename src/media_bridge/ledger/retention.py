"""How long the ledger keeps what it holds: the periodic sweep and ``media-bridge purge``.

Done jobs first shrink to tombstones (``ledger.tombstone_after_s``: key, state, finish time,
sha256; no payload, so no personal data) and their keys still refuse duplicates; whole rows
go after ``ledger.done_retention_s`` (30 days: longer than EventBridge's 4-day redelivery,
so a redelivered event is still refused). Rejected events go after
``ledger.rejected_retention_s``. Files the sinks delivered are not touched: for many users
the dir sink *is* the delivery (``media-bridge forget`` removes one person's files).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from media_bridge import metrics
from media_bridge.config import LedgerSettings, Settings
from media_bridge.ledger.base import Ledger
from media_bridge.observability import get_logger
from media_bridge.sinks.sidecars import delete_delivery, read_sidecar, sidecars

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class PurgeCounts:
    tombstoned: int
    done_deleted: int
    rejected_deleted: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


async def purge(
    ledger: Ledger,
    settings: LedgerSettings,
    *,
    older_than_s: float | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> PurgeCounts:
    """One sweep; ``older_than_s`` overrides ``ledger.done_retention_s``."""
    now = now or datetime.now(UTC)
    keep_done = settings.done_retention_s if older_than_s is None else older_than_s
    counts = PurgeCounts(
        tombstoned=await ledger.tombstone_done(
            now - timedelta(seconds=settings.tombstone_after_s), dry_run
        ),
        done_deleted=await ledger.purge_done(now - timedelta(seconds=keep_done), dry_run),
        rejected_deleted=await ledger.purge_rejected(
            now - timedelta(seconds=settings.rejected_retention_s), dry_run
        ),
    )
    if not dry_run:
        for what, n in counts.to_dict().items():
            metrics.PURGED.labels(what=what).inc(n)
    log.info("ledger.purge", dry_run=dry_run, **counts.to_dict())
    return counts


def purge_kept_clips(settings: Settings, *, dry_run: bool = False, now: float | None = None) -> int:
    """Delete clips kept locally by ``hold_local`` (sidecar and files) older than
    ``sinks.kept_retention_s``; nothing when the dir sink is the media sink (deliveries)."""
    if settings.sinks.media == "dir":
        return 0
    root = settings.sinks.dir_path
    cutoff = (now if now is not None else time.time()) - settings.sinks.kept_retention_s
    removed = 0
    for sidecar in sidecars(root):
        if sidecar.stat().st_mtime >= cutoff:
            continue
        record = read_sidecar(sidecar)
        if record is not None:
            removed += delete_delivery(sidecar, record, dry_run)
    if not dry_run:
        metrics.PURGED.labels(what="kept_clips").inc(removed)
    return removed


async def sweep_forever(ledger: Ledger, settings: Settings) -> Any:
    """The periodic sweep of a long-running process (``ledger.sweep_interval_s``; 0: off)."""
    if settings.ledger.sweep_interval_s <= 0:
        return
    while True:
        await asyncio.sleep(settings.ledger.sweep_interval_s)
        try:
            await purge(ledger, settings.ledger)
            kept = await asyncio.to_thread(purge_kept_clips, settings)
            if kept:
                log.info("kept_clips.purge", removed=kept)
        except Exception as exc:  # logged, tried again next time: it must not stop the process
            log.error("ledger.purge_failed", error=str(exc))
