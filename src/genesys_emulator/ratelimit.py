"""The Platform API rate limit as Genesys applies it: per access token, a rolling window.

At most ``limit`` requests in any ``window_s`` seconds (60 in Genesys, shorter for demos and
tests) per bearer token; past it the API answers 429 with ``Retry-After`` = the seconds until
the oldest request in the window leaves it. Refused requests do not count.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque


class RateLimiter:
    """``limit`` requests in any rolling ``window_s`` seconds, per key (the token)."""

    def __init__(self, limit: int, window_s: float, *, count_downloads: bool = True) -> None:
        self.limit = limit
        self.window_s = window_s
        #: whether requests to the api-downloads host count against the token's limit
        self.count_downloads = count_downloads
        self._windows: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def configure(
        self, limit: int, window_s: float, *, count_downloads: bool | None = None
    ) -> None:
        with self._lock:
            self.limit, self.window_s = limit, window_s
            if count_downloads is not None:
                self.count_downloads = count_downloads
            self._windows.clear()

    def acquire(self, key: str, now: float | None = None) -> int:
        """0 if the request may pass (it is counted), else the seconds to wait (Retry-After)."""
        if self.limit <= 0:
            return 0
        now = time.monotonic() if now is None else now
        with self._lock:
            window = self._windows.setdefault(key, deque())
            while window and window[0] <= now - self.window_s:
                window.popleft()
            if len(window) < self.limit:
                window.append(now)
                return 0
            return max(1, math.ceil(window[0] + self.window_s - now))

    def used(self, key: str, now: float | None = None) -> int:
        """Requests of ``key`` in the current window."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return sum(1 for t in self._windows.get(key, ()) if t > now - self.window_s)
