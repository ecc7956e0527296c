"""One authenticated Platform API call, with the retry policy every call shares.

allow-list check -> pacing gate -> bearer token -> send (no redirects followed)
  2xx                  parsed JSON (a body that is not JSON: retried -> MalformedAnswer)
  401                  invalidate that token, refresh once (single flight), retry once
                       (a second 401 -> TokenRefused)
  403/404 + missing.*  PermissionMissing naming the permission(s)
  403/404/410          NotFound
  429                  pause the whole client for Retry-After, retry (bounded) -> RateLimited
  5xx/408, dropped connection, timeout, truncated body
                       exponential backoff with full jitter (bounded) -> Transient
  other 4xx            BadInput
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from media_bridge.errors import (
    BridgeError,
    MalformedAnswer,
    RateLimited,
    TokenRefused,
    Transient,
)
from media_bridge.genesys import budget
from media_bridge.genesys.auth import TokenManager
from media_bridge.genesys.error_body import error_for_status, parse_error_body
from media_bridge.genesys.pacing import PacingGate
from media_bridge.genesys.regions import GenesysHosts, HostNotAllowed
from media_bridge.genesys.settings import GenesysSettings
from media_bridge.observability import get_logger
from media_bridge.redact import redact_url
from media_bridge.retry import full_jitter_backoff, parse_retry_after

log = get_logger(__name__)

Sleep = Callable[[float], Awaitable[None]]
NETWORK_ERRORS = (aiohttp.ClientError, TimeoutError)


@dataclass(frozen=True, slots=True)
class ApiResponse:
    status: int
    #: parsed JSON (dict/list), or None for an empty body
    body: Any
    headers: Mapping[str, str]


@dataclass(slots=True)
class ClientStats:
    """Counters for metrics; plain ints, read by whoever exports them."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    unauthorized: int = 0
    transient_errors: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    #: requests sent by endpoint family (``budget.family``)
    by_family: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class _Call:
    """The retry state of one ``request``."""

    what: str
    attempt: int = 0
    refreshed: bool = False


class ApiTransport:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        hosts: GenesysHosts,
        tokens: TokenManager,
        gate: PacingGate,
        settings: GenesysSettings,
        *,
        stats: ClientStats | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.session = session
        self.hosts = hosts
        self.tokens = tokens
        self.gate = gate
        self.stats = stats or ClientStats()
        self._settings = settings
        self._timeout = aiohttp.ClientTimeout(total=settings.request_timeout_s)
        self._sleep = sleep

    def check_token_allowed(self, url: str) -> None:
        if not self.hosts.allows_token(url):
            raise HostNotAllowed(
                f"refusing to send the Genesys token to {redact_url(url)}: not one of the "
                "region's API hosts (resolve the resource through the API instead)"
            )

    async def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        ok: Collection[int] = (200, 201, 202, 204),
        what: str | None = None,
    ) -> ApiResponse:
        """Send one API call under the shared policy; returns on a status in ``ok``."""
        url = self.hosts.api_url(path_or_url)
        self.check_token_allowed(url)
        path = urlsplit(url).path
        call = _Call(what or f"{method} {path}")
        settings = self._settings
        while True:
            await self.gate.wait()
            token = await self.tokens.get_token()
            self.stats.requests += 1
            name = budget.spend(path)
            self.stats.by_family[name] = self.stats.by_family.get(name, 0) + 1
            error: BridgeError
            delay = full_jitter_backoff(
                call.attempt, base=settings.backoff_base_s, cap=settings.backoff_max_s
            )
            try:
                status, raw, headers = await self._send(method, url, token, params, json_body)
            except NETWORK_ERRORS as exc:
                error = Transient(
                    f"{call.what}: {type(exc).__name__}: {redact_url(str(exc))[:200]}"
                )
            else:
                outcome = self._judge(call, token, ok, delay, status, raw, headers)
                if isinstance(outcome, ApiResponse):
                    return outcome
                if outcome is None:
                    continue  # a refreshed token, or the gate holds the retry back
                error, delay = outcome
            await self._back_off(call, error, delay)

    def _judge(
        self,
        call: _Call,
        token: str,
        ok: Collection[int],
        delay: float,
        status: int,
        raw: bytes,
        headers: Mapping[str, str],
    ) -> ApiResponse | tuple[BridgeError, float] | None:
        """One answer: the response, None to send again at once (after a token refresh or
        a 429), or a retryable error with its backoff; raises what is not retried."""
        self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
        if status in ok:
            try:
                body = json.loads(raw) if raw.strip() else None
            except (ValueError, UnicodeDecodeError):
                return MalformedAnswer(
                    f"{call.what}: HTTP {status} with a body that is not JSON"
                ), delay
            return ApiResponse(status=status, body=body, headers=headers)
        if status == 401:
            self._refresh(call, token)
            return None
        if status == 429:
            self._rate_limited(call, headers, delay)
            return None
        info = parse_error_body(status, raw, headers.get("ININ-Correlation-Id", ""))
        error = error_for_status(info, call.what)
        if not isinstance(error, Transient):
            raise error
        retry_after = parse_retry_after(headers.get("Retry-After"))
        if retry_after is not None:
            delay = max(delay, min(retry_after, self._settings.backoff_max_s))
        return error, delay

    def _refresh(self, call: _Call, token: str) -> None:
        """A 401: invalidate that token for a refresh (single flight), once per call."""
        self.stats.unauthorized += 1
        if call.refreshed:
            raise TokenRefused(f"{call.what}: HTTP 401 again right after a token refresh")
        call.refreshed = True
        self.tokens.invalidate(token)
        log.info("genesys.unauthorized_refreshing", call=call.what)

    def _rate_limited(self, call: _Call, headers: Mapping[str, str], delay: float) -> None:
        """A 429: pause the whole client for Retry-After (else the backoff, at least 1 s);
        raises ``RateLimited`` past ``max_retry_after_s`` or the last attempt."""
        settings = self._settings
        self.stats.rate_limited += 1
        retry_after = parse_retry_after(headers.get("Retry-After"))
        wait = retry_after if retry_after is not None else max(delay, 1.0)
        self.gate.pause(wait)
        if wait > settings.max_retry_after_s or call.attempt + 1 >= settings.max_attempts:
            raise RateLimited(wait, f"{call.what}: HTTP 429")
        call.attempt += 1
        self.stats.retries += 1
        log.warning("genesys.rate_limited", call=call.what, retry_after=wait)

    async def _back_off(self, call: _Call, error: BridgeError, delay: float) -> None:
        """A retryable failure: sleep ``delay`` before the next attempt, or raise ``error``
        on the last one."""
        self.stats.transient_errors += 1
        call.attempt += 1
        if call.attempt >= self._settings.max_attempts:
            raise error
        self.stats.retries += 1
        log.warning(
            "genesys.retry", call=call.what, attempt=call.attempt, error=str(error), delay=delay
        )
        await self._sleep(delay)

    async def _send(
        self,
        method: str,
        url: str,
        token: str,
        params: Mapping[str, str] | None,
        json_body: Any,
    ) -> tuple[int, bytes, Mapping[str, str]]:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        async with self.session.request(
            method,
            url,
            params=params,
            json=json_body,
            headers=headers,
            timeout=self._timeout,
            allow_redirects=False,
        ) as resp:
            raw = await resp.read()
            return resp.status, raw, resp.headers
