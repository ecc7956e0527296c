"""Client-wide pacing: a 429 slows every request, not just the one that got it.

``PacingGate`` holds one "not before" instant shared by all requests of a client: a
429 with ``Retry-After: 3`` moves it 3 s ahead and every caller waits for it before
sending. An optional token bucket keeps the client under Genesys' documented budget
(300 requests per minute per client-credentials token) before the server has to say so.

Hand-written: the shared 429 pause is the point, and an asyncio rate limiter such as
``aiolimiter`` (not a dependency) has a bucket but no such pause; the bucket here is a
few lines on the same injectable clock, so tests run it without sleeping.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class PacingGate:
    def __init__(
        self,
        *,
        per_minute: float | None = None,
        burst: int = 10,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._not_before = 0.0
        self._rate = per_minute / 60.0 if per_minute else None
        self._capacity = float(max(1, burst))
        self._tokens = self._capacity
        self._refilled_at = clock()
        self.pauses = 0  # how many times a 429 moved the gate
        self.paced = 0  # how many requests waited for the budget
        self.waited_s = 0.0  # how long they waited, in all

    @property
    def per_minute(self) -> float | None:
        return self._rate * 60.0 if self._rate is not None else None

    def set_rate(self, per_minute: float | None) -> None:
        """A new budget (the org's own limit, read at start)."""
        self._rate = per_minute / 60.0 if per_minute else None

    @property
    def paused_for(self) -> float:
        """Seconds until the gate opens (0 when open)."""
        return max(0.0, self._not_before - self._clock())

    def pause(self, seconds: float) -> None:
        """Hold every request for ``seconds`` from now (never shortens a longer pause)."""
        until = self._clock() + max(0.0, seconds)
        if until > self._not_before:
            self._not_before = until
            self.pauses += 1

    async def wait(self) -> None:
        """Wait for the shared pause, then for a bucket token when a rate is set."""
        while True:
            delay = self._not_before - self._clock()
            if delay > 0:
                await self._sleep(delay)
                continue
            if self._rate is None:
                return
            now = self._clock()
            self._tokens = min(
                self._capacity, self._tokens + (now - self._refilled_at) * self._rate
            )
            self._refilled_at = now
            # reserve a token now (the balance may go negative: later callers queue
            # behind earlier ones), then wait until it has been earned
            self._tokens -= 1.0
            if self._tokens < 0:
                wait = -self._tokens / self._rate
                self.paced += 1
                self.waited_s += wait
                await self._sleep(wait)
            return
