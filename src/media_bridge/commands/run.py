"""`media-bridge run`: the long-running service (sources -> ledger -> workers -> sinks)."""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import Any

from media_bridge.commands.common import (
    add_settings_arguments,
    budget_row,
    settings_from_args,
    source_from_spec,
    verdict_rows,
)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the bridge: consume events, fetch media, deliver",
        description="Run the bridge. Sources: file:PATH, stdin, http (EventBridge API "
        "destination intake on MEDIA_BRIDGE_INTAKE__HOST/PORT), sqs:QUEUE_URL, kafka:TOPIC. "
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
    import uvicorn

    from media_bridge.observability import configure_logging
    from media_bridge.pipeline import Bridge
    from media_bridge.sources.http import build_intake_app

    settings = settings_from_args(args)
    configure_logging(settings.log_level, settings.log_json)
    specs = args.source or ["http"]
    if "http" in specs and not (settings.intake.has_auth or settings.intake.allow_anonymous):
        raise SystemExit(
            "the HTTP intake needs authentication, as an EventBridge connection sends it: "
            "set MEDIA_BRIDGE_INTAKE__API_KEY (header MEDIA_BRIDGE_INTAKE__API_KEY_HEADER, "
            "default x-api-key) or MEDIA_BRIDGE_INTAKE__BASIC_USER and __BASIC_PASSWORD "
            "(MEDIA_BRIDGE_INTAKE__ALLOW_ANONYMOUS=true for local experiments only)"
        )
    async with Bridge(settings, worker_id=args.worker_id) as bridge:
        assert bridge.intake is not None
        sources = [source_from_spec(s, settings) for s in specs if s != "http"]
        extra: list[Any] = []
        if "http" in specs:
            app = build_intake_app(bridge.intake, settings.intake)
            config = uvicorn.Config(
                app, host=settings.intake.host, port=settings.intake.port, log_level="warning"
            )
            extra.append(uvicorn.Server(config).serve())
        task = asyncio.ensure_future(
            bridge.run(sources, until_idle=args.until_idle and not extra, extra_tasks=extra)
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        try:
            counts = await task
        except asyncio.CancelledError:
            return 0
        dead = counts.get(_dead(), 0)
        if getattr(args, "summary", False):
            genesys = bridge.context.genesys if bridge.context is not None else None
            print_summary(counts, genesys.stats.requests if genesys is not None else None)
        return 1 if dead else 0


def print_summary(counts: dict[Any, int], requests: int | None = None) -> None:
    """The replay summary on stdout: jobs, the clips' verdicts and diversions, and the
    Platform API requests per delivered item (when the client's count is given)."""
    from media_bridge.types import JobState

    rows = [
        ("jobs done / dead", f"{counts.get(JobState.DONE, 0)} / {counts.get(JobState.DEAD, 0)}"),
        *verdict_rows(),
    ]
    if requests is not None:
        rows.append(budget_row(requests))
    width = max(len(name) for name, _ in rows)
    print("summary")
    for name, value in rows:
        print(f"  {name.ljust(width)}  {value}")


def _dead() -> Any:
    from media_bridge.types import JobState

    return JobState.DEAD


def main(args: argparse.Namespace) -> int:
    return asyncio.run(run_bridge(args))
