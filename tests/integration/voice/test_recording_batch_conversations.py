"""A backfill resolves each call's recordings with one ``{conversationId}`` batch entry:
no recordings listing, and (where the settings need nothing else) no conversation read;
every recording delivered once under its recording key, with the same speakers as the
per-recording path, and a second backfill delivers nothing again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.routes import batch as emulator_batch
from genesys_emulator.state import Recording
from genesys_emulator.testing import EmulatorHandle, running_emulator
from tests.integration.bridge.harness import delivered_sidecars
from tests.integration.voice.test_backfill import backfill, media_gets, write_config
from tests.integration.voice.test_recording_batch import _interval, api_requests

pytestmark = pytest.mark.integration

CALLS = 10
ERROR_SHARE = 0.25
LISTING = "/api/v2/conversations/{id}/recordings"
READ = "/api/v2/conversations/{id}"
ONE = "/api/v2/conversations/{id}/recordings/{id}"
#: what the delivered metadata says about who spoke
SPEAKER_FIELDS = ("speaker", "speakers", "ani", "dnis", "customer_participant_id")


def _second_recording(emu: EmulatorHandle) -> tuple[str, str]:
    """The first call gets a second recording (the same file): a conversation entry must
    give both."""
    call = sorted(emu.conversations(), key=lambda c: c.start)[0]
    first = call.recordings[0]
    second = Recording(**{**vars(first), "id": "f" * 32})
    with emu.state.lock:
        call.recordings.append(second)
    return call.id, second.id


#: who a speaker is (not the enrolment progress, which depends on delivery order)
IDENTITY = (
    "role",
    "key",
    "key_scope",
    "key_source",
    "aliases",
    "address",
    "display_name",
    "external_contact_id",
    "platform",
    "participant_id",
    "user_id",
)


def _who(value: Any) -> Any:
    if isinstance(value, dict) and "key" in value:
        return {f: value.get(f) for f in IDENTITY}
    if isinstance(value, dict):
        return {k: _who(v) for k, v in value.items()}
    return value


def _speakers(root: Path) -> dict[str, dict[str, Any]]:
    return {
        s["key"]: {f: _who(s["metadata"].get(f)) for f in SPEAKER_FIELDS}
        for s in delivered_sidecars(root)
    }


@pytest.mark.parametrize("transcripts", [False, True], ids=["analytics_facts", "read"])
def test_a_backfill_resolves_whole_conversations_without_listing_them(
    tmp_path: Path, capsys: Any, transcripts: bool
) -> None:
    config = EmulatorConfig(
        scenario=ScenarioConfig(
            seed=31, messaging_conversations=0, voice_conversations=CALLS, call_seconds=3.0
        ),
        batch_error_share=ERROR_SHARE,
    )
    with running_emulator(config) as emu:
        _second_recording(emu)
        calls = emu.conversations()
        pairs = {(c.id, r.id) for c in calls for r in c.recordings}
        failed = {p for p in pairs if emulator_batch._share(*p, "error") < ERROR_SHARE}
        assert failed  # the seed shows the fallback
        assert len(failed) < len(pairs)
        since, until = _interval(emu)
        batch_root, plain_root = tmp_path / "batch", tmp_path / "plain"
        batch_root.mkdir()
        plain_root.mkdir()
        batch_config = write_config(
            emu, batch_root, recording_batch_linger_s=0.3, transcripts=transcripts
        )
        first = backfill(batch_config, since, until, capsys)
        requests = api_requests(emu)
        gets = media_gets(emu)
        transcripts_found = sum(
            row["count"]
            for row in emu.stats()["requests"]
            if row["path"].endswith("/transcripturl") and row["status"] == 200
        )
        second = backfill(batch_config, since, until, capsys)
        requests_second = api_requests(emu)
        gets_second = media_gets(emu)
        # the same calls through today's per-recording path, into another ledger and sink
        plain_config = write_config(emu, plain_root, recording_batch=False, transcripts=False)
        backfill(plain_config, since, until, capsys)

    # every recording delivered, once, under its recording key
    keys = sorted(s["key"] for s in delivered_sidecars(batch_root))
    assert keys == sorted(f"recording:{c}:{r}" for c, r in pairs)
    # one download each (the added recording shares the first one's file: two)
    audio = [n for path, n in gets.items() if "/transcripts/" not in path]
    assert sorted(audio) == [1] * (len(pairs) - 2) + [2], gets
    # no listing; only the failed results read their recording on their own
    assert requests[LISTING] == 0
    assert requests[ONE] == len(failed)
    assert requests["/api/v2/recording/batchrequests"] == 1  # 10 conversations: one request
    counts = first["recording_batch"]
    assert counts["conversations_resolved"] == CALLS
    assert counts["served"] == len(pairs) - len(failed)
    assert counts["fallback_error"] == len(failed)
    assert not any(k.startswith("conversations_listed_") for k in counts), counts
    if transcripts:  # the transcript job needs calls[].id: the conversation is read
        assert counts["calls_read"] == CALLS
        assert requests[READ] == CALLS
        # each planned under calls[].id, the key the live path gives it, and found
        assert transcripts_found == CALLS
    else:  # the analytics answer said who is on the call
        assert counts["calls_from_analytics"] == CALLS
        assert requests[READ] == 0
    # the same speakers as the per-recording path (keys, pseudonyms, ani, dnis)
    assert _speakers(batch_root) == _speakers(plain_root)
    # a second backfill plans, reads and delivers nothing
    assert second["planned"] == 0
    assert second["recording_batch"] == {}
    assert gets_second == gets
    new = requests_second - requests
    assert set(new) == {"/api/v2/analytics/conversations/details/query"}, new


def test_an_unknown_conversation_is_listed_as_before(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Results naming no recording (here: the conversation is gone by the time the batch
    runs) are no answer: the job lists the conversation, as without the batch."""
    config = EmulatorConfig(
        scenario=ScenarioConfig(messaging_conversations=0, voice_conversations=3, call_seconds=3.0)
    )
    with running_emulator(config) as emu:
        since, until = _interval(emu)
        bridge_config = write_config(emu, tmp_path, recording_batch_linger_s=0.3)
        calls = sorted(emu.conversations(), key=lambda c: c.start)
        real = emulator_batch._expand

        def gone(state: Any, conversation_id: str, recording_id: str | None) -> Any:
            if conversation_id == calls[0].id:
                return [(conversation_id, None)]
            return real(state, conversation_id, recording_id)

        monkeypatch.setattr(emulator_batch, "_expand", gone)
        first = backfill(bridge_config, since, until, capsys)
        requests = api_requests(emu)
    counts = first["recording_batch"]
    assert counts["conversations_resolved"] == 2
    assert counts["conversations_listed_error"] == 1
    assert requests[LISTING] == 1
    # its recording had no batch result: read on its own, counted
    assert counts["fallback_missing"] == 1
    assert requests[ONE] == 1
    keys = sorted(s["key"] for s in delivered_sidecars(tmp_path))
    assert keys == sorted(f"recording:{c.id}:{c.recordings[0].id}" for c in calls)
