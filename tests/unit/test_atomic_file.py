"""``files.atomic_file``: the one atomic write (private, fsynced, renamed into place)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from media_bridge.files import atomic_file, write_private


def fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    seen: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        seen.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    return seen


def test_write_private_is_fsynced_private_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = fsyncs(monkeypatch)
    target = tmp_path / "out.json"
    write_private(target, b"{}")
    assert target.read_bytes() == b"{}"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert len(seen) == 1
    assert os.listdir(tmp_path) == ["out.json"]


def test_an_error_keeps_the_old_file_and_removes_the_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_bytes(b"old")

    def half_written() -> None:
        with atomic_file(target) as handle:
            handle.write(b"half")
            raise RuntimeError("disk went away")

    with pytest.raises(RuntimeError):
        half_written()
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_a_planted_symlink_is_replaced_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep")
    target = tmp_path / "out"
    target.symlink_to(victim)
    write_private(target, b"new")
    assert victim.read_bytes() == b"keep"
    assert not target.is_symlink()
    assert target.read_bytes() == b"new"


def test_relative_to_a_folder_descriptor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = fsyncs(monkeypatch)
    folder = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        write_private("a.bin", b"x", dir_fd=folder)
    finally:
        os.close(folder)
    assert (tmp_path / "a.bin").read_bytes() == b"x"
    assert len(seen) == 1
    assert os.listdir(tmp_path) == ["a.bin"]
