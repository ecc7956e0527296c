"""The rolling-window rate limit: at most N requests in any window, per key."""

from __future__ import annotations

from genesys_emulator.ratelimit import RateLimiter


def test_at_most_n_in_any_window() -> None:
    limiter = RateLimiter(3, 60.0)
    assert [limiter.acquire("t", now=t) for t in (0.0, 10.0, 20.0)] == [0, 0, 0]
    # full until the first request (t=0) leaves the window at t=60
    assert limiter.acquire("t", now=30.0) == 30
    assert limiter.acquire("t", now=59.5) == 1
    assert limiter.acquire("t", now=60.0) == 0
    assert limiter.acquire("t", now=65.0) == 5  # t=10 leaves at 70
    assert limiter.used("t", now=65.0) == 3


def test_no_burst_beyond_the_limit_at_start() -> None:
    # a refilling bucket that starts full lets 300 + refill through in 20 s; a window does not
    limiter = RateLimiter(300, 60.0)
    passed = sum(limiter.acquire("t", now=i * 0.05) == 0 for i in range(400))
    assert passed == 300


def test_keys_are_independent_and_configure_resets() -> None:
    limiter = RateLimiter(1, 1.0)
    assert limiter.acquire("a", now=0.0) == 0
    assert limiter.acquire("a", now=0.1) == 1
    assert limiter.acquire("b", now=0.1) == 0
    limiter.configure(2, 1.0, count_downloads=False)
    assert limiter.count_downloads is False
    assert limiter.acquire("a", now=0.2) == 0
    assert RateLimiter(0, 1.0).acquire("a") == 0
