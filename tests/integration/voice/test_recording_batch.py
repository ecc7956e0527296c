"""Backfill through the recording batch download API against the emulator: every
recording is delivered once, results the batch leaves out or fails take the per-recording
read (counted), and a second backfill delivers nothing again."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.routes import batch as emulator_batch
from genesys_emulator.testing import EmulatorHandle, running_emulator
from media_bridge.app import Bridge
from media_bridge.jobs import JobOutcome
from media_bridge.jobs.payloads import EventMeta, RecordingPayload
from media_bridge.types import Job, JobKind, JobState
from media_bridge.worker.handlers.recording import handle_recording
from tests.integration.bridge.harness import bridge_settings, delivered_sidecars
from tests.integration.voice.test_backfill import backfill, media_gets, write_config

pytestmark = pytest.mark.integration

CALLS = 14


def api_requests(emu: EmulatorHandle) -> Counter[str]:
    """Platform API requests by path shape (ids folded)."""
    found: Counter[str] = Counter()
    for row in emu.stats()["requests"]:
        if row["host"] == "api" and row["path"].startswith("/api/v2/"):
            found[re.sub(r"/[0-9a-f-]{16,}", "/{id}", row["path"])] += row["count"]
    return found


def _interval(emu: EmulatorHandle) -> tuple[str, str]:
    calls = sorted(emu.conversations(), key=lambda c: c.start)
    since = calls[0].start.replace(microsecond=0).isoformat()
    until = calls[-1].start.replace(microsecond=0).isoformat().replace("+00:00", "")
    return since, until + ".999+00:00"


def test_backfill_uses_the_batch_path_and_falls_back_for_missing_and_failed_results(
    tmp_path: Path, capsys: Any
) -> None:
    config = EmulatorConfig(
        scenario=ScenarioConfig(
            seed=23, messaging_conversations=0, voice_conversations=CALLS, call_seconds=3.0
        ),
        batch_missing_share=0.2,
        batch_error_share=0.25,
    )
    with running_emulator(config) as emu:
        calls = emu.conversations()
        pairs = [(c.id, c.recordings[0].id) for c in calls]
        # the emulator's stable draws: which results it leaves out, which it fails
        missing = {p for p in pairs if emulator_batch._share(*p, "missing") < 0.2}
        failed = {
            p for p in pairs if p not in missing and emulator_batch._share(*p, "error") < 0.25
        }
        assert missing  # the seed shows every path
        assert failed
        assert len(missing) + len(failed) < CALLS
        bridge_config = write_config(emu, tmp_path, recording_batch_linger_s=0.3)
        since, until = _interval(emu)
        first = backfill(bridge_config, since, until, capsys)
        requests_first = api_requests(emu)
        gets_first = media_gets(emu)
        second = backfill(bridge_config, since, until, capsys)
        requests_second = api_requests(emu)
        gets_second = media_gets(emu)

    # every recording delivered, once, under its recording key
    sidecars = delivered_sidecars(tmp_path)
    keys = [s["key"] for s in sidecars]
    assert sorted(keys) == sorted(f"recording:{c}:{r}" for c, r in pairs)
    assert all(n == 1 for n in gets_first.values()), gets_first
    # counted per path: served by the batch, or read one by one by reason
    counts = first["recording_batch"]
    assert counts["served"] == CALLS - len(missing) - len(failed)
    assert counts["fallback_missing"] == len(missing)
    assert counts["fallback_error"] == len(failed)
    assert counts["submits"] == 1  # 14 conversations: one request
    # results are missing from the job: no conversation's answer can be trusted as
    # complete, so each is listed (one whose only result is missing: "missing"); the
    # recordings the batch served keep their results
    assert counts["conversations_listed_missing"] == len(missing)
    assert counts["conversations_listed_incomplete"] == CALLS - len(missing)
    assert requests_first["/api/v2/conversations/{id}/recordings"] == CALLS
    meta = [s["metadata"] for s in sidecars]
    via = {(m["conversation_id"], m["recording_id"]): m["via"] for m in meta}
    assert {p for p, v in via.items() if v == "per_recording"} == missing | failed
    batch_meta = next(m for m in meta if m["via"] == "batch")
    assert batch_meta["format_id"] is None  # the original format
    assert batch_meta["session_id"]  # the listing's fields, kept in the job's payload
    assert batch_meta["channels"]["decision"]["customer"] == "left"
    assert batch_meta["audio"]["customer"]
    # only the fallbacks read their recording on their own
    one_reads = requests_first["/api/v2/conversations/{id}/recordings/{id}"]
    assert one_reads == len(missing) + len(failed)
    assert requests_first["/api/v2/recording/batchrequests"] == 1
    # a second backfill plans, reads and delivers nothing
    assert second["planned"] == 0
    assert second["recording_batch"] == {}
    assert gets_second == gets_first
    assert len(delivered_sidecars(tmp_path)) == CALLS
    new = requests_second - requests_first
    assert set(new) == {"/api/v2/analytics/conversations/details/query"}, new


def test_a_stale_result_url_is_re_resolved_by_the_per_recording_read(tmp_path: Path) -> None:
    config = EmulatorConfig(
        scenario=ScenarioConfig(messaging_conversations=0, voice_conversations=2, call_seconds=3.0)
    )
    with running_emulator(config) as emu:
        calls = emu.conversations()
        settings = bridge_settings(
            emu,
            tmp_path,
            voice={"poll_initial_s": 0.1, "transcripts": False, "recording_batch_linger_s": 0.05},
        )

        async def run() -> list[JobOutcome]:
            async with Bridge(settings, worker_id="t") as bridge:
                assert bridge.context is not None
                now = datetime.now(UTC)
                jobs = [
                    Job(
                        f"recording:{c.id}:{c.recordings[0].id}",
                        JobKind.RECORDING,
                        RecordingPayload(
                            c.id, EventMeta(), recording_id=c.recordings[0].id, via="batch"
                        ).to_dict(),
                        JobState.RUNNING,
                        1,
                        now,
                        now,
                        now,
                    )
                    for c in calls
                ]
                waiting = [await handle_recording(j, bridge.context) for j in jobs]
                assert all(o.run_again_at is not None for o in waiting)
                await asyncio.sleep(1.0)  # the batch is submitted, polled and complete
                emu.state.expire_links()  # every URL it gave is stale now
                return [await handle_recording(j, bridge.context) for j in jobs]

        outcomes = asyncio.run(run())
        one_reads = api_requests(emu)["/api/v2/conversations/{id}/recordings/{id}"]
    assert [o.result["batch_fallback"] for o in outcomes] == ["stale", "stale"]
    assert [o.result["via"] for o in outcomes] == ["per_recording", "per_recording"]
    assert all(o.result["sink"] == "dir" for o in outcomes)
    assert one_reads == 2
    assert len(delivered_sidecars(tmp_path)) == 2


def test_turned_off_every_recording_is_read_on_its_own(tmp_path: Path, capsys: Any) -> None:
    config = EmulatorConfig(
        scenario=ScenarioConfig(messaging_conversations=0, voice_conversations=4, call_seconds=3.0)
    )
    with running_emulator(config) as emu:
        bridge_config = write_config(emu, tmp_path, recording_batch=False)
        first = backfill(bridge_config, *_interval(emu), capsys)
        requests = api_requests(emu)
    assert first["recording_batch"] == {}
    assert requests["/api/v2/recording/batchrequests"] == 0
    assert requests["/api/v2/conversations/{id}/recordings/{id}"] == 4
    assert {s["metadata"]["via"] for s in delivered_sidecars(tmp_path)} == {"per_recording"}


@pytest.mark.parametrize(("activity", "via"), [("backfill", "batch"), ("customer.end", None)])
def test_which_recordings_are_marked_for_the_batch(
    tmp_path: Path, activity: str, via: str | None
) -> None:
    """A backfill's are; a live call's single recording is read on its own, as before."""
    config = EmulatorConfig(
        scenario=ScenarioConfig(messaging_conversations=0, voice_conversations=1)
    )
    with running_emulator(config) as emu:
        (call,) = emu.conversations()
        settings = bridge_settings(emu, tmp_path, voice={"transcripts": False})

        async def plan() -> JobOutcome:
            async with Bridge(settings, worker_id="t") as bridge:
                assert bridge.context is not None
                now = datetime.now(UTC)
                payload = RecordingPayload(call.id, EventMeta(), activity=activity).to_dict()
                job = Job(
                    f"recording:{call.id}",
                    JobKind.RECORDING,
                    payload,
                    JobState.RUNNING,
                    1,
                    now,
                    now,
                    now,
                )
                return await handle_recording(job, bridge.context)

        outcome = asyncio.run(plan())
    (child,) = outcome.new_jobs
    assert child.key == f"recording:{call.id}:{call.recordings[0].id}"
    assert child.payload.get("via") == via
