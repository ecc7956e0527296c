"""What ``media-bridge run`` puts on its operations port: the readiness checks of its role
and the gauges read from the ledger at scrape time.

Roles: with the ``http`` source the process is an **intake** (it also runs the worker):
ready while the ledger takes writes, whatever Genesys does, because EventBridge must
keep delivering and the ledger owns the retries; its token is shown but does not
decide. With any other source it is a **worker**: ready once a token was obtained and
while the ledger answers.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Literal

from media_bridge import metrics
from media_bridge.genesys import GenesysClient
from media_bridge.ledger.base import Ledger
from media_bridge.operations.port import Check, NotReady, Readiness, ScrapeHook
from media_bridge.redact import redact_text

Role = Literal["intake", "worker"]


def _reason(exc: BaseException) -> str:
    return redact_text(f"{type(exc).__name__}: {exc}")[:300]


def ledger_check(ledger: Ledger) -> Check:
    """The ledger takes a write (a statement touching no row)."""

    async def check() -> None:
        try:
            await ledger.check_writable()
        except Exception as exc:
            raise NotReady(f"ledger refuses writes: {_reason(exc)}") from exc

    return check


def token_check(genesys: GenesysClient) -> Check:
    """A token was obtained (the cached one costs no request; a rejected secret is not
    asked again before ``genesys.credentials_retry_s``)."""

    async def check() -> None:
        settings = genesys.settings
        if not settings.client_id or not settings.client_secret.get_secret_value():
            raise NotReady(
                "no token obtained: genesys.client_id and genesys.client_secret are not set"
            )
        try:
            await genesys.tokens.get_token()
        except Exception as exc:
            raise NotReady(f"no token obtained: {_reason(exc)}") from exc

    return check


def role_of(source_specs: list[str]) -> Role:
    return "intake" if "http" in source_specs else "worker"


def bridge_readiness(
    role: Role, ledger: Ledger, genesys: GenesysClient, timeout_s: float
) -> Readiness:
    ledger_ok, token_ok = ledger_check(ledger), token_check(genesys)
    if role == "intake":
        return Readiness(
            "intake", {"ledger": ledger_ok}, advisory={"token": token_ok}, timeout_s=timeout_s
        )
    return Readiness("worker", {"ledger": ledger_ok, "token": token_ok}, timeout_s=timeout_s)


def ledger_gauges(ledger: Ledger, timeout_s: float) -> ScrapeHook:
    """Refresh jobs by state, the oldest due job's age and dead jobs by error code; a
    ledger that does not answer sets ``media_bridge_ledger_up`` to 0 (and is logged)."""

    async def refresh() -> None:
        try:
            async with asyncio.timeout(timeout_s):
                found = await ledger.gauges(datetime.now(UTC))
        except BaseException:
            metrics.LEDGER_UP.set(0)
            raise
        metrics.LEDGER_UP.set(1)
        for state, count in found.by_state.items():
            metrics.JOBS.labels(state=state.value).set(count)
        metrics.OLDEST_DUE.set(found.oldest_due_age_s)
        metrics.DEAD_JOBS.clear()  # a code whose jobs were retried must not linger
        for code, count in found.dead_by_code.items():
            metrics.DEAD_JOBS.labels(code=code).set(count)

    return refresh
