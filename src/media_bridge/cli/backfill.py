"""`media-bridge backfill`: find past conversations and fetch what the ledger lacks."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from media_bridge.cli.common import add_settings_arguments, genesys_settings_from_args

if TYPE_CHECKING:
    from media_bridge.app import Bridge
    from media_bridge.jobs.backfill import BackfillReport
    from media_bridge.types import JobState


def _when(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "backfill",
        help="find past conversations (analytics query) and fetch what is missing",
        description="Query analytics conversation details over [--since, --until), plan "
        "the jobs the ledger does not hold yet (messaging conversations, call recordings "
        "and transcripts) and run them until nothing is left. Safe to run again.",
    )
    parser.add_argument("--since", type=_when, required=True, help="ISO 8601 start (UTC)")
    parser.add_argument("--until", type=_when, required=True, help="ISO 8601 end (UTC)")
    parser.add_argument(
        "--media-type", choices=("message", "voice", "all"), default="all", dest="media_type"
    )
    parser.add_argument(
        "--plan-only", action="store_true", help="record the jobs but do not run them"
    )
    parser.add_argument("--idle-timeout", type=float, default=3600.0, help="seconds")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the summary as one JSON object (for scripts) instead of a table",
    )
    add_settings_arguments(parser)
    parser.set_defaults(func=main)


def retention_warning(since: datetime, done_retention_s: float) -> str | None:
    """Jobs older than the retention are deleted, keys and all: their items may come again."""
    oldest_kept = datetime.now(UTC) - timedelta(seconds=done_retention_s)
    if since >= oldest_kept:
        return None
    return (
        f"warning: --since {since.isoformat()} is older than ledger.done_retention_s "
        f"({done_retention_s / 86400:g} days): items delivered before "
        f"{oldest_kept.isoformat(timespec='seconds')} may be delivered again"
    )


async def run_backfill(args: argparse.Namespace) -> int:
    from media_bridge.app import Bridge
    from media_bridge.cli.run import ReplayProgress
    from media_bridge.jobs.backfill import BackfillReport
    from media_bridge.observability import configure_logging
    from media_bridge.runtime import run_pipeline
    from media_bridge.types import JobState

    settings = genesys_settings_from_args(args)
    configure_logging(settings.log_level, settings.log_json)
    warning = retention_warning(args.since, settings.ledger.done_retention_s)
    if warning:
        print(warning, file=sys.stderr)
    report = BackfillReport()
    async with Bridge(settings) as bridge:
        await _plan(bridge, args, report)
        counts: dict[JobState, int] = {}
        if not args.plan_only:
            progress = ReplayProgress(
                bridge, settings.voice.recording_delay_s, command="backfill", events=False
            )
            try:
                counts = await run_pipeline(
                    bridge, until_idle=True, idle_timeout_s=args.idle_timeout, progress=progress
                )
            finally:
                progress.finish()
        await _show(bridge, args, report, counts)
    return 1 if counts.get(JobState.DEAD) else 0


async def _plan(bridge: Bridge, args: argparse.Namespace, report: BackfillReport) -> None:
    """Find the window's conversations and add the jobs the ledger does not hold yet."""
    from media_bridge.jobs.backfill import backfill_jobs, find_conversations, plan_missing

    assert bridge.genesys is not None
    voice = bridge.settings.voice
    found = await find_conversations(
        bridge.genesys,
        args.since,
        args.until,
        args.media_type,
        chunk_days=voice.backfill_chunk_days,
        page_size=voice.backfill_page_size,
        report=report,
    )
    jobs = backfill_jobs(
        found, messaging_recordings=voice.backfill_messaging_recordings, voice=voice.enabled
    )
    await plan_missing(bridge.ledger, jobs, report)
    _say(
        f"backfill: {report.found} conversation(s) found in {report.queries} "
        f"analytics query(ies); {len(report.planned)} job(s) planned, "
        f"{report.already_known} already in the ledger",
        args.json,
    )


