"""The one URL-refresh loop of every download that starts from a short-lived URL.

A signed URL that answers 401/403/404/410 raises ``UrlExpired``; the caller knows how
to resolve a new one through the API (read the message, the recording, the transcript
URL again). This loop decides how often: at most ``max_refreshes`` times
(``fetch.max_url_refreshes``), each refresh counted in
``media_bridge_url_refreshes_total``, then the last ``UrlExpired`` goes to the worker.

One step below, and not through this loop: ``MediaFetcher.fetch_media`` resolves a
Downloads API link (``/api/v2/downloads/{id}``, a stable name) to its signed URL, and
once again when that signed URL lapses mid-download. That is the link's own redirect,
not a new read of the message or recording, so it is not a refresh here; a second
lapse raises ``UrlExpired`` into this loop. The attachment handler's event link that
fails once is counted by the handler as its first refresh.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from media_bridge import metrics
from media_bridge.errors import UrlExpired

Target = TypeVar("Target")
Fetched = TypeVar("Fetched")


async def with_fresh_url(
    first: Target,
    fetch: Callable[[Target], Awaitable[Fetched]],
    refresh: Callable[[], Awaitable[Target]],
    max_refreshes: int,
    *,
    refreshes: int = 0,
) -> tuple[Fetched, int]:
    """``fetch(first)``, and on ``UrlExpired`` ``fetch(await refresh())`` again while
    refreshes are left; returns what was fetched and the refreshes it took in all
    (``refreshes`` counts those already made by the caller)."""
    target = first
    while True:
        try:
            return await fetch(target), refreshes
        except UrlExpired:
            if refreshes >= max_refreshes:
                raise
            refreshes += 1
            metrics.URL_REFRESHES.inc()
            target = await refresh()
