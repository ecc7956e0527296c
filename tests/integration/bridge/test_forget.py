"""Erasure and retention end to end over real sockets, on SQLite and PostgreSQL: one
person's files, NLP lines and jobs go; tombstones keep their events out; a second run and
a dry run change nothing; the erasure record reaches both sinks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import running_emulator
from media_bridge.erasure import Subject, forget
from media_bridge.identity import SpeakerDescriber
from media_bridge.ledger import ledger_from_url
from media_bridge.ledger.base import TOMBSTONE, Ledger
from media_bridge.ledger.retention import purge
from media_bridge.types import JobState
from tests.integration.bridge.harness import (
    bridge_settings,
    delivered_sidecars,
    nlp_records,
    run_bridge,
    write_events,
)

pytestmark = pytest.mark.integration

FAST_POLLS = {"recording_delay_s": 0.0, "poll_initial_s": 0.1, "poll_max_s": 0.3}


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix != ".db" and "-wal" not in p.name and "-shm" not in p.name
    }


async def jobs_by_conversation(url: str) -> dict[str, list[Any]]:
    ledger = ledger_from_url(url)
    await ledger.open()
    try:
        jobs = await ledger.list_jobs(limit=10_000)
    finally:
        await ledger.close()
    found: dict[str, list[Any]] = {}
    for job in jobs:
        conversation = job.key.split(":")[1]
        found.setdefault(conversation, []).append(job)
    return found


async def test_forget_a_person_everywhere_then_nothing_more(
    tmp_path: Path, any_ledger: Ledger, any_ledger_url: str
) -> None:
    config = EmulatorConfig(
        scenario=ScenarioConfig(
            seed=13, messaging_conversations=3, voice_conversations=1, call_seconds=4.0
        )
    )
    with running_emulator(config) as emu:
        conversations = emu.conversations()
        events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state))
        settings = bridge_settings(emu, tmp_path, voice=FAST_POLLS, ledger={"url": any_ledger_url})
        counts, _ = await run_bridge(settings, events)
        assert counts[JobState.DEAD] == 0, counts
        person = next(c for c in conversations if c.channel == "whatsapp")
        theirs = {
            c.id for c in conversations if c.external_contact_id == person.external_contact_id
        }
        assert len(theirs) == 2  # the WhatsApp conversation and the returning caller's call
        before = snapshot(tmp_path)
        before_nlp = nlp_records(tmp_path)
        assert {s["conversation_id"] for s in delivered_sidecars(tmp_path)} >= theirs
        subject = Subject.of(
            SpeakerDescriber(settings.identity), external_contact=person.external_contact_id
        )

        dry = await forget(settings, subject, dry_run=True)
        assert dry.removed["files"] > 0
        assert dry.removed["nlp_lines"] > 0
        assert dry.removed["jobs"] > 0
        assert snapshot(tmp_path) == before

        done = await forget(settings, subject)
        assert done.removed == dry.removed
        assert sorted(done.records_sent) == ["media:dir", "nlp:jsonl"]
        left = {s["conversation_id"] for s in delivered_sidecars(tmp_path)}
        assert not left & theirs
        assert left  # the others' deliveries stay
        records = nlp_records(tmp_path)
        assert not [r for r in records if r.get("conversation_id") in theirs]
        others = [r for r in before_nlp if r["conversation_id"] not in theirs]
        assert [r for r in records if r.get("kind") != "erasure"] == others
        (erasure,) = [r for r in records if r.get("kind") == "erasure"]
        assert erasure["external_contact"] == f"ext:{person.external_contact_id}"
        assert list((tmp_path / "out" / "_erasures").glob("erasure_*.json"))
        jobs = await jobs_by_conversation(any_ledger_url)
        for conversation_id in theirs:
            for job in jobs[conversation_id]:
                if job.payload != TOMBSTONE:  # only jobs with no personal data may stay
                    assert "speaker_facts" not in job.payload
                    assert "speakers" not in job.payload

        # a second run changes nothing, and the same events deliver nothing again
        after = snapshot(tmp_path)
        again = await forget(settings, subject)
        assert set(again.removed.values()) == {0}
        assert again.records_sent == []
        assert snapshot(tmp_path) == after
        await run_bridge(settings, events)
        assert not {s["conversation_id"] for s in delivered_sidecars(tmp_path)} & theirs


async def test_purge_tombstones_then_deletes_and_dry_runs_change_nothing(
    tmp_path: Path, any_ledger: Ledger, any_ledger_url: str
) -> None:
    config = EmulatorConfig(
        scenario=ScenarioConfig(seed=14, messaging_conversations=2, voice_conversations=0)
    )
    with running_emulator(config) as emu:
        events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state))
        settings = bridge_settings(emu, tmp_path, ledger={"url": any_ledger_url})
        await run_bridge(settings, events)
        delivered = len(delivered_sidecars(tmp_path))
        # the run kept done payloads (1 hour by default); the sweep takes them now
        now_settings = settings.ledger.model_copy(update={"tombstone_after_s": 0})
        ledger = ledger_from_url(any_ledger_url)
        await ledger.open()
        try:
            done = (await ledger.counts())[JobState.DONE]
            dry = await purge(ledger, now_settings, dry_run=True)
            assert dry.tombstoned == done
            assert (await ledger.scan_payloads(None, 10_000)) != []
            counts = await purge(ledger, now_settings)
            assert counts.tombstoned == done
            assert counts.done_deleted == 0
            assert await ledger.scan_payloads(None, 10_000) == []
            assert (await purge(ledger, now_settings)).tombstoned == 0
        finally:
            await ledger.close()
        # tombstones still refuse the same events
        await run_bridge(settings, events)
        assert len(delivered_sidecars(tmp_path)) == delivered
        ledger = ledger_from_url(any_ledger_url)
        await ledger.open()
        try:
            gone = await purge(ledger, settings.ledger, older_than_s=-60)
            assert gone.done_deleted == done
        finally:
            await ledger.close()


async def test_nlp_redaction_masks_phone_card_and_email(tmp_path: Path) -> None:
    config = EmulatorConfig(scenario=ScenarioConfig(seed=15, messaging_conversations=0))
    with running_emulator(config) as emu:
        conversation = emu.add_messaging_conversation("whatsapp", kinds=(), texts=1)
        inbound = next(m for m in conversation.messages if m.direction == "inbound")
        inbound.text = "I am on +44 7700 900123, card 4111 1111 1111 1111, a@b.example"
        events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state, "message"))
        settings = bridge_settings(emu, tmp_path, nlp={"redact": True})
        await run_bridge(settings, events)
    (record,) = [r for r in nlp_records(tmp_path) if r["message_id"] == inbound.id]
    assert record["text"] == "I am on [phone], card [card], [email]"
