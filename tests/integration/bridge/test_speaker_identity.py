"""Whose voice it is, end to end over real sockets: every audio delivery names its speaker,
every NLP record carries the same key, one person on two channels gets one key, and with
pseudonymisation on no raw address reaches a delivery or a log line."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import EmulatorHandle, running_emulator
from media_bridge.ledger import ledger_from_url
from media_bridge.ledger.base import Ledger
from media_bridge.observability import configure_logging
from media_bridge.sinks.metadata import DeliveryMetadata
from media_bridge.types import JobState
from tests.integration.bridge.harness import (
    bridge_settings,
    delivered_sidecars,
    nlp_records,
    run_bridge,
    write_events,
)

pytestmark = pytest.mark.integration

SECRET = "test-pseudonym-secret"
FAST_POLLS = {"recording_delay_s": 0.0, "poll_initial_s": 0.1, "poll_max_s": 0.3}


def scenario() -> EmulatorConfig:
    # whatsapp first: its customer is the returning caller of the first call
    return EmulatorConfig(
        scenario=ScenarioConfig(
            seed=11,
            messaging_conversations=4,
            voice_conversations=2,
            call_seconds=6.0,
            voice_note_seconds=3.0,
            attachments_per_conversation=2,
        )
    )


async def run(
    emu: EmulatorHandle, root: Path, ledger: dict[str, Any] | None = None, **identity: Any
) -> dict[JobState, int]:
    events = write_events(root / "events.jsonl", scenario_events(emu.state))
    extra = {"ledger": ledger} if ledger else {}
    settings = bridge_settings(emu, root, voice=FAST_POLLS, identity=identity, **extra)
    counts, _ = await run_bridge(settings, events)
    return counts


def platform_requests(emu: EmulatorHandle) -> Counter[str]:
    """Platform API requests by path (the token endpoint and storage excluded; download
    link ids, which are random, as ``{id}``)."""
    found: Counter[str] = Counter()
    for row in emu.stats()["requests"]:
        if row["path"].startswith("/api/v2/"):
            found[re.sub(r"^/api/v2/downloads/.+", "/api/v2/downloads/{id}", row["path"])] += row[
                "count"
            ]
    return found


def audio_sidecars(root: Path) -> list[dict[str, Any]]:
    return [s for s in delivered_sidecars(root) if s["kind"] in ("attachment", "recording")]


def delivered_texts(root: Path) -> dict[str, str]:
    """Every sidecar and the NLP file, by path."""
    paths = [*sorted((root / "out").rglob("*.json")), root / "nlp.jsonl"]
    return {str(p): p.read_text(encoding="utf-8") for p in paths}


def raw_identifiers(emu: EmulatorHandle) -> set[str]:
    """Every customer address, phone digits, name and external contact id the org holds."""
    found: set[str] = set()
    for conversation in emu.conversations():
        address = conversation.customer_address.removeprefix("tel:")
        found |= {address, address.lstrip("+"), conversation.customer_name}
        found.add(conversation.external_contact_id)
    return {value for value in found if value}


async def test_every_delivery_names_its_speaker_and_one_person_has_one_key(
    tmp_path: Path,
) -> None:
    with running_emulator(scenario()) as emu:
        counts = await run(emu, tmp_path)
        requests = platform_requests(emu)
        conversations = {c.id: c for c in emu.conversations()}
    assert counts[JobState.DEAD] == 0, counts

    sidecars = audio_sidecars(tmp_path)
    assert {s["kind"] for s in sidecars} == {"attachment", "recording"}
    key_of: dict[str, str] = {}
    for sidecar in sidecars:
        meta = sidecar["metadata"]
        DeliveryMetadata.model_validate(meta)  # the published contract
        speaker = meta["speaker"]
        conversation = conversations[sidecar["conversation_id"]]
        assert speaker["role"] == "customer"
        assert speaker["key_scope"] == "person"
        assert speaker["address"] or speaker["external_contact_id"]
        assert speaker["key"] == f"ext:{conversation.external_contact_id}"
        key_of[conversation.channel] = speaker["key"]
        if sidecar["kind"] == "recording":
            assert meta["speakers"]["customer"] == speaker
            assert meta["speakers"]["agent"]["key"] == f"user:{conversation.user_id}"
            number = conversation.customer_address.removeprefix("tel:")
            assert f"tel:{number}" in speaker["aliases"]

    whatsapp = next(c for c in conversations.values() if c.channel == "whatsapp")
    calls = [c for c in conversations.values() if c.channel == "voice"]
    returning = [c for c in calls if c.customer_address == f"tel:{whatsapp.customer_address}"]
    assert len(returning) == 1
    call_keys = {
        s["metadata"]["speaker"]["key"] for s in sidecars if s["conversation_id"] == returning[0].id
    }
    whatsapp_keys = {
        s["metadata"]["speaker"]["key"] for s in sidecars if s["conversation_id"] == whatsapp.id
    }
    assert call_keys == whatsapp_keys == {f"ext:{whatsapp.external_contact_id}"}

    records = nlp_records(tmp_path)
    assert {r.get("source") for r in records} >= {None, "speech_text_analytics"}
    # the calls' real-time transcription events (v2.conversations.{id}.transcription) name
    # no participant: their utterances are keyed per conversation, not per person
    realtime = [r for r in records if "utterance_id" in r]
    assert realtime
    for record in realtime:
        assert record["speaker_key"].startswith(f"conversation:{record['conversation_id']}:")
    for record in records:
        if "utterance_id" in record:
            continue
        conversation = conversations[record["conversation_id"]]
        assert record["schema_version"] == 2
        if record.get("speaker") == "agent":
            assert record["speaker_key"] == f"user:{conversation.user_id}"
        else:
            assert record["speaker_key"] == f"ext:{conversation.external_contact_id}"

    # who spoke costs no request: nothing is read that the path did not read before
    assert not [p for p in requests if "/externalcontacts/" in p or "/users/" in p]
    conversation_reads = [p for p in requests if re.fullmatch(r"/api/v2/conversations/[^/]+", p)]
    assert sorted(conversation_reads) == sorted(f"/api/v2/conversations/{c.id}" for c in calls)
    assert all(requests[p] == 1 for p in conversation_reads)


async def ledger_texts(url: str) -> dict[str, str]:
    """Every jobs and rejected_events row, as text (payloads, results, errors, raw bodies)."""
    ledger = ledger_from_url(url)
    await ledger.open()
    try:
        jobs = await ledger.list_jobs(limit=100_000)
        rejected = await ledger.list_rejected(limit=100_000)
    finally:
        await ledger.close()
    found = {
        f"job {j.key}": json.dumps([j.payload, j.result, j.last_error], ensure_ascii=False)
        for j in jobs
    }
    found.update({f"rejected {r['id']}": str(r["raw"]) for r in rejected})
    return found


async def test_pseudonymised_runs_show_no_raw_address_and_cost_the_same_requests(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    any_ledger: Ledger,
    any_ledger_url: str,
) -> None:
    """Deliveries, log lines and (with done jobs scrubbed at once) ledger rows, on SQLite
    and PostgreSQL."""
    plain_root, hidden_root = tmp_path / "plain", tmp_path / "hidden"
    plain_root.mkdir()
    hidden_root.mkdir()
    with running_emulator(scenario()) as emu:
        await run(emu, plain_root)
        plain_requests = platform_requests(emu)
    configure_logging("DEBUG", json=True)
    try:
        with running_emulator(scenario()) as emu:
            counts = await run(
                emu,
                hidden_root,
                {"url": any_ledger_url, "tombstone_after_s": 0},
                pseudonymize_secret=SECRET,
                key_version="test-1",
            )
            hidden_requests = platform_requests(emu)
            raw = raw_identifiers(emu)
            conversations = {c.id: c for c in emu.conversations()}
        logs = capsys.readouterr().err
    finally:
        configure_logging("WARNING")
    assert counts[JobState.DEAD] == 0, counts
    # pseudonymising costs no request. One known difference: with done jobs scrubbed at once,
    # a transcript job planned from SESSION_ENDED that looks after the call's recording file
    # jobs are done cannot see the speakers they mapped, and reads the conversation itself
    # (at most once per call; docs/voice.md, known gaps). Which of the two runs meets that
    # timing depends on when the transcript job is claimed, so either run may read once more
    reads = {p for p in hidden_requests if re.fullmatch(r"/api/v2/conversations/[^/]+", p)}
    extra = {p: hidden_requests[p] - plain_requests[p] for p in reads}
    assert all(n in (-1, 0, 1) for n in extra.values()), extra
    same = {p: n for p, n in hidden_requests.items() if p not in reads}
    assert same == {p: n for p, n in plain_requests.items() if p not in reads}

    sidecars = audio_sidecars(hidden_root)
    assert sidecars
    for sidecar in sidecars:
        speaker = sidecar["metadata"]["speaker"]
        assert speaker["pseudonymized"] is True
        assert speaker["key_version"] == "test-1"
        assert re.fullmatch(r"[0-9a-f]{64}", speaker["key"])
    # the returning caller: one pseudonymous key on WhatsApp and on the call
    by_number: dict[str, set[str]] = {}
    for sidecar in sidecars:
        number = conversations[sidecar["conversation_id"]].customer_address.removeprefix("tel:")
        by_number.setdefault(number, set()).add(sidecar["metadata"]["speaker"]["key"])
    assert any(len(keys) == 1 for keys in by_number.values())

    assert logs.count("\n") > 10  # the run logged (JSON lines at DEBUG)
    hidden = delivered_texts(hidden_root) | {"logs": logs} | await ledger_texts(any_ledger_url)
    leaks = {(where, value) for where, text in hidden.items() for value in raw if value in text}
    assert not leaks, sorted(leaks)[:5]
    # the same grep finds them in the plain run: it can fail
    plain = delivered_texts(plain_root)
    assert {value for text in plain.values() for value in raw if value in text}
    # and an unscrubbed ledger holds them while its done jobs keep their payloads
    plain_ledger = await ledger_texts(f"sqlite:///{plain_root}/ledger.db")
    assert {value for text in plain_ledger.values() for value in raw if value in text}
