"""The `media-bridge` command line.

Each sub-command lives in its own module that exposes ``add_parser(subparsers)``;
the module sets ``func`` (``args -> exit code``) on its parser. Command modules
import heavy dependencies inside ``func`` so that ``--help`` stays fast. A ``StartupError``
from a command is printed as one line, ``media-bridge: <message>``; a ``ConfigError`` (a
setting, URL or flag the user got wrong) exits 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from media_bridge import __version__

# Sub-command modules, in the order `--help` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "media_bridge.cli.run",
    "media_bridge.cli.replay",
    "media_bridge.cli.demo",
    "media_bridge.cli.jobs",
    "media_bridge.cli.doctor",
    "media_bridge.cli.backfill",
    "media_bridge.cli.purge",
    "media_bridge.cli.forget",
    "media_bridge.cli.emulator",
    "media_bridge.audiohook.cli",
    "media_bridge.audiohook.client_cli",
)
#: commands whose arguments (and --help) another program's parser reads: name -> module
#: with ``forward(argv) -> exit code``; still listed by `--help` through their add_parser
FORWARDED_COMMANDS: dict[str, str] = {"emulator": "media_bridge.cli.emulator"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="media-bridge",
        description="Fetch Genesys Cloud conversation media (voice notes, recordings, "
        "transcripts) and deliver it to biometrics and NLP engines.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and module_name.startswith(exc.name):
                continue
            raise
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] in FORWARDED_COMMANDS:
        forward = importlib.import_module(FORWARDED_COMMANDS[arguments[0]]).forward
        return int(forward(arguments[1:]))
    parser = build_parser()
    args = parser.parse_args(arguments)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    from media_bridge.errors import StartupError

    try:
        result = func(args)
    except BrokenPipeError:
        # the reader went away (`media-bridge jobs list | head`): not an error to report;
        # stdout is pointed at /dev/null so that the interpreter's final flush is quiet
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except StartupError as exc:
        # a user's mistake or an unreachable dependency: one line, no traceback
        # (tracebacks are for bugs)
        message = " ".join(str(exc).split())
        print(f"media-bridge: {message}", file=sys.stderr)
        return exc.exit_code
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
