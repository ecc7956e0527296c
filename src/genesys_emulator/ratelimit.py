"""Per-OAuth-client token buckets: past the rate, the API answers 429 with Retry-After."""

from __future__ import annotations

import math
import threading
import time


class RateLimiter:
    """``limit`` requests per ``window_s`` per client, refilled continuously."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def configure(self, limit: int, window_s: float) -> None:
        with self._lock:
            self.limit, self.window_s = limit, window_s
            self._buckets.clear()

    def acquire(self, client_id: str) -> int:
        """0 if the request may pass, else the seconds to wait (for Retry-After)."""
        if self.limit <= 0:
            return 0
        rate = self.limit / self.window_s
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(client_id, (float(self.limit), now))
            tokens = min(float(self.limit), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[client_id] = (tokens - 1.0, now)
                return 0
            self._buckets[client_id] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / rate))
