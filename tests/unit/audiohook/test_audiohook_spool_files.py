"""The AudioHook spool (whole-call WAVs grown chunk by chunk, chunk WAVs handed to the
sink) is written ``0600`` in ``0700`` folders and never through a planted symlink."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from media_bridge.audiohook.delivery import SessionDelivery, write_wav
from media_bridge.audiohook.recorder import FinishedChunk

RATE = 8000


class ModeSink:
    """Records each delivered WAV's mode and bytes while the spool still holds it."""

    name = "modes"

    def __init__(self) -> None:
        self.seen: list[tuple[str, int, bytes]] = []
        self.folders: set[int] = set()

    def _look(self, kind: str, wav_path: Path) -> dict[str, Any]:
        self.seen.append((kind, wav_path.stat().st_mode & 0o777, wav_path.read_bytes()))
        self.folders.add(wav_path.parent.stat().st_mode & 0o777)
        return {}

    async def deliver_chunk(self, meta: dict[str, Any], wav_path: Path) -> dict[str, Any]:
        return self._look("chunk", wav_path)

    async def deliver_final(self, meta: dict[str, Any], wav_path: Path) -> dict[str, Any]:
        return self._look("final", wav_path)

    async def close(self) -> None:
        return None


@pytest.fixture(autouse=True)
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _chunk(index: int) -> FinishedChunk:
    samples = np.full(800, 1000 + index, dtype=np.int16)
    return FinishedChunk("external", index, samples, [], 0.1, 0.1)


async def test_planted_symlinks_in_the_spool_are_replaced_not_followed(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    session = spool / "s-1"
    session.mkdir(parents=True)
    victims = {name: tmp_path / f"victim-{name}" for name in ("full", "chunk")}
    for victim in victims.values():
        victim.write_bytes(b"untouched")
    (session / "external-full.wav").symlink_to(victims["full"])
    (session / "external-chunk-00000.wav").symlink_to(victims["chunk"])
    sink = ModeSink()
    delivery = SessionDelivery(sink, spool, "s-1", RATE, deliver_chunks_for={"external"})
    delivery.start()

    await delivery.submit(_chunk(0), {"kind": "chunk"})
    await delivery.submit(_chunk(1), {"kind": "chunk"})
    await delivery.finish({"external": {"kind": "final"}})

    assert {name: v.read_bytes() for name, v in victims.items()} == dict.fromkeys(
        victims, b"untouched"
    )
    assert [(kind, mode) for kind, mode, _ in sink.seen] == [
        ("chunk", 0o600),
        ("chunk", 0o600),
        ("final", 0o600),
    ]
    final = sink.seen[-1][2]
    assert len(final) == 44 + 2 * 1600  # both chunks, header sealed with their size
    assert int.from_bytes(final[40:44], "little") == 3200
    assert not session.exists()  # delivered: the spool is gone


async def test_the_session_folder_is_private_while_the_call_runs(tmp_path: Path) -> None:
    session = tmp_path / "s-2"
    session.mkdir(mode=0o755)  # left by an earlier run, or made by someone else
    sink = ModeSink()
    delivery = SessionDelivery(sink, tmp_path, "s-2", RATE, deliver_chunks_for=set())
    delivery.start()
    await delivery.submit(_chunk(0), {"kind": "chunk"})
    await delivery.finish({"external": {"kind": "final"}})
    assert [(kind, mode) for kind, mode, _ in sink.seen] == [("final", 0o600)]
    assert sink.folders == {0o700}


def test_write_wav_makes_a_private_file_and_replaces_a_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"untouched")
    wav = tmp_path / "out.wav"
    wav.symlink_to(victim)
    write_wav(wav, np.zeros(160, dtype=np.int16), RATE)
    assert victim.read_bytes() == b"untouched"
    assert not wav.is_symlink()
    assert wav.stat().st_mode & 0o777 == 0o600
