"""``voice.polling.not_ready_delay_s``: the one wait before polling again."""

from __future__ import annotations

import pytest

from media_bridge.voice.polling import (
    next_batch_poll_s,
    not_ready_delay_s,
    waiting_for_batch_s,
    waiting_on_ledger_s,
)
from media_bridge.voice.settings import VoiceSettings

VOICE = VoiceSettings(poll_initial_s=5.0, poll_max_s=120.0)


@pytest.mark.parametrize(
    ("age_s", "expected"), [(0.0, 5.0), (10.0, 5.0), (100.0, 25.0), (480.0, 120.0), (1e9, 120.0)]
)
def test_a_quarter_of_the_age_between_the_bounds(age_s: float, expected: float) -> None:
    assert not_ready_delay_s(VOICE, age_s) == expected


def test_a_job_waiting_on_the_ledger_asks_again_soon() -> None:
    assert waiting_on_ledger_s(VOICE) == 5.0


@pytest.mark.parametrize(("linger_s", "expected"), [(1.0, 5.0), (30.0, 30.0), (600.0, 120.0)])
def test_a_recording_waits_for_its_batch_to_linger(linger_s: float, expected: float) -> None:
    voice = VoiceSettings(poll_initial_s=5.0, poll_max_s=120.0, recording_batch_linger_s=linger_s)
    assert waiting_for_batch_s(voice) == expected


def test_the_batch_status_poll_doubles_up_to_the_cap() -> None:
    delays = [5.0]
    for _ in range(6):
        delays.append(next_batch_poll_s(delays[-1], 120.0))
    assert delays == [5.0, 10.0, 20.0, 40.0, 80.0, 120.0, 120.0]
