"""The AudioHook dir sink never writes through a symlink planted at its old fixed temp name."""

from __future__ import annotations

from pathlib import Path

from media_bridge.audiohook.sinks import _atomic_copy, _atomic_write_bytes


def test_sidecar_write_ignores_a_planted_temp_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"untouched")
    folder = tmp_path / "conv"
    folder.mkdir()
    (folder / ".s.json.tmp").symlink_to(victim)
    _atomic_write_bytes(folder / "s.json", b"{}")
    assert victim.read_bytes() == b"untouched"
    assert (folder / "s.json").read_bytes() == b"{}"
    assert (folder / "s.json").stat().st_mode & 0o777 == 0o600


def test_wav_copy_ignores_a_planted_temp_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"untouched")
    src = tmp_path / "in.wav"
    src.write_bytes(b"RIFF")
    folder = tmp_path / "conv"
    folder.mkdir()
    (folder / ".s.wav.tmp").symlink_to(victim)
    _atomic_copy(src, folder / "s.wav")
    assert victim.read_bytes() == b"untouched"
    assert (folder / "s.wav").read_bytes() == b"RIFF"
