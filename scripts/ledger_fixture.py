"""Write the golden ledger fixture ``tests/fixtures/ledger/v1/`` (issue 11).

Run once with the code of the day; its output is frozen. It is the safety net for
changing key and payload code: ``tests/integration/bridge/test_golden_ledger.py`` opens
the frozen ledger with the code of *today*, runs it to completion against the emulator
and compares with what the code of the day did. Regenerating the files to make that test
pass defeats it; a new fixture goes in a new folder (``v2/``) beside the old one.

What it writes:

- ``ledger.db``: a NEW SQLite ledger, written through the ledger API, holding the jobs
  that the day's bridge planned for ``SCENARIO`` (every key shape: attachment, text,
  conversation, recording, recording file, transcript, utterance), spread over the
  states pending, retry (due), dead and done so that every kind is in each state, plus
  the events the day's intake rejected.
- ``jobs.json``: every job as stored (key, kind, state, payload) and the schema version.
- ``rejected.json``: the rejected events as stored (source, reason, raw).
- ``deliveries.json``: what running a copy of ``ledger.db`` to completion against a
  fresh emulator of ``SCENARIO`` (no new events) delivered: final state per key, the
  dir sink's sidecars (key, kind, file roles) and the NLP records' keys.

Emulator ports are not fixed: attachment payloads keep the Downloads link of the
emulator of generation time, whose port is gone later; the attachment handler drops a
link that is not on the configured downloads host and reads the message again, so the
test also shows that a stale link is recovered through the API, not retried forever.

    PYTHONPATH=. .uv/bin/uv run --frozen python scripts/ledger_fixture.py [OUT_DIR]
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import EmulatorHandle, running_emulator
from media_bridge.config import Settings
from media_bridge.ledger import Ledger, ledger_from_url
from media_bridge.types import Job, JobState, NewJob
from tests.integration.bridge.harness import (
    bridge_settings,
    delivered_sidecars,
    nlp_records,
    run_bridge,
    write_events,
)

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "ledger" / "v1"
SCENARIO = ScenarioConfig(
    seed=11,
    messaging_conversations=4,
    voice_conversations=4,
    attachments_per_conversation=2,
    call_seconds=6.0,
    voice_note_seconds=3.0,
)
#: events the intake rejects (kept in the ledger's rejected_events)
INVALID_EVENTS = (
    "invalid_malformed.json",
    "invalid_missing_conversation_id.json",
    "invalid_missing_media_id.json",
    "invalid_wrong_source.json",
)
#: the states dealt out, in turn, to the sorted keys of each key shape
STATES = (JobState.PENDING, JobState.RETRY, JobState.DEAD, JobState.DONE)
WORKER = "golden-fixture"


def settings(emu: EmulatorHandle, root: Path) -> Settings:
    """Bridge settings for a run over ``root/ledger.db``: recordings are not delayed
    (with the default 60 s delay recording jobs stay in retry when the run goes idle), and
    no retention sweep runs (the fixture's done jobs are old: a sweep would purge them)."""
    return bridge_settings(
        emu, root, voice={"recording_delay_s": 0}, ledger={"sweep_interval_s": 0}
    )


def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(scenario=SCENARIO)


def key_shape(job_key: str, kind: str) -> str:
    """``kind/prefix/parts``: e.g. an utterance is ``text/transcript/4``."""
    return f"{kind}/{job_key.split(':', 1)[0]}/{job_key.count(':') + 1}"


def plan_states(jobs: Sequence[Job]) -> dict[str, JobState]:
    """Deal ``STATES`` out to each key shape's sorted keys, in turn."""
    shapes: dict[str, list[str]] = {}
    for job in jobs:
        shapes.setdefault(key_shape(job.key, job.kind.value), []).append(job.key)
    planned: dict[str, JobState] = {}
    for keys in shapes.values():
        for i, key in enumerate(sorted(keys)):
            planned[key] = STATES[i % len(STATES)]
    return planned


def _invalid_lines() -> list[str]:
    lines = []
    for name in INVALID_EVENTS:
        text = (ROOT / "tests" / "fixtures" / "events" / name).read_text()
        try:
            lines.append(json.dumps(json.loads(text)))
        except json.JSONDecodeError:
            lines.append(" ".join(text.split()))
    return lines


async def _all_jobs(ledger: Ledger) -> list[Job]:
    return sorted(await ledger.list_jobs(limit=100_000), key=lambda j: j.key)


async def learn(root: Path) -> tuple[list[Job], list[dict[str, Any]]]:
    """Run the day's bridge over ``SCENARIO`` (plus invalid events): every job it planned,
    as stored once done, and the events it rejected."""
    with running_emulator(emulator_config()) as emu:
        events: list[dict[str, Any] | str] = [*scenario_events(emu.state), *_invalid_lines()]
        events_file = write_events(root / "events.jsonl", events)
        counts, _ = await run_bridge(settings(emu, root), events_file)
    ledger = ledger_from_url(f"sqlite:///{root}/ledger.db")
    await ledger.open()
    try:
        jobs = await _all_jobs(ledger)
        rejected = await ledger.list_rejected(limit=1000)
    finally:
        await ledger.close()
    not_done = [j.key for j in jobs if j.state is not JobState.DONE]
    tombstones = [j.key for j in jobs if j.payload.get("tombstone")]
    if not_done or tombstones or len(rejected) < 3:
        raise SystemExit(f"learning run incomplete: {counts}, {not_done=}, {tombstones=}")
    return jobs, rejected


def _portable(value: dict[str, Any], root: Path) -> dict[str, Any]:
    """A done job's result without the learning run's temporary folder."""
    loaded: dict[str, Any] = json.loads(json.dumps(value).replace(str(root), "/fixture"))
    return loaded


async def write_fixture(
    path: Path, jobs: Sequence[Job], rejected: Sequence[dict[str, Any]], learned_root: Path
) -> None:
    """A new ledger at ``path`` holding ``jobs`` in their planned states, via the API."""
    planned = plan_states(jobs)
    by_key = {j.key: j for j in jobs}
    ledger = ledger_from_url(f"sqlite:///{path}")
    await ledger.open()
    try:
        settled = [j for j in jobs if planned[j.key] is not JobState.PENDING]
        await ledger.add_jobs([NewJob(j.key, j.kind, j.payload) for j in settled])
        claimed = await ledger.claim(WORKER, len(settled) + 1, lease_seconds=600)
        if {j.key for j in claimed} != {j.key for j in settled}:
            raise SystemExit("the fixture ledger did not hand back the jobs just added")
        overdue = datetime.now(UTC) - timedelta(hours=1)
        for job in claimed:
            state = planned[job.key]
            if state is JobState.DONE:
                result = by_key[job.key].result or {}
                ok = await ledger.complete(job.key, WORKER, _portable(result, learned_root))
            elif state is JobState.RETRY:
                error = "golden fixture: a transient failure, due again"
                ok = await ledger.fail(job.key, WORKER, error, "transient", retry_at=overdue)
            else:
                error = "golden fixture: a permanent failure"
                ok = await ledger.fail(job.key, WORKER, error, "not_found", retry_at=None)
            if not ok:
                raise SystemExit(f"could not settle {job.key}")
        pending = [j for j in jobs if planned[j.key] is JobState.PENDING]
        await ledger.add_jobs([NewJob(j.key, j.kind, j.payload) for j in pending])
        for row in sorted(rejected, key=lambda r: int(r["id"])):
            source = str(row["source"]).replace(str(learned_root), "/fixture")
            await ledger.record_rejected(source, row["reason"], row["raw"].encode())
    finally:
        await ledger.close()


def single_file(path: Path) -> None:
    """Leave ``path`` self-contained (rollback journal, no ``-wal``/``-shm`` beside it):
    the ledger switches a copy back to WAL when it opens it."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode = DELETE")
    finally:
        conn.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def schema_version(path: Path) -> int:
    """``PRAGMA user_version`` of a ledger file, read without migrating it."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


async def stored(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(jobs, rejected events) of the ledger at ``path`` as the Ledger API returns them."""
    ledger = ledger_from_url(f"sqlite:///{path}")
    await ledger.open()
    try:
        jobs = [
            {"key": j.key, "kind": j.kind.value, "state": j.state.value, "payload": j.payload}
            for j in await _all_jobs(ledger)
        ]
        rejected = [
            {"source": r["source"], "reason": r["reason"], "raw": r["raw"]}
            for r in sorted(await ledger.list_rejected(limit=1000), key=lambda r: int(r["id"]))
        ]
    finally:
        await ledger.close()
    return jobs, rejected


def _copy_into(fixture: Path, root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(fixture, root / "ledger.db")


async def run_to_completion(fixture: Path, root: Path, emu: EmulatorHandle) -> dict[str, Any]:
    """Copy ``fixture`` to ``root/ledger.db``, run the bridge over it until idle (no new
    events) and summarise what it delivered: only what is stable from run to run."""
    _copy_into(fixture, root)
    await run_bridge(settings(emu, root), write_events(root / "events.jsonl", []))
    ledger = ledger_from_url(f"sqlite:///{root}/ledger.db")
    await ledger.open()
    try:
        states = {j.key: j.state.value for j in await _all_jobs(ledger)}
    finally:
        await ledger.close()
    sidecars = sorted(
        (
            {
                "key": s["key"],
                "kind": s["kind"],
                "roles": sorted(f["role"] for f in s["files"]),
            }
            for s in delivered_sidecars(root)
        ),
        key=lambda s: str(s["key"]),
    )
    return {
        "states": states,
        "sidecars": sidecars,
        "nlp_keys": sorted(str(r["key"]) for r in nlp_records(root)),
    }


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


async def generate(out: Path) -> None:
    db = out / "ledger.db"
    with tempfile.TemporaryDirectory() as tmp:
        learned_root = Path(tmp) / "learn"
        learned_root.mkdir()
        jobs, rejected = await learn(learned_root)
        await write_fixture(db, jobs, rejected, learned_root)
        stored_jobs, stored_rejected = await stored(db)
        _write_json(out / "jobs.json", {"schema_version": schema_version(db), "jobs": stored_jobs})
        _write_json(out / "rejected.json", stored_rejected)
        single_file(db)
        with running_emulator(emulator_config()) as emu:
            deliveries = await run_to_completion(db, Path(tmp) / "run", emu)
        _write_json(out / "deliveries.json", deliveries)
    print(f"wrote {out}: {len(stored_jobs)} jobs, {len(stored_rejected)} rejected events")


def main(out: Path) -> None:
    if (out / "ledger.db").exists():
        raise SystemExit(f"{out}/ledger.db exists: the fixture is frozen; write a new version")
    out.mkdir(parents=True, exist_ok=True)
    asyncio.run(generate(out))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else FIXTURE)
