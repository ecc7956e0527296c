"""A media URL an event names is used only when it is a Downloads API link, and only while
it works: anything else, or any failure, goes through the message endpoint.

End to end against the emulator over real sockets: the emulator's request statistics show
which URLs were requested, the sidecars which bytes were delivered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import EmulatorHandle, running_emulator
from media_bridge.types import JobState
from tests.integration.bridge.harness import (
    bridge_settings,
    delivered_sidecars,
    expected_audio,
    run_bridge,
    write_events,
)

pytestmark = pytest.mark.integration

#: (conversation id, the event's media URL) -> the URL the event will name instead
Rewrite = Callable[[str, str], str]


@pytest.fixture
def emu() -> Iterator[EmulatorHandle]:
    config = EmulatorConfig(
        scenario=ScenarioConfig(seed=15, messaging_conversations=3, voice_conversations=0)
    )
    with running_emulator(config) as handle:
        yield handle


def _rewrite_media(events: list[dict[str, Any]], rewrite: Rewrite) -> int:
    """Point every media URL of the message events elsewhere; returns how many."""
    count = 0
    for event in events:
        body = event["detail"]["eventBody"]
        for participant in body.get("participants", []):
            for message in participant.get("messages", []):
                for media in message.get("media", []):
                    media["url"] = rewrite(body["id"], media["url"])
                    count += 1
    return count


def _requested_paths(emu: EmulatorHandle) -> dict[str, list[int]]:
    paths: dict[str, list[int]] = {}
    for row in emu.stats()["requests"]:
        paths.setdefault(row["path"], []).append(row["status"])
    return paths


async def _run_and_check_delivery(emu: EmulatorHandle, tmp_path: Path, events: Any) -> None:
    """Every customer voice note delivered, byte for byte, and nothing parked."""
    counts, _ = await run_bridge(
        bridge_settings(emu, tmp_path), write_events(tmp_path / "events.jsonl", events)
    )
    assert counts[JobState.DEAD] == 0
    expected = expected_audio(emu)
    delivered = {s["key"]: s["metadata"]["sha256"] for s in delivered_sidecars(tmp_path)}
    assert delivered == expected


@pytest.mark.parametrize(
    "shape",
    [
        "{api}/api/v2/conversations/messages/{cid}",
        "{api}/api/v2/conversations/messages/{cid}?Expires=99999999999&Signature=s",
        "{downloads}/api/v2/conversations/messages/{cid}",
    ],
    ids=["api-path", "signed-api-path", "downloads-host-api-path"],
)
async def test_an_event_url_on_a_genesys_host_is_never_fetched(
    emu: EmulatorHandle, tmp_path: Path, shape: str
) -> None:
    """The MessageConversation JSON once arrived in the sink as the "attachment"."""
    events = scenario_events(emu.state, "message")
    decoys: set[str] = set()

    def decoy(cid: str, _: str) -> str:
        url = shape.format(api=emu.api_url, downloads=emu.downloads_url, cid=cid)
        decoys.add(urlsplit(url).path)
        return url

    assert _rewrite_media(events, decoy) > 0
    await _run_and_check_delivery(emu, tmp_path, events)

    requested = _requested_paths(emu)
    assert not decoys & requested.keys(), "an event's URL was requested"
    assert not any(p.startswith("/api/v2/downloads/") for p in decoys)


async def test_a_url_aiohttp_refuses_falls_back_to_the_api(
    emu: EmulatorHandle, tmp_path: Path
) -> None:
    """``http://evil\\@host/...``: urlsplit sees the downloads host, aiohttp refuses the URL."""
    events = scenario_events(emu.state, "message")

    def malformed(_: str, url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://evil\\@{parts.netloc}{parts.path}"

    assert _rewrite_media(events, malformed) > 0
    await _run_and_check_delivery(emu, tmp_path, events)


@pytest.mark.parametrize("status", [303, 307])
async def test_a_redirecting_downloads_link_falls_back_to_the_api(
    emu: EmulatorHandle, tmp_path: Path, status: int
) -> None:
    events = scenario_events(emu.state, "message")
    emu.redirect_links(status)  # the links the events carry; the API hands out new ones

    await _run_and_check_delivery(emu, tmp_path, events)

    requested = _requested_paths(emu)
    tried = [p for p, statuses in requested.items() if status in statuses]
    assert tried, "the event's links were tried first"
    assert all(p.startswith("/api/v2/downloads/") for p in tried)
