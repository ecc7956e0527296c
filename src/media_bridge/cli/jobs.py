"""`media-bridge jobs list|show|retry|rejected`: what an operator needs to see and fix."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from media_bridge.cli.common import add_settings_arguments, settings_from_args

if TYPE_CHECKING:
    from media_bridge.ledger.base import Ledger


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("jobs", help="list, show and retry jobs in the ledger")
    add_settings_arguments(parser)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="jobs, earliest next attempt first (default: dead)")
    listing.add_argument(
        "--state", default="dead", help="pending|running|done|retry|dead|all (default dead)"
    )
    listing.add_argument("--limit", type=int, default=50)
    show = actions.add_parser("show", help="one job, whole")
    show.add_argument("key")
    retry = actions.add_parser("retry", help="run dead jobs again")
    retry.add_argument("keys", nargs="*", help="job keys; none with --all-dead")
    retry.add_argument("--all-dead", action="store_true")
    rejected = actions.add_parser("rejected", help="events that could not be parsed")
    rejected.add_argument("--limit", type=int, default=50)
    actions.add_parser("counts", help="jobs per state")
    parser.set_defaults(func=main)


def _job_dict(job: Any) -> dict[str, Any]:
    from media_bridge.jobs.priority import label

    return {
        "key": job.key,
        "kind": job.kind.value,
        "state": job.state.value,
        "priority": label(job.priority),
        "attempts": job.attempts,
        "next_attempt_at": job.next_attempt_at.isoformat(),
        "error_code": job.error_code,
        "last_error": job.last_error,
        "result": job.result,
        "payload": job.payload,
        "updated_at": job.updated_at.isoformat(),
    }


async def _counts(ledger: Ledger, args: argparse.Namespace) -> int:
    from media_bridge.types import JobState

    counts = await ledger.counts()
    print(json.dumps({s.value: counts.get(s, 0) for s in JobState}))
    return 0


async def _list(ledger: Ledger, args: argparse.Namespace) -> int:
    from media_bridge.types import JobState

    state = None if args.state == "all" else JobState(args.state)
    listed = await ledger.list_jobs(state, limit=args.limit)
    for job in listed:
        error = f"  {job.error_code}: {job.last_error}" if job.last_error else ""
        print(f"{job.state.value:8} {job.attempts:3}  {job.key}{error}")
    if not listed:
        print(f"no {args.state} jobs" if state is not None else "no jobs")
    return 0


async def _show(ledger: Ledger, args: argparse.Namespace) -> int:
    from media_bridge.redact import redact_value

    found = await ledger.get(args.key)
    if found is None:
        print(f"no job {args.key!r}")
        return 1
    # payloads and errors of earlier releases may hold signed URLs: never print one
    print(json.dumps(redact_value("job", _job_dict(found)), indent=2, default=str))
    return 0


async def _retry_one(ledger: Ledger, key: str) -> bool:
    """Retry ``key``; if it cannot be, say why on stderr."""
    if await ledger.retry(key):
        return True
    found = await ledger.get(key)
    if found is None:
        print(f"warning: no job {key!r} in the ledger", file=sys.stderr)
    else:
        print(
            f"warning: job {key!r} is {found.state.value}, not dead or retry: left as it is",
            file=sys.stderr,
        )
    return False


async def _retry(ledger: Ledger, args: argparse.Namespace) -> int:
    from media_bridge.types import JobState

    keys = list(args.keys)
    if args.all_dead:
        keys += [j.key for j in await ledger.list_jobs(JobState.DEAD, limit=100_000)]
    done = 0
    for key in keys:
        done += await _retry_one(ledger, key)
    print(
        f"{done} job(s) set to run again"
        + ("; a running worker (media-bridge run) picks them up" if done else "")
    )
    if not keys:
        print("no keys given (and no dead jobs with --all-dead)", file=sys.stderr)
    return 0


async def _rejected(ledger: Ledger, args: argparse.Namespace) -> int:
    from media_bridge.redact import redact_value

    for row in await ledger.list_rejected(limit=args.limit):
        print(json.dumps(redact_value("rejected", row), default=str))
    return 0


Action = Callable[["Ledger", argparse.Namespace], Awaitable[int]]
ACTIONS: dict[str, Action] = {
    "counts": _counts,
    "list": _list,
    "show": _show,
    "retry": _retry,
    "rejected": _rejected,
}


async def _run(args: argparse.Namespace) -> int:
    from media_bridge.config import secret_value
    from media_bridge.ledger.sealed import ledger_for

    settings = settings_from_args(args)
    ledger = ledger_for(settings.ledger.url, secret_value(settings.ledger.payload_key))
    await ledger.open()
    try:
        return await ACTIONS[args.action](ledger, args)
    finally:
        await ledger.close()


STATES = ("pending", "running", "done", "retry", "dead", "all")


def main(args: argparse.Namespace) -> int:
    from media_bridge.config import suggest
    from media_bridge.errors import ConfigError

    if args.action == "list" and args.state not in STATES:
        best = suggest(args.state, list(STATES))
        hint = f"did you mean {best}? " if best else ""
        raise ConfigError(f"jobs list --state {args.state!r}: {hint}use one of {', '.join(STATES)}")
    return asyncio.run(_run(args))
