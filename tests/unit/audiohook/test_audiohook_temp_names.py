"""The AudioHook dir sink never writes through a symlink planted at its old fixed temp name."""

from __future__ import annotations

from pathlib import Path

import pytest

from media_bridge.audiohook.sinks import DirChunkSink, _atomic_copy
from media_bridge.files import SymlinkRefused, write_private


def test_sidecar_write_ignores_a_planted_temp_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"untouched")
    folder = tmp_path / "conv"
    folder.mkdir()
    (folder / ".s.json.tmp").symlink_to(victim)
    write_private(folder / "s.json", b"{}")
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


async def test_the_dir_sink_keeps_its_folders_private_and_refuses_a_symlinked_one(
    tmp_path: Path,
) -> None:
    src = tmp_path / "in.wav"
    src.write_bytes(b"RIFF")
    sink = DirChunkSink(tmp_path / "out")
    meta = {"conversationId": "conv-1", "sessionId": "s-1", "channel": "external", "seq": 1}
    await sink.deliver_chunk(meta, src)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "out" / "conv-1").stat().st_mode & 0o777 == 0o700
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out" / "conv-2").symlink_to(elsewhere)
    with pytest.raises(SymlinkRefused):
        await sink.deliver_chunk({**meta, "conversationId": "conv-2"}, src)
    assert list(elsewhere.iterdir()) == []
