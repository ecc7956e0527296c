"""What each delivery says of its speaker's enrolment progress, against a real SQLite
ledger: counted when delivered, read only when held locally, null without audio."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from media_bridge.audio import AudioReport, AudioSettings, normalize
from media_bridge.config import Settings
from media_bridge.ledger import SqliteLedger
from media_bridge.worker.context import HandlerContext
from media_bridge.worker.handlers import enrolment
from media_bridge.worker.handlers.speech_gate import GateDecision
from tests.unit.audio.audio_signals import FORMATS, encode, speech_like
from tests.unit.handlers.fakes import handler_context


@pytest.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[HandlerContext]:
    ledger = SqliteLedger(tmp_path / "ledger.db")
    await ledger.open()
    settings = Settings(audio=AudioSettings(enrolment_min_speech_s=8.0))
    yield dataclasses.replace(handler_context(tmp_path, settings).ctx, ledger=ledger)
    await ledger.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> AudioReport:
    root = tmp_path_factory.mktemp("clip")
    src = encode(root / "in.wav", speech_like(10.0, 16000), FORMATS["wav_pcm"])
    return normalize(src, root / "out.wav", AudioSettings())


def speaker(scope: str = "person") -> dict[str, Any]:
    key = "ext:alice" if scope == "person" else "participant:p1"
    return {"role": "customer", "key": key, "key_scope": scope}


def gate(action: str, report: AudioReport) -> GateDecision:
    return GateDecision(action, None, "attachment", report)  # type: ignore[arg-type]


async def test_delivered_clips_add_up_and_a_held_clip_only_reads(
    ctx: HandlerContext, report: AudioReport
) -> None:
    net = report.speech.net_speech_s
    assert 5.0 < net < 8.0
    first = speaker()
    await enrolment.annotate(ctx, first, "attachment:c:m1:a", report, gate("delivered", report))
    assert first["clips"] == 1
    assert first["net_speech_total_s"] == pytest.approx(net)
    assert first["enrolment_ready"] is False
    held = speaker()
    await enrolment.annotate(ctx, held, "attachment:c:m2:a", report, gate("hold_local", report))
    assert (held["clips"], held["enrolment_ready"]) == (1, False)  # stated, not added
    second = speaker()
    await enrolment.annotate(ctx, second, "attachment:c:m3:a", report, gate("delivered", report))
    assert second["clips"] == 2
    assert second["net_speech_total_s"] == pytest.approx(2 * net, abs=0.002)
    assert second["enrolment_ready"] is True
    again = speaker()  # the first job run once more
    await enrolment.annotate(ctx, again, "attachment:c:m1:a", report, gate("delivered", report))
    assert again == second


async def test_conversation_scope_counts_but_is_never_ready(
    ctx: HandlerContext, report: AudioReport
) -> None:
    for n in range(3):
        meta = speaker("conversation")
        await enrolment.annotate(
            ctx, meta, f"attachment:c:m{n}:a", report, gate("delivered", report)
        )
    assert meta["clips"] == 3
    assert meta["net_speech_total_s"] > 8.0
    assert meta["enrolment_ready"] is False


async def test_without_an_audio_report_the_fields_stay_unset(ctx: HandlerContext) -> None:
    meta = speaker()
    no_audio = GateDecision("delivered", None, "attachment", None)
    await enrolment.annotate(ctx, meta, "attachment:c:m1:a", None, no_audio)
    assert meta == speaker()
