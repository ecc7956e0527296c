"""``voice.polling.not_ready_delay_s``: the one wait before polling again."""

from __future__ import annotations

import pytest

from media_bridge.voice.polling import not_ready_delay_s
from media_bridge.voice.settings import VoiceSettings

VOICE = VoiceSettings(poll_initial_s=5.0, poll_max_s=120.0)


@pytest.mark.parametrize(
    ("age_s", "expected"), [(0.0, 5.0), (10.0, 5.0), (100.0, 25.0), (480.0, 120.0), (1e9, 120.0)]
)
def test_a_quarter_of_the_age_between_the_bounds(age_s: float, expected: float) -> None:
    assert not_ready_delay_s(VOICE, age_s) == expected
