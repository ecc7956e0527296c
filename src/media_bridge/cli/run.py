"""`media-bridge run`: the long-running service (sources -> ledger -> workers -> sinks)."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from media_bridge.cli.common import (
    add_settings_arguments,
    budget_row,
    genesys_settings_from_args,
    intake_from_spec,
    priority_rows,
    verdict_rows,
)

if TYPE_CHECKING:
    from media_bridge.app import Bridge
    from media_bridge.config import Settings
    from media_bridge.intake.runner import IntakeRunner
    from media_bridge.operations.port import Readiness


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the bridge: consume events, fetch media, deliver",
        description="Run the bridge. Sources: file:PATH, stdin, http (EventBridge API "
        "destination intake on MEDIA_BRIDGE_INTAKE__HOST/PORT), sqs:QUEUE_URL, kafka:TOPIC, "
        "notifications (the Notifications API WebSocket, MEDIA_BRIDGE_NOTIFICATIONS__*). "
        "Every source may be given several times.",
    )
    parser.add_argument(
        "--source", action="append", default=[], help="event source (repeatable); default: http"
    )
    parser.add_argument(
        "--until-idle",
        action="store_true",
        help="exit once the sources are exhausted and no job is left to run",
    )
    parser.add_argument("--worker-id", help="this worker's id in the ledger (default host:pid)")
    add_settings_arguments(parser)
    parser.set_defaults(func=main)


async def run_bridge(args: argparse.Namespace) -> int:
    from media_bridge.app import Bridge
    from media_bridge.observability import configure_logging
    from media_bridge.operations.bridge import bridge_readiness, ledger_gauges, role_of
    from media_bridge.operations.port import serving_operations

    settings = genesys_settings_from_args(args)
    configure_logging(settings.log_level, settings.log_json)
    specs = args.source or ["http"]
    # built before the bridge opens its ledger: a bad --source (or an HTTP intake without
    # authentication) is refused at once
    runners = [intake_from_spec(s, settings) for s in specs]
    async with Bridge(settings, worker_id=args.worker_id) as bridge:
        assert bridge.genesys is not None
        ops = settings.operations
        readiness = bridge_readiness(
            role_of(specs), bridge.ledger, bridge.genesys, ops.check_timeout_s
        )
        async with serving_operations(
            ops, readiness, [ledger_gauges(bridge.ledger, ops.check_timeout_s)]
        ):
            return await _serve(args, settings, runners, bridge, readiness)


async def _serve(
    args: argparse.Namespace,
    settings: Settings,
    runners: list[IntakeRunner],
    bridge: Bridge,
    readiness: Readiness,
) -> int:
    """Run the pipeline until the runners end (``--until-idle``) or a signal comes."""
    from media_bridge.runtime import run_pipeline

    replay = getattr(args, "summary", False)
    progress = ReplayProgress(bridge, settings.voice.recording_delay_s) if replay else None
    task = asyncio.ensure_future(
        run_pipeline(
            bridge, runners, until_idle=args.until_idle, progress=progress, readiness=readiness
        )
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        counts = await task
    except asyncio.CancelledError:
        return 0
    finally:
        if progress is not None:
            progress.finish()
    dead = counts.get(_dead(), 0)
    if replay:
        print_summary(counts, bridge)
        print_dead_hint(dead, settings.ledger.url)
    return 1 if dead else 0


def print_dead_hint(dead: int, ledger_url: str) -> None:
    """After a summary: where to look at dead jobs (the ledger named unless it holds a
    password)."""
    if dead:
        ledger = f" --ledger {ledger_url}" if "@" not in ledger_url else ""
        print(f"{dead} job(s) dead: see `media-bridge jobs{ledger} list`")


class ReplayProgress:
    """``replay``'s (and ``backfill``'s) progress: a line redrawn on a terminal (stderr),
    else a log line every ``log_every_s``; says so while only jobs due later (call
    recordings wait ``voice.recording_delay_s`` after the call) are left."""

    def __init__(
        self,
        bridge: Any,
        recording_delay_s: float,
        log_every_s: float = 10.0,
        *,
        command: str = "replay",
        events: bool = True,
    ) -> None:
        import sys
        import time

        self._command = command
        #: the events read are part of the line (``backfill`` reads none)
        self._events = events
        self._bridge = bridge
        self._delay = recording_delay_s
        self._tty = sys.stderr.isatty()
        self._every = log_every_s
        self._clock = time.monotonic
        self._last_log = self._clock()
        self._drawn = False

    def line(self, counts: dict[Any, int], intake: Any) -> str:
        from media_bridge.types import JobState

        states = " / ".join(f"{s.value} {counts.get(s, 0)}" for s in JobState)
        read = f"{intake.events} events read; " if self._events else ""
        text = f"{self._command}: {read}jobs {states}"
        waiting = counts.get(JobState.PENDING, 0) + counts.get(JobState.RETRY, 0)
        worker = self._bridge.worker
        if waiting and worker is not None and not worker.in_flight:
            text += (
                f"; waiting for {waiting} job(s) due later (call recordings are read "
                f"voice.recording_delay_s={self._delay:g} s after the call ends)"
            )
        return text

    def __call__(self, counts: dict[Any, int], intake: Any) -> None:
        import sys

        text = self.line(counts, intake)
        if self._tty:
            sys.stderr.write("\r\x1b[2K" + text[:200])
            sys.stderr.flush()
            self._drawn = True
        elif self._clock() - self._last_log >= self._every:
            from media_bridge.observability import get_logger

            self._last_log = self._clock()
            get_logger(__name__).info(f"{self._command}.progress", progress=text)

    def finish(self) -> None:
        import sys

        if self._drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()


def delivered_by_kind() -> dict[str, int]:
    from media_bridge import metrics

    found: dict[str, int] = {}
    for metric in metrics.DELIVERED.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                kind = sample.labels.get("kind", "")
                found[kind] = found.get(kind, 0) + int(sample.value)
    return found


def summary_rows(
    counts: dict[Any, int], bridge: Any, *, events: bool = True
) -> list[tuple[str, str]]:
    """The replay summary's rows: events (unless ``events`` is false: ``backfill`` reads
    none), jobs by state, deliveries by kind, API requests, retries, then the clips'
    verdicts and diversions."""
    from media_bridge.cli.demo import _api_line, _client_retries, _job_retries
    from media_bridge.types import JobState

    intake = bridge.intake_result
    delivered = delivered_by_kind()
    rows = (
        [
            ("events read", str(intake.events + len(intake.rejected))),
            (
                "events rejected / unknown topic",
                f"{len(intake.rejected)} / {intake.unknown_topics}",
            ),
        ]
        if events
        else []
    )
    rows += [
        (
            "jobs " + " / ".join(s.value for s in JobState),
            " / ".join(str(counts.get(s, 0)) for s in JobState),
        ),
        ("jobs done / dead", f"{counts.get(JobState.DONE, 0)} / {counts.get(JobState.DEAD, 0)}"),
        (
            "deliveries by kind",
            " / ".join(f"{k} {n}" for k, n in sorted(delivered.items())) or "none",
        ),
    ]
    if bridge.genesys is not None:
        rows += [
            ("API requests (answered 5xx / 429)", _api_line(bridge)),
            ("in-call retries / job retries", f"{_client_retries(bridge)} / {_job_retries():.0f}"),
            budget_row(bridge.genesys.stats.requests),
            *priority_rows(bridge.genesys.gate),
        ]
    return rows + verdict_rows()


def print_summary(
    counts: dict[Any, int], bridge: Any, first: Sequence[tuple[str, str]] = (), events: bool = True
) -> None:
    """The replay summary on stdout (``first``: rows of the command's own before it)."""
    rows = [*first, *summary_rows(counts, bridge, events=events)]
    width = max(len(name) for name, _ in rows)
    print("summary")
    for name, value in rows:
        print(f"  {name.ljust(width)}  {value}")


def _dead() -> Any:
    from media_bridge.types import JobState

    return JobState.DEAD


def main(args: argparse.Namespace) -> int:
    return asyncio.run(run_bridge(args))
