"""Consent end to end over real sockets: refusing customers' clips are never downloaded,
a late grant delivers the held clip, verdicts are counted and named, and a client without
the contact permission fails with the permission named."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from genesys_emulator.config import (
    NO_MESSAGE_PERMS_CLIENT_ID,
    NO_MESSAGE_PERMS_CLIENT_SECRET,
    EmulatorConfig,
    ScenarioConfig,
)
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import EmulatorHandle, running_emulator
from media_bridge.ledger import ledger_from_url
from media_bridge.types import Job, JobKind, JobState
from tests.integration.bridge.harness import (
    bridge_settings,
    delivered_sidecars,
    run_bridge,
    write_events,
)

pytestmark = pytest.mark.integration

ANSWERS = ("granted", "refused", "late", "none")
FAST_HOLD = {"hold_max_s": 2.5, "recheck_s": 0.3}


def scenario(**changes: Any) -> EmulatorConfig:
    return EmulatorConfig(
        scenario=ScenarioConfig(
            seed=4,
            messaging_conversations=0,
            voice_conversations=0,
            voice_note_seconds=2.0,
            **changes,
        )
    )


def assign_answers(emu: EmulatorHandle) -> dict[str, str]:
    """Eight customers with one voice note each: every kind of answer twice.

    Returns conversation id -> the customer's consent."""
    answers: dict[str, str] = {}
    for index, answer in zip(range(8), itertools.cycle(ANSWERS), strict=False):
        channel = "whatsapp" if index % 2 else "webmessaging"
        conversation = emu.add_messaging_conversation(channel, kinds=("ogg_opus",))
        conversation.consent = answer
        answers[conversation.id] = answer
    return answers


def media_fetches(emu: EmulatorHandle) -> Counter[str]:
    """Download-link and storage requests per conversation: what was really fetched."""
    fetched: Counter[str] = Counter()
    links = emu.state.downloads
    for row in emu.stats()["requests"]:
        path = row["path"]
        if path.startswith("/api/v2/downloads/"):
            link = links.get(path.rsplit("/", 1)[-1])
            key = link.object_key if link is not None else ""
        elif path.startswith("/media/"):
            key = path.removeprefix("/media/")
        else:
            continue
        parts = key.split("/")
        if len(parts) > 1 and parts[0] == "attachments":
            fetched[parts[1]] += row["count"]
    return fetched


async def run(emu: EmulatorHandle, root: Path, **settings: Any) -> dict[JobState, int]:
    events = write_events(root / "events.jsonl", scenario_events(emu.state, "message"))
    config = bridge_settings(emu, root, **settings)
    counts, _ = await run_bridge(config, events)
    return counts


async def ledger_jobs(root: Path, state: JobState | None = None) -> list[Job]:
    ledger = ledger_from_url(f"sqlite:///{root}/ledger.db")
    await ledger.open()
    try:
        return await ledger.list_jobs(state, limit=1000)
    finally:
        await ledger.close()


async def audio_results(root: Path) -> dict[str, dict[str, Any]]:
    return {
        job.payload["conversation_id"]: {"state": job.state, **(job.result or {})}
        for job in await ledger_jobs(root)
        if job.kind is JobKind.ATTACHMENT
    }


@pytest.mark.parametrize("mode", ["participant_attribute", "external_contact"])
async def test_only_consenting_customers_are_downloaded_and_delivered(
    tmp_path: Path, mode: str
) -> None:
    with running_emulator(scenario()) as emu:
        answers = assign_answers(emu)
        counts = await run(emu, tmp_path, consent={"mode": mode, **FAST_HOLD})
        fetched = media_fetches(emu)
    assert counts[JobState.DEAD] == 0, counts

    delivered = {s["conversation_id"]: s for s in delivered_sidecars(tmp_path)}
    consenting = {c for c, a in answers.items() if a in ("granted", "late")}
    assert set(delivered) == consenting
    expected_source = "conversation" if mode == "participant_attribute" else "external_contact"
    for conversation_id, sidecar in delivered.items():
        consent = sidecar["metadata"]["consent"]
        assert consent["verdict"] == "granted"
        if answers[conversation_id] == "late":  # held, then granted on a re-check
            assert consent["source"] == expected_source
    # the refusing and silent customers' clips were never fetched, not even once
    for conversation_id, answer in answers.items():
        if answer in ("refused", "none"):
            assert fetched[conversation_id] == 0, (answer, fetched)
        else:
            assert fetched[conversation_id] >= 1

    results = await audio_results(tmp_path)
    assert set(results) == set(answers)  # every customer sent a voice note
    verdicts = Counter(results[c]["consent"]["verdict"] for c in answers)
    assert verdicts == {"granted": 4, "refused": 4}
    sources = {results[c]["consent"]["source"] for c, a in answers.items() if a == "none"}
    assert sources == {"hold_timeout"}
    assert {results[c]["state"] for c in answers} == {JobState.DONE}


async def test_a_client_without_the_contact_permission_fails_naming_it(tmp_path: Path) -> None:
    with running_emulator(scenario()) as emu:
        assign_answers(emu)
        events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state, "message"))
        settings = bridge_settings(
            emu,
            tmp_path,
            genesys={
                "client_id": NO_MESSAGE_PERMS_CLIENT_ID,
                "client_secret": NO_MESSAGE_PERMS_CLIENT_SECRET,
            },
            consent={"mode": "external_contact", **FAST_HOLD},
            fetch={"media_types": ["Audio"]},
        )
        counts, _ = await run_bridge(settings, events)
        fetched = media_fetches(emu)
    assert counts[JobState.DEAD] >= 8, counts
    assert not delivered_sidecars(tmp_path)
    assert sum(fetched.values()) == 0
    dead = await ledger_jobs(tmp_path, JobState.DEAD)
    attachments = [j for j in dead if j.kind is JobKind.ATTACHMENT]
    assert len(attachments) == 8
    assert all("externalContacts:contact:view" in (j.last_error or "") for j in attachments)


async def test_call_recordings_of_refusing_callers_are_never_read_or_fetched(
    tmp_path: Path,
) -> None:
    config = EmulatorConfig(
        scenario=ScenarioConfig(
            seed=9,
            messaging_conversations=0,
            voice_conversations=2,
            call_seconds=4.0,
            returning_caller=False,
        )
    )
    with running_emulator(config) as emu:
        granted, refused = emu.conversations()
        granted.consent, refused.consent = "granted", "refused"
        events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state, "detail"))
        settings = bridge_settings(
            emu,
            tmp_path,
            voice={"recording_delay_s": 0.0, "poll_initial_s": 0.1, "poll_max_s": 0.3},
            consent={"mode": "participant_attribute", **FAST_HOLD},
        )
        counts, _ = await run_bridge(settings, events)
        paths = [row["path"] for row in emu.stats()["requests"]]
    assert counts[JobState.DEAD] == 0, counts
    recordings = [s for s in delivered_sidecars(tmp_path) if s["kind"] == "recording"]
    assert [s["conversation_id"] for s in recordings] == [granted.id]
    assert recordings[0]["metadata"]["consent"]["verdict"] == "granted"
    # from the conversation read the recordings job made anyway: no read of its own
    assert recordings[0]["metadata"]["consent"]["source"] == "conversation"
    rid = refused.recordings[0].id
    assert not [p for p in paths if rid in p]  # neither the recording nor its media
    assert [p for p in paths if granted.recordings[0].id in p]