async def _show(
    bridge: Bridge,
    args: argparse.Namespace,
    report: BackfillReport,
    counts: dict[JobState, int],
) -> None:
    """The outcome as one JSON line (``--json``) or the summary table."""
    from media_bridge.cli.run import print_dead_hint, print_summary
    from media_bridge.types import JobState

    if args.json:
        print(
            json.dumps(
                {
                    "conversations_found": report.found,
                    "queries": report.queries,
                    "already_known": report.already_known,
                    "planned": len(report.planned),
                    "jobs": {state.value: n for state, n in counts.items()},
                    "recording_batch": batch_counts(bridge),
                }
            )
        )
        return
    # --plan-only: the ledger as the plan left it
    shown = counts if not args.plan_only else await bridge.ledger.counts()
    rows = [*_report_rows(report, args.plan_only), *_batch_rows(batch_counts(bridge))]
    print_summary(shown, bridge, rows, events=False)
    print_dead_hint(shown.get(JobState.DEAD, 0), bridge.settings.ledger.url)


def _report_rows(report: Any, plan_only: bool) -> list[tuple[str, str]]:
    return [
        ("conversations found / analytics queries", f"{report.found} / {report.queries}"),
        (
            "jobs planned / already in the ledger",
            f"{len(report.planned)} / {report.already_known}"
            + (" (--plan-only: not run)" if plan_only else ""),
        ),
    ]


def batch_counts(bridge: Any) -> dict[str, int]:
    """How the batch path settled this run's recordings (``served``, ``fallback_<reason>``)
    and its requests (``submits``, ``polls``); empty with ``voice.recording_batch`` off."""
    batches = bridge.context.recording_batches if bridge.context is not None else None
    return dict(sorted(batches.counts.items())) if batches is not None else {}


def _batch_rows(counts: dict[str, int]) -> list[tuple[str, str]]:
    if not counts:
        return []
    fallbacks = {k.removeprefix("fallback_"): n for k, n in counts.items() if "fallback_" in k}
    said = " / ".join(f"{k} {n}" for k, n in fallbacks.items()) or "none"
    return [
        (
            "recordings via batch / read one by one",
            f"{counts.get('served', 0)} / {sum(fallbacks.values())} ({said})",
        ),
        (
            "batch requests: submits / polls",
            f"{counts.get('submits', 0)} / {counts.get('polls', 0)}",
        ),
        *_conversation_rows(counts),
    ]


def _conversation_rows(counts: dict[str, int]) -> list[tuple[str, str]]:
    """Backfilled calls: resolved by one ``{conversationId}`` entry or listed (by reason);
    their participants from the analytics answer or a conversation read."""
    prefix = "conversations_listed_"
    listed = {k.removeprefix(prefix): n for k, n in counts.items() if k.startswith(prefix)}
    resolved = counts.get("conversations_resolved", 0)
    if not listed and not resolved:
        return []
    said = " / ".join(f"{k} {n}" for k, n in listed.items()) or "none"
    return [
        (
            "calls via batch / listed",
            f"{resolved} / {sum(listed.values())} ({said})",
        ),
        (
            "call facts: analytics / conversation read",
            f"{counts.get('calls_from_analytics', 0)} / {counts.get('calls_read', 0)}",
        ),
    ]


def _say(text: str, quiet: bool) -> None:
    """A progress line: on stderr on a terminal, else a log line (``--json`` keeps
    stdout for the JSON)."""
    if sys.stderr.isatty() and not quiet:
        print(text, file=sys.stderr)
    else:
        from media_bridge.observability import get_logger

        get_logger(__name__).info("backfill.planned", progress=text)


def main(args: argparse.Namespace) -> int:
    from media_bridge.errors import ConfigError

    if args.until <= args.since:
        raise ConfigError(
            f"backfill: --until ({args.until.isoformat()}) must be after "
            f"--since ({args.since.isoformat()})"
        )
    return asyncio.run(run_backfill(args))
