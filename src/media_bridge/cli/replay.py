"""`media-bridge replay FILE`: push a JSON-lines file of events through the bridge, print a
summary (jobs, clips delivered by quality verdict, clips diverted), then exit."""

from __future__ import annotations

import argparse
from typing import Any

from media_bridge.cli.common import add_settings_arguments


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="replay a JSON-lines file (or - for stdin) of EventBridge events, then exit",
    )
    parser.add_argument("file", help="JSON-lines file of EventBridge events, or - for stdin")
    parser.add_argument("--worker-id")
    add_settings_arguments(parser)
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from media_bridge.cli.run import main as run_main

    args.source = [f"file:{args.file}" if args.file != "-" else "-"]
    args.until_idle = True
    args.summary = True  # printed on stdout once the events are bridged
    return run_main(args)
