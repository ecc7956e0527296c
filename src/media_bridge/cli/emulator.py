"""`media-bridge emulator`: the Genesys Cloud emulator's own command, when it is installed.

The emulator is a separate distribution (``genesys-cloud-emulator``, import package
``genesys_emulator``; its command is ``genesys-emulator``). Only this command and
``media-bridge demo`` import it, and only when they run: without it they print one line
naming what to install and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

EMULATOR_PACKAGE = "genesys_emulator"
#: exit status of a command whose optional part is not installed
NOT_INSTALLED = 2


def missing_line(command: str) -> str:
    return (
        f"media-bridge {command} needs the Genesys Cloud emulator: "
        "pip install genesys-cloud-emulator (or genesys-media-bridge[emulator])"
    )


def import_emulator(command: str, module: str = EMULATOR_PACKAGE) -> ModuleType | None:
    """``module`` of the emulator, or None (the one line printed) when it is not installed."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != EMULATOR_PACKAGE:
            raise  # the emulator is there but something it needs is not: a real error
        print(missing_line(command), file=sys.stderr)
        return None


def add_parser(subparsers: Any) -> None:
    # listed by `media-bridge --help`; the emulator's own parser reads the arguments (and
    # answers --help): media_bridge.cli hands them to forward()
    parser = subparsers.add_parser(
        "emulator",
        help="run a local Genesys Cloud emulator (login, API, downloads, storage hosts); "
        "the same as genesys-emulator",
        add_help=False,
    )
    parser.add_argument("arguments", nargs=argparse.REMAINDER)
    parser.set_defaults(func=run)


def forward(argv: Sequence[str]) -> int:
    """`media-bridge emulator ARGS...` = `genesys-emulator ARGS...`."""
    cli = import_emulator("emulator", f"{EMULATOR_PACKAGE}.cli")
    if cli is None:
        return NOT_INSTALLED
    return int(cli.main(list(argv), prog="media-bridge emulator"))


def run(args: argparse.Namespace) -> int:
    return forward(args.arguments)
