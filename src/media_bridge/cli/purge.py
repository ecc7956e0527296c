"""`media-bridge purge`: apply the ledger's retention now (for cron; long-running processes
also sweep every ``ledger.sweep_interval_s``)."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from typing import Any

from media_bridge.cli.common import add_settings_arguments, settings_from_args

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_s(text: str) -> float:
    """``30d``, ``12h``, ``90m``, ``3600s`` or plain seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 30d, 12h or 90m")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "purge", help="tombstone and delete old ledger rows (ledger.*_retention settings)"
    )
    parser.add_argument(
        "--older-than",
        type=duration_s,
        metavar="DURATION",
        help="delete done jobs older than this (default: ledger.done_retention_s, 30d); "
        "backfilling a window older than this may deliver its items again",
    )
    parser.add_argument("--dry-run", action="store_true", help="count, change nothing")
    add_settings_arguments(parser)
    parser.set_defaults(func=main)


async def _run(args: argparse.Namespace) -> int:
    from media_bridge.config import secret_value
    from media_bridge.ledger.retention import purge, purge_kept_clips
    from media_bridge.ledger.sealed import ledger_for

    settings = settings_from_args(args)
    ledger = ledger_for(settings.ledger.url, secret_value(settings.ledger.payload_key))
    await ledger.open()
    try:
        counts = await purge(
            ledger, settings.ledger, older_than_s=args.older_than, dry_run=args.dry_run
        )
    finally:
        await ledger.close()
    kept = purge_kept_clips(settings, dry_run=args.dry_run)
    print(json.dumps({"dry_run": args.dry_run, **counts.to_dict(), "kept_clip_files": kept}))
    return 0


def main(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
