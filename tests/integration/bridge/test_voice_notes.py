"""The voice-note path end to end: events -> bridge -> dir sink / NLP sink, over real sockets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from genesys_emulator.config import (
    NO_MESSAGE_PERMS_CLIENT_ID,
    NO_MESSAGE_PERMS_CLIENT_SECRET,
    EmulatorConfig,
    ScenarioConfig,
)
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import EmulatorHandle, running_emulator
from media_bridge.app import Bridge
from media_bridge.intake.runner import SourcePump
from media_bridge.intake.sources.file import FileSource
from media_bridge.runtime import run_pipeline
from media_bridge.types import JobState
from tests.integration.bridge.harness import (
    bridge_settings,
    delivered_sidecars,
    expected_audio,
    nlp_records,
    run_bridge,
    write_events,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def emu() -> Iterator[EmulatorHandle]:
    config = EmulatorConfig(
        scenario=ScenarioConfig(seed=3, messaging_conversations=8, voice_conversations=0)
    )
    with running_emulator(config) as handle:
        yield handle


async def test_voice_notes_of_every_channel_arrive_with_metadata_and_text(
    emu: EmulatorHandle, tmp_path: Path
) -> None:
    events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state))
    counts, _ = await run_bridge(bridge_settings(emu, tmp_path), events)

    assert counts[JobState.DEAD] == 0
    expected = expected_audio(emu)
    sidecars = {s["key"]: s for s in delivered_sidecars(tmp_path)}
    assert set(sidecars) == set(expected)
    channels = set()
    for key, sidecar in sidecars.items():
        meta = sidecar["metadata"]
        assert meta["sha256"] == expected[key]
        assert meta["participant_purpose"] == "customer"
        assert meta["audio"]["output"]["sample_rate"] == 16000
        assert meta["audio"]["output"]["channels"] == 1
        roles = {f["role"] for f in sidecar["files"]}
        assert roles == {"original", "normalized"}
        for name in (f["name"] for f in sidecar["files"]):
            assert (tmp_path / "out" / sidecar["conversation_id"] / name).is_file()
        channels.add(meta["channel"])
    assert {"WhatsApp", "WebMessaging", "Open", "Facebook"} <= channels

    texts = {
        (c.id, m.id): m.text
        for c in emu.conversations()
        for m in c.messages
        if m.direction == "inbound" and m.text
    }
    delivered = {(r["conversation_id"], r["message_id"]): r["text"] for r in nlp_records(tmp_path)}
    assert delivered == texts


async def test_stale_urls_are_refreshed_through_the_api(
    emu: EmulatorHandle, tmp_path: Path
) -> None:
    events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state, "message"))
    emu.expire_links()
    counts, _ = await run_bridge(bridge_settings(emu, tmp_path), events)

    assert counts[JobState.DEAD] == 0
    sidecars = delivered_sidecars(tmp_path)
    assert {s["key"] for s in sidecars} == set(expected_audio(emu))
    assert all(s["metadata"]["url_refreshes"] >= 1 for s in sidecars)


async def test_detail_events_alone_find_the_messages(emu: EmulatorHandle, tmp_path: Path) -> None:
    events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state, "detail"))
    counts, _ = await run_bridge(bridge_settings(emu, tmp_path), events)

    assert counts[JobState.DEAD] == 0
    assert {s["key"] for s in delivered_sidecars(tmp_path)} == set(expected_audio(emu))


async def test_token_expiring_mid_run_is_refreshed_without_failures(
    emu: EmulatorHandle, tmp_path: Path
) -> None:
    events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state))
    settings = bridge_settings(emu, tmp_path, worker={"concurrency": 2})
    revoked: list[int] = []

    def revoke_once(counts: dict[JobState, int], _: object) -> None:
        if not revoked and counts.get(JobState.DONE, 0) > 0:
            emu.expire_tokens()  # every token issued so far now answers 401
            revoked.append(counts[JobState.DONE])

    async with Bridge(settings, worker_id="test") as bridge:
        counts = await run_pipeline(
            bridge,
            [SourcePump(FileSource(events))],
            until_idle=True,
            idle_timeout_s=60,
            progress=revoke_once,
            progress_every_s=0.02,
        )
        assert bridge.genesys is not None
        refreshes = bridge.genesys.tokens.refreshes

    assert revoked
    assert revoked[0] < counts[JobState.DONE]
    assert counts[JobState.DEAD] == 0
    assert counts[JobState.RETRY] == 0
    assert {s["key"] for s in delivered_sidecars(tmp_path)} == set(expected_audio(emu))
    assert refreshes == 2  # the first token, then exactly one refresh after the 401s


async def test_missing_message_permissions_are_named_and_the_process_stays_up(
    emu: EmulatorHandle, tmp_path: Path
) -> None:
    events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state, "message"))
    detail_only = write_events(tmp_path / "detail.jsonl", scenario_events(emu.state, "detail"))
    settings = bridge_settings(
        emu,
        tmp_path,
        genesys={
            "client_id": NO_MESSAGE_PERMS_CLIENT_ID,
            "client_secret": NO_MESSAGE_PERMS_CLIENT_SECRET,
        },
    )
    counts, bridge = await run_bridge(settings, events)

    dead = await _dead_jobs(bridge)
    assert counts[JobState.DEAD] == len(dead) > 0
    # message reads need the permission; a download link from the event does not
    assert {job.kind.value for job in dead} == {"text"}
    for job in dead:
        assert job.error_code == "permission_missing"
        assert "conversation:message:view" in (job.last_error or "")
        assert "conversation:webmessaging:view" in (job.last_error or "")

    # the detail-event path cannot even list the conversation's messages
    fresh = settings.model_copy(
        update={"ledger": settings.ledger.model_copy(update={"url": f"sqlite:///{tmp_path}/2.db"})}
    )
    counts, bridge = await run_bridge(fresh, detail_only)
    dead = await _dead_jobs(bridge)
    assert any(job.kind.value == "conversation" for job in dead)
    assert all("conversation:message:view" in (job.last_error or "") for job in dead)


async def _dead_jobs(bridge: object) -> list:  # type: ignore[type-arg]
    from media_bridge.ledger import ledger_from_url

    ledger = ledger_from_url(bridge.settings.ledger.url)  # type: ignore[attr-defined]
    await ledger.open()
    try:
        return await ledger.list_jobs(JobState.DEAD, limit=1000)
    finally:
        await ledger.close()


async def test_message_topics_without_media_lists_still_deliver_the_audio(
    emu: EmulatorHandle, tmp_path: Path
) -> None:
    # REST's messages[].media[] is deprecated: the topic may carry message ids only
    emu.config.scenario.topic_media = False
    events = scenario_events(emu.state, "message")
    assert not any(
        message.get("media")
        for event in events
        for participant in event["detail"]["eventBody"]["participants"]
        for message in participant.get("messages") or []
    )
    path = write_events(tmp_path / "events.jsonl", events)
    counts, _ = await run_bridge(bridge_settings(emu, tmp_path), path)

    assert counts[JobState.DEAD] == 0
    delivered = {s["key"]: s["metadata"]["sha256"] for s in delivered_sidecars(tmp_path)}
    assert delivered == expected_audio(emu)
