"""Platform API requests counted per job and by endpoint family (GENESYS.md section 8).

Genesys allows 300 requests per minute per token, so requests per delivered item is the
bridge's real throughput figure. The transport calls ``spend`` for every request it
sends (retries and 429 answers included: each one counts against the budget). A job
run inside ``counting()`` sees its own requests: the tally lives in a context variable,
so concurrent jobs never mix, and a task a job starts (a single-flight read) charges
the job that started it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass(slots=True)
class RequestTally:
    """Requests spent by one job run, in total and by endpoint family."""

    count: int = 0
    by_family: dict[str, int] = field(default_factory=dict)


_CURRENT: ContextVar[RequestTally | None] = ContextVar("api_requests", default=None)


def family(path: str) -> str:
    """The endpoint family of an ``/api/v2/`` path, as the ``family`` metric label says it.

    ``messages`` (message reads, bulk reads), ``conversations`` (conversation reads),
    ``downloads``, ``recordings``, ``analytics``, ``externalcontacts``, ``transcripts``;
    any other path gives its first segment after ``/api/v2/``.
    """
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    if parts[:2] != ["api", "v2"] or len(parts) < 3:
        return "other"
    head = parts[2]
    if head == "conversations":
        if len(parts) >= 6 and parts[3] == "messages" and parts[5] == "messages":
            return "messages"
        if "recordings" in parts[4:]:
            return "recordings"
        return "conversations"
    if head in ("recording", "recordings"):
        return "recordings"
    if head == "speechandtextanalytics":
        return "transcripts"
    return head


def spend(path: str) -> str:
    """Count one request to ``path`` for the job running now (if any); returns its family."""
    name = family(path)
    tally = _CURRENT.get()
    if tally is not None:
        tally.count += 1
        tally.by_family[name] = tally.by_family.get(name, 0) + 1
    return name


@contextmanager
def counting() -> Iterator[RequestTally]:
    """Count the Platform API requests made inside the block (and tasks it starts)."""
    tally = RequestTally()
    token = _CURRENT.set(tally)
    try:
        yield tally
    finally:
        _CURRENT.reset(token)
