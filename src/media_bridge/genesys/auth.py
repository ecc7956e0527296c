"""OAuth client-credentials token manager: cached, refreshed early, single flight.

One token per process. Every caller asks ``get_token()``; while the cached token is
fresh it is returned without I/O. When it is due (``refresh margin`` before expiry,
clamped to half the lifetime for short-lived tokens) or was invalidated, exactly one
``POST {login}/oauth/token`` runs and every waiter shares its result. ``invalidate(t)``
after a 401 only drops the token if it is still the cached one, so fifty requests that
got 401 with the same token cause one refresh, not fifty.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from media_bridge.errors import (
    BridgeError,
    MalformedToken,
    RateLimited,
    TokenUnreachable,
    Transient,
)
from media_bridge.errors import CredentialsRejected as CredentialsRejected
from media_bridge.genesys.settings import GenesysSettings
from media_bridge.observability import get_logger
from media_bridge.retry import full_jitter_backoff, parse_retry_after

log = get_logger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Token:
    value: str
    #: monotonic instants
    refresh_at: float
    expires_at: float


class TokenManager:
    """Tokens for one OAuth client, timed and retried as ``settings`` say."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token_url: str,
        settings: GenesysSettings,
        *,
        max_attempts: int = 4,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._session = session
        self._token_url = token_url
        secret = settings.client_secret.get_secret_value()
        raw = f"{settings.client_id}:{secret}".encode()
        self._basic = "Basic " + base64.b64encode(raw).decode("ascii")
        self._margin = settings.token_refresh_margin_s
        self._credentials_retry_s = settings.credentials_retry_s
        self._timeout = aiohttp.ClientTimeout(total=settings.request_timeout_s)
        self._max_attempts = max_attempts
        self._backoff = (settings.backoff_base_s, settings.backoff_max_s)
        self._clock = clock
        self._sleep = sleep
        self._token: Token | None = None
        self._refresh: asyncio.Task[Token] | None = None
        self._rejected: tuple[float, CredentialsRejected] | None = None
        #: tokens obtained from the login host (a metric)
        self.refreshes = 0
        #: failed token requests by error code (a metric: a rejected secret shows here)
        self.failures: dict[str, int] = {}

    def _fresh(self) -> Token | None:
        token = self._token
        if token is not None and self._clock() < token.refresh_at:
            return token
        return None

    async def get_token(self) -> str:
        token = self._fresh()
        if token is not None:
            return token.value
        if self._rejected is not None:
            until, error = self._rejected
            if self._clock() < until:
                raise error
            self._rejected = None
        task = self._refresh
        if task is None or task.done():
            task = asyncio.get_running_loop().create_task(self._obtain())
            # if every waiter was cancelled, nobody reads a failure: read it here
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            self._refresh = task
        # shield: a cancelled waiter must not cancel the refresh the others wait for
        return (await asyncio.shield(task)).value

    def invalidate(self, token: str) -> None:
        """An API answered 401 to ``token``: drop it unless a newer one replaced it."""
        if self._token is not None and self._token.value == token:
            self._token = None

    async def _obtain(self) -> Token:
        attempt = 0
        while True:
            started = self._clock()
            try:
                token = await self._request(started)
            except CredentialsRejected as error:
                self._failed(error)
                self._rejected = (self._clock() + self._credentials_retry_s, error)
                raise
            except (RateLimited, Transient) as error:
                self._failed(error)
                attempt += 1
                if attempt >= self._max_attempts:
                    raise
                delay = full_jitter_backoff(attempt, base=self._backoff[0], cap=self._backoff[1])
                if isinstance(error, RateLimited):
                    delay = max(delay, error.retry_after)
                log.warning("genesys.token_retry", attempt=attempt, error=str(error), delay=delay)
                await self._sleep(delay)
                continue
            self._token = token
            self.refreshes += 1
            log.info("genesys.token_obtained", lifetime_s=round(token.expires_at - started, 1))
            return token

    def _failed(self, error: BridgeError) -> None:
        self.failures[error.code] = self.failures.get(error.code, 0) + 1

    async def _request(self, started: float) -> Token:
        try:
            async with self._session.post(
                self._token_url,
                data={"grant_type": "client_credentials"},
                headers={"Authorization": self._basic, "Accept": "application/json"},
                timeout=self._timeout,
                allow_redirects=False,
            ) as resp:
                body = await resp.read()
                status = resp.status
                retry_after = parse_retry_after(resp.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TokenUnreachable(f"token request failed: {type(exc).__name__}: {exc}") from exc
        if status == 200:
            return self._parse(body, started)
        detail = f"HTTP {status} {_oauth_error(body)}".strip()
        if status in {400, 401, 403}:
            raise CredentialsRejected(detail)
        if status == 429:
            raise RateLimited(retry_after if retry_after is not None else 1.0, "token endpoint")
        raise TokenUnreachable(f"token request answered {detail}")

    def _parse(self, body: bytes, started: float) -> Token:
        try:
            data = json.loads(body)
            value = str(data["access_token"])
            lifetime = float(data.get("expires_in", 86399))
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedToken(
                "token endpoint answered 200 without a usable access_token"
            ) from exc
        if not value or lifetime <= 0:
            raise MalformedToken("token endpoint answered an empty or expired token")
        margin = min(self._margin, lifetime / 2)
        return Token(
            value=value, refresh_at=started + lifetime - margin, expires_at=started + lifetime
        )


def _oauth_error(body: bytes) -> str:
    """The ``error`` / ``error_description`` of an OAuth error answer, never the body."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ""
    if not isinstance(data, dict):
        return ""
    parts = [str(data.get(k)) for k in ("error", "error_description", "code") if data.get(k)]
    return ": ".join(parts)[:200]
