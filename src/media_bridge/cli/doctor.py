"""`media-bridge doctor`: check everything a run needs: region, credentials and every
permission the bridge needs, then the ledger, the sinks and the intake's auth settings
(``--ledger`` and ``--out`` choose the ledger and dir sink checked).

Permissions are probed with harmless reads of ids that do not exist: the API checks
permissions first, so 403 ``missing.permissions`` names what the role lacks, while
404 means the permission is there. Nothing is written to Genesys; the sink checks are in
``doctor_checks`` (a probe object written and removed, a connect, a metadata request).
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from media_bridge.cli.common import add_settings_arguments, genesys_settings_from_args


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check region, OAuth credentials, each needed permission, the ledger and sinks",
    )
    add_settings_arguments(parser)
    parser.set_defaults(func=main)


@dataclass(frozen=True, slots=True)
class Probe:
    need: str
    permissions: str
    call: Callable[[Any], Awaitable[Any]]
    #: a missing permission is a warning: only some ways of running need it
    optional: bool = False


def _probes(consent_mode: str = "off", queue_ids: bool = False) -> list[Probe]:
    missing = str(uuid.uuid4())
    message = uuid.uuid4().hex
    now = datetime.now(UTC)
    interval = f"{(now - timedelta(minutes=1)).isoformat()}/{now.isoformat()}"
    consent = []
    if consent_mode == "external_contact":
        consent.append(
            Probe(
                "consent (consent.mode=external_contact)",
                "externalContacts:contact:view",
                lambda c: c.get_external_contact(missing),
            )
        )
    queues = []
    if not queue_ids:
        queues.append(
            Probe(
                "run --source notifications (every queue: notifications.queue_ids is empty)",
                "routing:queue:view",
                lambda c: c.request_json(
                    "GET",
                    "/api/v2/routing/queues",
                    params={"pageSize": "1", "pageNumber": "1"},
                    what="list routing queues",
                ),
                optional=True,
            )
        )
    return [
        *consent,
        *queues,
        Probe(
            "voice notes and texts",
            "conversation:message:view or conversation:webmessaging:view",
            lambda c: c.get_message(missing, message),
        ),
        Probe(
            "call and messaging recordings",
            "recording:recording:view",
            lambda c: c.get_recordings(missing, max_wait_ms=0),
        ),
        Probe(
            "call transcripts",
            "recording:recording:view and speechAndTextAnalytics:data:view",
            lambda c: c.get_transcript_url(missing, str(uuid.uuid4())),
        ),
        Probe(
            "backfill",
            "analytics:conversationDetail:view",
            lambda c: c.analytics_conversation_details_query(
                {"interval": interval, "paging": {"pageSize": 1, "pageNumber": 1}}
            ),
        ),
    ]


async def _run(args: argparse.Namespace) -> int:
    from media_bridge.cli.doctor_checks import bridge_checks

    settings = genesys_settings_from_args(args)
    failures = await _genesys_checks(settings)
    for status, _, detail in await bridge_checks(settings):
        failures += status == "FAIL"
        print(f"{status:<4}  {detail}")
    return 1 if failures else 0


async def _genesys_checks(settings: Any) -> int:
    from media_bridge.errors import BridgeError, NotFound, PermissionMissing
    from media_bridge.genesys import GenesysClient
    from media_bridge.redact import redact_text

    failures = 0
    async with GenesysClient(settings.genesys) as client:
        hosts = client.hosts
        print(f"region: login {hosts.token_url}")
        allowed = [hosts.api, hosts.downloads] + ([hosts.apps] if hosts.apps else [])
        print(f"        token goes only to: {', '.join(allowed)}")
        try:
            await client.tokens.get_token()
            print("ok    OAuth client credentials: token issued")
        except BridgeError as exc:
            print(f"FAIL  OAuth client credentials: {redact_text(str(exc))}")
            used = ", ".join(
                settings.describe(f"genesys.{f}") for f in ("client_id", "client_secret", "region")
            )
            print(f"        settings used: {used}")
            return 1  # the permission probes need a token
        print(f"        consent.mode: {settings.consent.mode}")
        print(f"        API budget: {await _budget_line(client, settings.genesys)}")
        for probe in _probes(settings.consent.mode, bool(settings.notifications.queue_ids)):
            try:
                await probe.call(client)
                outcome = "ok  "
            except NotFound:
                outcome = "ok  "
            except PermissionMissing as exc:
                if probe.optional:
                    print(f"warn  {probe.need}: {exc}")
                    continue
                outcome = "FAIL"
                failures += 1
                print(f"FAIL  {probe.need}: {exc}")
                continue
            except BridgeError as exc:
                outcome = "??  "
                print(f"??    {probe.need}: could not check ({redact_text(str(exc))})")
                continue
            print(f"{outcome}  {probe.need}: {probe.permissions}")
    return failures


async def _budget_line(client: Any, genesys: Any) -> str:
    """The client-side pacing in force, and the org's own limit when it can be read."""
    from media_bridge.errors import BridgeError

    try:
        org = await client.get_api_limit_per_minute()
    except BridgeError:
        org = None
    seen = f"; the org's limit: {org:g} per minute per token" if org else ""
    rate = genesys.paced_per_minute
    if rate is None:
        return f"pacing off (only 429s slow the client){seen}"
    return (
        f"paced at {rate:g} requests per minute per process (each process has its own "
        f"token and budget), {genesys.live_reserve:.0%} of it kept for live work{seen}"
    )


def main(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
