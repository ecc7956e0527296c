"""The one URL-refresh loop: bounded, counted, and the last stale URL goes to the worker."""

from __future__ import annotations

import pytest

from media_bridge import metrics
from media_bridge.errors import UrlExpired
from media_bridge.fetch.refresh import with_fresh_url


class _Links:
    """Signed links of which the first ``stale`` answer as expired."""

    def __init__(self, stale: int) -> None:
        self.stale = stale
        self.issued = 0
        self.fetched: list[str] = []

    async def refresh(self) -> str:
        self.issued += 1
        return f"link-{self.issued}"

    async def fetch(self, url: str) -> str:
        self.fetched.append(url)
        if len(self.fetched) <= self.stale:
            raise UrlExpired(f"{url} answered HTTP 403")
        return f"body of {url}"


async def test_a_fresh_link_is_fetched_without_a_refresh() -> None:
    links = _Links(stale=0)
    assert await with_fresh_url("link-0", links.fetch, links.refresh, 3) == ("body of link-0", 0)
    assert links.issued == 0


async def test_stale_links_are_resolved_again_and_counted() -> None:
    links = _Links(stale=2)
    before = metrics.counter_value(metrics.URL_REFRESHES)
    fetched, refreshes = await with_fresh_url("link-0", links.fetch, links.refresh, 3)
    assert (fetched, refreshes) == ("body of link-2", 2)
    assert links.fetched == ["link-0", "link-1", "link-2"]
    assert metrics.counter_value(metrics.URL_REFRESHES) - before == 2


async def test_past_the_bound_the_last_expiry_is_raised() -> None:
    links = _Links(stale=10)
    with pytest.raises(UrlExpired, match="link-2"):
        await with_fresh_url("link-0", links.fetch, links.refresh, 2)
    assert links.issued == 2


async def test_refreshes_the_caller_made_count_against_the_bound() -> None:
    links = _Links(stale=10)
    with pytest.raises(UrlExpired, match="link-1"):
        await with_fresh_url("link-0", links.fetch, links.refresh, 2, refreshes=1)
    assert links.issued == 1
