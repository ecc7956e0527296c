"""Retry timing: ``Retry-After`` parsing and backoff, one implementation for every client.

The Genesys client (``genesys/``), media downloads (``fetch/``), receivers (``sinks/``),
the AudioHook chunk sink and the worker's job retries all take their waits from here.
Hand-written rather than ``tenacity`` or ``backoff``: each retry loop does different work
between attempts (pause a whole client on a 429, resolve a URL again, sign a request
anew, hand the job back to the ledger), so only the timing is shared, and the timing is
these few lines; no new dependency.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Callable

#: the doubling stops growing after this many attempts (the cap applies long before)
_MAX_DOUBLINGS = 30


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date).

    None when absent or unreadable (including NaN and infinity); a date in the past or a
    negative number waits 0.
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def retry_after_seconds(
    value: str | None, default: float, *, cap: float = math.inf, now: float | None = None
) -> float:
    """``parse_retry_after``, else ``default``; never more than ``cap``."""
    seconds = parse_retry_after(value, now=now)
    return min(cap, default if seconds is None else seconds)


def exponential_backoff(attempt: int, *, base: float, cap: float) -> float:
    """``min(cap, base * 2**attempt)``, attempt from 0."""
    return min(cap, base * (2.0 ** min(max(attempt, 0), _MAX_DOUBLINGS)))


def full_jitter_backoff(
    attempt: int, *, base: float, cap: float, rng: Callable[[], float] = random.random
) -> float:
    """AWS "full jitter": uniform in [0, min(cap, base * 2**attempt)], attempt from 0."""
    return rng() * exponential_backoff(attempt, base=base, cap=cap)
