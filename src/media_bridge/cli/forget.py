"""`media-bridge forget`: erase a person (speaker key or external contact) or a conversation
from the ledger, the dir/S3 sinks and the NLP file, and send an erasure record downstream.

Stop running bridges first when the NLP sink is a JSON-lines file (it is rewritten).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from media_bridge.cli.common import add_settings_arguments, settings_from_args


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "forget", help="erase one person's or one conversation's data (and tell downstream)"
    )
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--speaker", metavar="KEY", help="a speaker key, e.g. tel:+447700900123")
    who.add_argument("--conversation", metavar="ID", help="a conversation id")
    who.add_argument("--external-contact", metavar="ID", help="a Genesys external contact id")
    parser.add_argument("--dry-run", action="store_true", help="say what would go, change nothing")
    add_settings_arguments(parser)
    parser.set_defaults(func=main)


async def _run(args: argparse.Namespace) -> int:
    from media_bridge.erasure import Subject, forget
    from media_bridge.identity import SpeakerDescriber

    settings = settings_from_args(args)
    subject = Subject.of(
        SpeakerDescriber(settings.identity),
        speaker=args.speaker,
        conversation=args.conversation,
        external_contact=args.external_contact,
    )
    report = await forget(settings, subject, dry_run=args.dry_run)
    print(
        json.dumps(
            {
                "dry_run": report.dry_run,
                "request": subject.request,
                "removed": report.removed,
                "erasure_record_sent_to": report.records_sent,
                "notes": report.notes,
            },
            indent=2,
        )
    )
    return 0


def main(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
