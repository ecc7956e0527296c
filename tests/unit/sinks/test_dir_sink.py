"""The dir sink: safe generated names, sidecar, atomic and idempotent writes."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from media_bridge.errors import BadInput, DeliveryRejected, Transient
from media_bridge.sinks.dir import DirSink
from media_bridge.sinks.naming import delivery_stem
from media_bridge.types import DeliveredFile, Delivery, JobKind

CONV = "2f7bf00a-0fc2-4d6a-9b56-92238191433e"


def make_file(tmp_path: Path, name: str, data: bytes, role: str, mime: str) -> DeliveredFile:
    path = tmp_path / "work" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return DeliveredFile(role, path, mime, hashlib.sha256(data).hexdigest(), len(data))


def voice_delivery(tmp_path: Path, conversation_id: str = CONV, **meta: object) -> Delivery:
    original = make_file(tmp_path, "dl-1.tmp", b"OggS fake opus", "original", "audio/ogg")
    normalized = make_file(tmp_path, "dl-1.wav", b"RIFF fake wav", "normalized", "audio/wav")
    return Delivery(
        key=f"attachment:{conversation_id}:6a0b1c2d:3f2a7e1c-5b9d",
        kind=JobKind.ATTACHMENT,
        conversation_id=conversation_id,
        metadata={
            "name": "../../etc/passwd.ogg",
            "channel": "WhatsApp",
            "message_time": datetime(2026, 11, 24, 9, 12, tzinfo=UTC),
            **meta,
        },
        files=[original, normalized],
    )


async def test_files_and_sidecar_under_generated_names(tmp_path: Path) -> None:
    sink = DirSink(tmp_path / "out")
    delivery = voice_delivery(tmp_path)
    result = await sink.deliver(delivery)
    folder = tmp_path / "out" / CONV
    stem = "6a0b1c2d_3f2a7e1c-5b9d"
    assert result["files"] == [f"{stem}.original.ogg", f"{stem}.normalized.wav"]
    assert (folder / result["files"][0]).read_bytes() == b"OggS fake opus"
    assert (folder / result["files"][1]).read_bytes() == b"RIFF fake wav"
    sidecar = json.loads((folder / result["sidecar"]).read_text())
    assert sidecar["key"] == delivery.key
    assert sidecar["metadata"]["name"] == "../../etc/passwd.ogg"  # only as data
    assert sidecar["files"][0]["sha256"] == delivery.files[0].sha256
    assert sorted(p.name for p in folder.iterdir()) == sorted([*result["files"], result["sidecar"]])
    assert not (tmp_path / "etc").exists()
    # the worker's temporary files are left to the worker (copied, not moved)
    assert delivery.files[0].path.exists()


async def test_redelivery_overwrites_identically(tmp_path: Path) -> None:
    sink = DirSink(tmp_path / "out")
    first = await sink.deliver(voice_delivery(tmp_path))
    folder = tmp_path / "out" / CONV
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    second = await sink.deliver(voice_delivery(tmp_path))
    assert first == second
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


@pytest.mark.parametrize("bad", ["../etc", "a/b", "..", "", "c d", "x" * 200, "conv\x00"])
async def test_unsafe_conversation_ids_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(BadInput, match="not usable as a folder name"):
        await DirSink(tmp_path / "out").deliver(voice_delivery(tmp_path, conversation_id=bad))
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.json"))


def test_stems_are_clean_and_distinct_for_odd_keys() -> None:
    def stem(key: str, kind: JobKind = JobKind.ATTACHMENT) -> str:
        return delivery_stem(Delivery(key=key, kind=kind, conversation_id=CONV, metadata={}))

    odd_a = stem(f"attachment:{CONV}:../../etc:passwd")
    odd_b = stem(f"attachment:{CONV}:..__etc:passwd")
    for value in (odd_a, odd_b):
        assert set(value) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
    assert odd_a != odd_b
    assert stem(f"recording:{CONV}:rec-1", JobKind.RECORDING) == "recording_rec-1"
    # parts may hold "-": joining must not let two keys meet
    assert stem(f"attachment:{CONV}:a-b:c") != stem(f"attachment:{CONV}:a:b-c")
    assert len(stem(f"attachment:{CONV}:{'m' * 400}:x")) < 200


async def test_a_file_that_does_not_match_its_hash_is_not_delivered(tmp_path: Path) -> None:
    delivery = voice_delivery(tmp_path)
    delivery.files[0].path.write_bytes(b"changed behind our back")
    with pytest.raises(Transient, match="sha256"):
        await DirSink(tmp_path / "out").deliver(delivery)
    folder = tmp_path / "out" / CONV
    assert not list(folder.glob("*.json"))
    assert not list(folder.glob("*.original.*"))
    assert not list(folder.glob(".*tmp"))


async def test_a_symlinked_conversation_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / CONV).symlink_to(outside, target_is_directory=True)
    with pytest.raises(DeliveryRejected, match="refusing to write through"):
        await DirSink(tmp_path / "out").deliver(voice_delivery(tmp_path))
    assert list(outside.iterdir()) == []


async def test_delivered_files_are_private_in_private_folders(tmp_path: Path) -> None:
    result = await DirSink(tmp_path / "out").deliver(voice_delivery(tmp_path))
    folder = tmp_path / "out" / CONV
    assert folder.stat().st_mode & 0o777 == 0o700
    for name in (*result["files"], result["sidecar"]):
        assert (folder / name).stat().st_mode & 0o777 == 0o600, name
