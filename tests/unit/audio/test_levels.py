"""``audio.levels.frame_levels_db``: the per-frame levels ``voice.channels`` compares."""

from __future__ import annotations

import ast
import math
import wave
from pathlib import Path

import numpy as np
import pytest

from media_bridge.audio.levels import frame_levels_db

RATE = 8000


def _wav(path: Path, signal: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(RATE)
        writer.writeframes((signal * 32767).astype("<i2").tobytes())
    return path


def test_a_tone_then_silence_frame_by_frame(tmp_path: Path) -> None:
    """Half a second of a half-scale tone, then half a second of silence: 10 frames of 0.1 s,
    the tone's at its RMS level (-9 dBFS), the silent ones at the floor."""
    t = np.arange(RATE // 2) / RATE
    tone = 0.5 * np.sin(2 * np.pi * 400.0 * t)
    path = _wav(tmp_path / "a.wav", np.concatenate([tone, np.zeros(RATE // 2)]))
    levels = frame_levels_db(path, 0.1)
    assert levels.shape == (10,)
    assert levels[:5] == pytest.approx([20 * math.log10(0.5 / math.sqrt(2))] * 5, abs=0.1)
    assert levels[5:].tolist() == [-100.0] * 5


def test_voice_modules_import_no_io_library() -> None:
    """``voice/`` holds pure helpers: no decoder, network or process library is imported."""
    io_modules = {"av", "httpx", "aiohttp", "boto3", "aiokafka", "subprocess", "socket"}
    voice = Path(__file__).parents[3] / "src" / "media_bridge" / "voice"
    found: list[str] = []
    for module in sorted(voice.glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            found += [f"{module.name}: {n}" for n in names if n.split(".")[0] in io_modules]
    assert found == []
