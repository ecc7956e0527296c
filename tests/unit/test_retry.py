"""Retry timing (``media_bridge.retry``): the one ``Retry-After`` parser and backoff."""

from __future__ import annotations

import math

import pytest

from media_bridge.retry import (
    exponential_backoff,
    full_jitter_backoff,
    parse_retry_after,
    retry_after_seconds,
)

NOW = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        (" 120 ", 120.0),
        ("0.5", 0.5),
        ("0", 0.0),
        ("-4", 0.0),
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # a date in the past: no wait
    ],
)
def test_seconds_and_http_dates(value: str, expected: float) -> None:
    assert parse_retry_after(value, now=NOW) == pytest.approx(expected)


@pytest.mark.parametrize("value", [None, "", "soon", "3 seconds", "nan", "inf", "-inf", "1e999"])
def test_garbage_is_unreadable(value: str | None) -> None:
    assert parse_retry_after(value, now=NOW) is None
    assert retry_after_seconds(value, 5.0, now=NOW) == 5.0


def test_caps() -> None:
    assert retry_after_seconds("7200", 5.0, cap=60.0) == 60.0
    assert retry_after_seconds("soon", 90.0, cap=60.0) == 60.0  # the default is capped too
    assert retry_after_seconds("7", 5.0, cap=60.0) == 7.0
    assert retry_after_seconds("7200", 5.0) == 7200.0  # no cap unless asked


def test_exponential_backoff_doubles_to_the_cap() -> None:
    assert [exponential_backoff(a, base=0.5, cap=math.inf) for a in range(4)] == [
        0.5,
        1.0,
        2.0,
        4.0,
    ]
    assert exponential_backoff(10, base=1.0, cap=300.0) == 300.0
    assert exponential_backoff(10**6, base=1.0, cap=math.inf) == 2.0**30  # no overflow
    assert exponential_backoff(-1, base=1.0, cap=10.0) == 1.0


def test_full_jitter_is_uniform_below_the_backoff() -> None:
    assert full_jitter_backoff(3, base=0.2, cap=30, rng=lambda: 1.0) == pytest.approx(1.6)
    assert full_jitter_backoff(3, base=0.2, cap=30, rng=lambda: 0.25) == pytest.approx(0.4)
    assert full_jitter_backoff(50, base=0.2, cap=30, rng=lambda: 1.0) == pytest.approx(30)
    assert full_jitter_backoff(5, base=0.2, cap=30, rng=lambda: 0.0) == 0.0
