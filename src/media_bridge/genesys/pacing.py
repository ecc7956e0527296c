"""Client-wide pacing: a 429 slows every request, not just the one that got it.

``PacingGate`` holds one "not before" instant shared by all requests of a client: a
429 with ``Retry-After: 3`` moves it 3 s ahead and every caller waits for it before
sending. An optional token bucket keeps the client under Genesys' documented budget
(300 requests per minute per client-credentials token) before the server has to say so;
under it, live requests go first and a share of the budget is kept for them
(``media_bridge.jobs.priority``).

Hand-written: the shared 429 pause and the priority classes are the point, and an asyncio
rate limiter such as ``aiolimiter`` (not a dependency) has a bucket but neither; the
buckets here are a few lines on the same injectable clock, so tests run them without
sleeping.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable

from media_bridge.jobs.priority import Priority, current

Clock = Callable[[], float]
LIVE = int(Priority.LIVE)
Sleep = Callable[[float], Awaitable[None]]


class PacingGate:
    """The client's shared pause and token bucket, with live requests first.

    Each request waits with the ``priority`` class of the job making it (``priority.
    current()``, 0 = live). While requests wait for the bucket, the lowest class goes
    first (then the first come). Requests of any other class also draw on a second bucket
    at ``1 - live_reserve`` of the rate: they never use more than that share of the budget,
    so a live request arriving finds the reserve free instead of queueing behind them.
    """

    def __init__(
        self,
        *,
        per_minute: float | None = None,
        burst: int = 10,
        live_reserve: float = 0.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not 0.0 <= live_reserve < 1.0:
            raise ValueError(f"live_reserve must be in [0, 1), not {live_reserve}")
        self._clock = clock
        self._sleep = sleep
        self._not_before = 0.0
        self._rate = per_minute / 60.0 if per_minute else None
        self._capacity = float(max(1, burst))
        self._tokens = self._capacity
        self._reserve = live_reserve
        self._other_capacity = max(1.0, self._capacity * (1.0 - live_reserve))
        self._other_tokens = self._other_capacity
        self._refilled_at = clock()
        self._queue: list[tuple[int, int]] = []  # waiting tickets: (class, arrival)
        self._turns: dict[tuple[int, int], asyncio.Future[None]] = {}
        self._arrivals = itertools.count()
        self.pauses = 0  # how many times a 429 moved the gate
        self.paced = 0  # how many requests waited for the budget
        self.waited_s = 0.0  # how long they waited, in all
        #: the same two by priority class (``priority.label`` names them)
        self.paced_by_class: dict[int, int] = {}
        self.waited_s_by_class: dict[int, float] = {}
        #: live requests sent while requests of another class were waiting
        self.live_first = 0
        #: requests of another class held longer than the budget alone would: the reserve
        self.held_by_reserve = 0

    @property
    def per_minute(self) -> float | None:
        return self._rate * 60.0 if self._rate is not None else None

    @property
    def live_reserve(self) -> float:
        return self._reserve

    def set_rate(self, per_minute: float | None) -> None:
        """A new budget (the org's own limit, read at start)."""
        self._refill()
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

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._refilled_at)
        self._refilled_at = now
        if self._rate is None:
            return
        self._tokens = min(self._capacity, self._tokens + elapsed * self._rate)
        other_rate = self._rate * (1.0 - self._reserve)
        self._other_tokens = min(self._other_capacity, self._other_tokens + elapsed * other_rate)

    def _shortfall(self, level: int, rate: float) -> tuple[float, bool]:
        """Seconds until a request of ``level`` may go (<= 0: now), and whether the live
        reserve holds it longer than the budget alone would."""
        main = (1.0 - self._tokens) / rate
        if level <= LIVE:
            return main, False
        other = (1.0 - self._other_tokens) / (rate * (1.0 - self._reserve))
        return max(main, other), other > max(main, 0.0)

    def _wake_head(self) -> None:
        if self._queue:
            turn = self._turns.pop(self._queue[0], None)
            if turn is not None and not turn.done():
                turn.set_result(None)

    def _leave(self, ticket: tuple[int, int]) -> None:
        if self._queue and self._queue[0] == ticket:
            heapq.heappop(self._queue)
        elif ticket in self._queue:
            self._queue.remove(ticket)
            heapq.heapify(self._queue)
        self._turns.pop(ticket, None)
        self._wake_head()

    async def wait(self, priority: int | None = None) -> None:
        """Wait for the shared pause, then (a rate set) for this request's turn and token."""
        level = current() if priority is None else int(priority)
        ticket: tuple[int, int] | None = None
        queued_at = 0.0
        held = waited = False
        try:
            while True:
                delay = self._not_before - self._clock()
                if delay > 0:
                    await self._sleep(delay)
                    continue
                rate = self._rate
                if rate is None:
                    return
                if ticket is None:
                    ticket = (level, next(self._arrivals))
                    queued_at = self._clock()
                    heapq.heappush(self._queue, ticket)
                if self._queue[0] != ticket:  # others go first: wait to be the head
                    turn = asyncio.get_running_loop().create_future()
                    self._turns[ticket] = turn
                    waited = True
                    await turn
                    continue
                self._refill()
                need, reserve_only = self._shortfall(level, rate)
                if need > 1e-9:
                    held = held or reserve_only
                    waited = True
                    await self._sleep(need)
                    continue
                self._tokens -= 1.0
                if level > LIVE:
                    self._other_tokens -= 1.0
                elif any(waiting > LIVE for waiting, _ in self._queue):
                    self.live_first += 1
                self._count(level, self._clock() - queued_at if waited else 0.0, held)
                self._leave(ticket)
                ticket = None
                return
        finally:
            if ticket is not None:  # cancelled while waiting
                self._leave(ticket)

    def _count(self, level: int, waited: float, held: bool) -> None:
        if held:
            self.held_by_reserve += 1
        if waited <= 0:
            return
        self.paced += 1
        self.waited_s += waited
        self.paced_by_class[level] = self.paced_by_class.get(level, 0) + 1
        self.waited_s_by_class[level] = self.waited_s_by_class.get(level, 0.0) + waited
