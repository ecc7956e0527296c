"""Encoded inputs shared by the audio tests (generated once per session with PyAV)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.audio.audio_signals import FORMATS, encode, speech_like

FIXTURES = Path(__file__).parents[2] / "fixtures" / "audio"
#: the synthetic speech-like clip: 5 s, 0.9 s phrases every 1.25 s (3.6 s of voice)
CLIP_SECONDS = 5.0


@pytest.fixture(scope="session")
def encoded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One speech-like clip per input format."""
    folder = tmp_path_factory.mktemp("encoded")
    return {
        name: encode(folder / f"{name}{fmt.suffix}", speech_like(CLIP_SECONDS, fmt.rate), fmt)
        for name, fmt in FORMATS.items()
    }


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES
