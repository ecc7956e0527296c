"""`media-bridge backfill` against the emulator: after an outage, it finds and fetches
exactly what the ledger lacks, and a second run fetches nothing."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import conversation_events
from genesys_emulator.testing import EmulatorHandle, running_emulator
from media_bridge.app import Bridge
from media_bridge.cli import main as cli_main
from media_bridge.jobs.media_types import is_wanted, wanted_media_types
from media_bridge.jobs.payloads import EventMeta, RecordingPayload
from media_bridge.types import Job, JobKind, JobState
from media_bridge.voice.messaging import attachment_kind
from media_bridge.worker.handlers.recording import handle_recording
from tests.integration.bridge.harness import (
    bridge_settings,
    delivered_sidecars,
    expected_audio,
    run_bridge,
    write_events,
)

pytestmark = pytest.mark.integration


def media_gets(emu: EmulatorHandle) -> Counter[str]:
    """Successful media downloads per object path (storage and MediaCache)."""
    counts: Counter[str] = Counter()
    for row in emu.stats()["requests"]:
        media = row["host"] in {"storage", "downloads"} and "/api/v2/downloads/" not in row["path"]
        if row["status"] == 200 and media:
            counts[row["path"]] += row["count"]
    return counts


def write_config(emu: EmulatorHandle, root: Path, **voice: Any) -> Path:
    """A TOML config for the CLI; ``voice``: more voice settings."""
    settings = bridge_settings(
        emu,
        root,
        voice={"recording_delay_s": 0.0, "poll_initial_s": 0.1, "transcripts": False, **voice},
    )
    data: dict[str, Any] = json.loads(settings.model_dump_json())
    data["genesys"]["client_secret"] = emu.client_secret
    lines = []
    for section, values in data.items():
        if not isinstance(values, dict):
            continue
        lines.append(f"[{section}]")
        for key, value in values.items():
            if value is not None and not isinstance(value, dict):
                lines.append(f"{key} = {json.dumps(value)}")
    path = root / "bridge.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def backfill(config: Path, since: str, until: str, capsys: Any) -> dict[str, Any]:
    code = cli_main(
        ["backfill", "--json", "--config", str(config), "--since", since, "--until", until]
    )
    summary: dict[str, Any] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0, summary
    return summary


def test_backfill_fetches_exactly_what_is_missing_and_nothing_the_second_time(
    tmp_path: Path, capsys: Any
) -> None:
    scenario = ScenarioConfig(
        seed=11, messaging_conversations=3, voice_conversations=2, call_seconds=6.0
    )
    with running_emulator(EmulatorConfig(scenario=scenario)) as emu:
        conversations = sorted(emu.conversations(), key=lambda c: c.start)
        messaging = [c for c in conversations if c.kind == "message"]
        calls = [c for c in conversations if c.kind == "voice"]
        # before the "outage": one messaging conversation and one call came as events
        seen = [messaging[0], calls[0]]
        events = [e for c in seen for e in conversation_events(emu.state, c, "detail")]
        settings = bridge_settings(emu, tmp_path, voice={"recording_delay_s": 0.0})
        asyncio.run(run_bridge(settings, write_events(tmp_path / "events.jsonl", events)))
        before = media_gets(emu)
        delivered_before = {s["key"] for s in delivered_sidecars(tmp_path)}

        config = write_config(emu, tmp_path)
        since = (conversations[0].start.replace(microsecond=0)).isoformat()
        until = (conversations[-1].start.replace(microsecond=0)).isoformat()
        until = until.replace("+00:00", "") + ".999+00:00"
        first = backfill(config, since, until, capsys)
        after_first = media_gets(emu)
        second = backfill(config, since, until, capsys)
        after_second = media_gets(emu)
        expected = expected_audio(emu)

    assert first["conversations_found"] == len(conversations)
    assert second["conversations_found"] == len(conversations)
    # the second run plans nothing and downloads nothing
    assert second["planned"] == 0
    assert after_second == after_first
    # every customer audio attachment and every recording is delivered, once
    sidecars = {s["key"] for s in delivered_sidecars(tmp_path)}
    recordings = {f"recording:{c.id}:{c.recordings[0].id}" for c in calls}
    assert sidecars == set(expected) | recordings
    # the first backfill fetched only what the event run had not: no object twice
    assert all(n == 1 for n in after_first.values()), after_first
    new_objects = set(after_first) - set(before)
    missing = sidecars - delivered_before
    assert len(new_objects) == len(missing)
    assert {k for k in delivered_before if k.startswith("recording:")} == {
        f"recording:{calls[0].id}:{calls[0].recordings[0].id}"
    }


def test_backfill_ends_with_a_summary_like_replays(tmp_path: Path, capsys: Any) -> None:
    scenario = ScenarioConfig(seed=13, messaging_conversations=2, voice_conversations=1)
    with running_emulator(EmulatorConfig(scenario=scenario)) as emu:
        conversations = sorted(emu.conversations(), key=lambda c: c.start)
        config = write_config(emu, tmp_path)
        since = conversations[0].start.replace(microsecond=0).isoformat()
        until = conversations[-1].start.replace(microsecond=0).isoformat()
        until = until.replace("+00:00", "") + ".999+00:00"
        argv = ["backfill", "--config", str(config), "--since", since, "--until", until]
        code = cli_main(argv)
        captured = capsys.readouterr()
        planned_only = cli_main([*argv, "--plan-only"])
        again = capsys.readouterr()

    assert code == 0, captured.err[-2000:]
    assert planned_only == 0
    summary = " ".join(captured.out.split())
    assert summary.startswith("summary ")
    assert f"conversations found / analytics queries {len(conversations)} / " in summary
    assert "jobs planned / already in the ledger " in summary
    assert "jobs pending / running / done / retry / dead 0 / 0 / " in summary
    assert "jobs done / dead " in summary
    # (the metrics are the process's: other tests in this process add to them)
    assert "attachment " in summary.split("deliveries by kind", 1)[1]
    assert "recording " in summary.split("deliveries by kind", 1)[1]
    assert "API requests (answered 5xx / 429) " in summary
    assert "in-call retries / job retries " in summary
    assert "events read" not in summary  # a backfill reads no events
    # the plan is said before the jobs run (a log line when not on a terminal)
    assert f"backfill: {len(conversations)} conversation(s) found" in captured.err
    # a second, plan-only run finds everything known and says it ran nothing
    second = " ".join(again.out.split())
    assert "jobs planned / already in the ledger 0 / " in second
    assert "(--plan-only: not run)" in second


@pytest.mark.parametrize("media_types", [["all"], ["*"], ["Audio"]])
def test_messaging_recording_finds_the_event_paths_attachment_keys(
    tmp_path: Path, media_types: list[str]
) -> None:
    """The messaging transcript of a recording is a second source of the same keys,
    filtered as the event path filters them (``["*"]`` planned nothing here before)."""
    scenario = ScenarioConfig(seed=12, messaging_conversations=1, voice_conversations=0)
    with running_emulator(EmulatorConfig(scenario=scenario)) as emu:
        (conversation,) = emu.conversations()
        settings = bridge_settings(emu, tmp_path, fetch={"media_types": media_types})

        async def plan() -> Any:
            async with Bridge(settings, worker_id="t") as bridge:
                assert bridge.context is not None
                now = datetime.now(UTC)
                job = Job(
                    f"recording:{conversation.id}",
                    JobKind.RECORDING,
                    RecordingPayload(conversation.id, EventMeta()).to_dict(),
                    JobState.RUNNING,
                    1,
                    now,
                    now,
                    now,
                )
                return await handle_recording(job, bridge.context)

        outcome = asyncio.run(plan())
    keys = {j.key for j in outcome.new_jobs}
    expected = {
        f"attachment:{conversation.id}:{m.id}:{a.id}"
        for m in conversation.messages
        for a in m.attachments
        if is_wanted(attachment_kind(a.mime), wanted_media_types(media_types))
    }
    assert expected
    assert keys == expected
    assert outcome.result["attachments_planned"] == len(expected)
