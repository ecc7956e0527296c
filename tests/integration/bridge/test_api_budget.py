"""Platform API requests per delivered item, pinned (issue 22, GENESYS.md section 8).

Method: the emulator's request counts on the ``api`` and ``downloads`` hosts (login and
storage are not Platform API requests), the default messaging scenario without voice
conversations, events replayed at once (fresh links), the emulator's rate limit off,
audio and texts on; items = voice notes delivered + texts delivered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from genesys_emulator.config import EmulatorConfig, EventPath, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import EmulatorHandle, running_emulator
from media_bridge.app import Bridge
from media_bridge.ledger import ledger_from_url
from media_bridge.types import Job, JobState
from tests.integration.bridge.harness import (
    bridge_settings,
    delivered_sidecars,
    expected_audio,
    nlp_records,
    run_bridge,
    write_events,
)

pytestmark = pytest.mark.integration

PLATFORM_HOSTS = frozenset({"api", "downloads"})


@pytest.fixture
def emu() -> Iterator[EmulatorHandle]:
    config = EmulatorConfig(rate_limit_requests=0, scenario=ScenarioConfig(voice_conversations=0))
    with running_emulator(config) as handle:
        yield handle


def platform_requests(emu: EmulatorHandle) -> Counter[str]:
    """Requests by path on the Platform API hosts (login and storage excluded)."""
    found: Counter[str] = Counter()
    for row in emu.stats()["requests"]:
        if row["host"] in PLATFORM_HOSTS:
            found[row["path"]] += row["count"]
    return found


def expected_texts(emu: EmulatorHandle) -> int:
    return sum(
        1
        for conversation in emu.state.conversations.values()
        for message in conversation.messages
        if message.direction == "inbound" and message.text
    )


async def _run(
    emu: EmulatorHandle, tmp_path: Path, path: EventPath, **sections: Any
) -> tuple[int, int]:
    events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state, path))
    counts, bridge = await run_bridge(bridge_settings(emu, tmp_path, **sections), events)
    assert counts[JobState.DEAD] == 0
    notes = {s["key"] for s in delivered_sidecars(tmp_path)}
    assert notes == set(expected_audio(emu))
    texts = nlp_records(tmp_path)
    assert len(texts) == expected_texts(emu)
    requests = sum(platform_requests(emu).values())
    # every request is charged to the job that spent it, and counted by family
    spent = [(job.result or {}).get("api_requests") for job in await _done_jobs(tmp_path)]
    assert all(isinstance(n, int) for n in spent)
    assert sum(n for n in spent if isinstance(n, int)) == requests
    assert bridge.genesys is not None
    assert sum(bridge.genesys.stats.by_family.values()) == requests
    return len(notes) + len(texts), requests


async def _done_jobs(root: Path) -> list[Job]:
    ledger = ledger_from_url(f"sqlite:///{root}/ledger.db")
    await ledger.open()
    try:
        return await ledger.list_jobs(JobState.DONE, limit=10_000)
    finally:
        await ledger.close()


@pytest.mark.parametrize("path", ["message", "detail"])
async def test_requests_per_delivered_item(
    emu: EmulatorHandle, tmp_path: Path, path: EventPath
) -> None:
    items, requests = await _run(emu, tmp_path, path)
    print(f"{path}: {requests} requests for {items} items: {requests / items:.2f}")
    assert requests / items <= 1.05
    by_path = platform_requests(emu)
    conversations = list(emu.state.conversations)
    if path == "detail":
        # one change (the replayed events of a conversation): one read of it, one bulk read
        for conversation_id in conversations:
            base = f"/api/v2/conversations/messages/{conversation_id}"
            assert by_path[base] == 1
            assert by_path[f"{base}/messages/bulk"] == 1
    # no message is read twice, and no download link resolved twice
    assert max(by_path.values()) == 1, (requests, items, platform_requests(emu))


async def test_textless_messages_are_read_when_the_skip_is_off(
    emu: EmulatorHandle, tmp_path: Path
) -> None:
    items, requests = await _run(
        emu, tmp_path, "message", fetch={"skip_textless_reads": False, "text_batch_window_s": 0}
    )
    textless = sum(
        1
        for conversation in emu.state.conversations.values()
        for message in conversation.messages
        if message.direction == "inbound" and not message.text
    )
    assert textless
    assert requests == items + textless  # one read more per attachment-only message


async def test_a_stale_link_costs_one_message_read(emu: EmulatorHandle, tmp_path: Path) -> None:
    """A stale link: its failed request (staleness is learnt by trying), one message read
    for a fresh link (shared with the message's text job), and that link's request."""
    events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state, "message"))
    emu.expire_links()
    counts, _ = await run_bridge(bridge_settings(emu, tmp_path), events)
    assert counts[JobState.DEAD] == 0
    stale = set(expected_audio(emu))
    assert {s["key"] for s in delivered_sidecars(tmp_path)} == stale
    requests = platform_requests(emu)
    downloads = sum(n for path, n in requests.items() if path.startswith("/api/v2/downloads/"))
    assert downloads <= 2 * len(stale)
    for conversation in emu.state.conversations.values():
        for message in conversation.messages:
            if message.direction != "inbound":
                continue
            path = f"/api/v2/conversations/messages/{conversation.id}/messages/{message.id}"
            # one read serves the message's text and its stale link, whichever job reads
            assert requests[path] <= 1, path
    texts = len(nlp_records(tmp_path))
    textless_reads = sum(
        1
        for conversation in emu.state.conversations.values()
        for message in conversation.messages
        if message.direction == "inbound"
        and not message.text
        and any(a.media_type == "Audio" for a in message.attachments)
    )
    # the fresh path costs at most items (texts + notes); a stale link adds its failed
    # request, and a message read only where the message has no text (a text's read is
    # shared; texts of a conversation may share one bulk read)
    assert sum(requests.values()) <= texts + 2 * len(stale) + textless_reads


async def test_the_orgs_own_limit_sets_the_pace(tmp_path: Path) -> None:
    """``genesys.read_org_limit``: the share of the limit the org's limits endpoint names."""
    config = EmulatorConfig(
        rate_limit_requests=120,
        scenario=ScenarioConfig(seed=3, messaging_conversations=0, voice_conversations=0),
    )
    with running_emulator(config) as emu:
        settings = bridge_settings(
            emu, tmp_path, genesys={"pacing": "on", "read_org_limit": True, "pacing_share": 0.5}
        )
        async with Bridge(settings, worker_id="budget") as bridge:
            assert bridge.genesys is not None
            assert bridge.genesys.gate.per_minute == pytest.approx(60.0)
