"""The dir sink: safe generated names, sidecar, atomic and idempotent writes."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from media_bridge.errors import BadInput, DeliveryRejected, SinkCopyMismatch, Transient
from media_bridge.sinks.dir import DirSink
from media_bridge.sinks.naming import delivery_stem, legacy_delivery_stem
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


@pytest.mark.parametrize("bad", ["../etc", "a/b", "..", "", "c d", "x" * 200, "conv\x00", "conv\n"])
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
    with pytest.raises(SinkCopyMismatch, match="sha256") as info:
        await DirSink(tmp_path / "out").deliver(delivery)
    # retried, and a dead job says why: not the generic "transient"
    assert isinstance(info.value, Transient)
    assert info.value.code == "sink_copy_mismatch"
    folder = tmp_path / "out" / CONV
    assert not list(folder.glob("*.json"))
    assert not list(folder.glob("*.original.*"))
    assert not list(folder.glob(".*tmp"))


async def test_a_file_gone_before_the_copy_says_sink_copy_mismatch(tmp_path: Path) -> None:
    delivery = voice_delivery(tmp_path)
    delivery.files[1].path.unlink()
    with pytest.raises(SinkCopyMismatch, match="vanished") as info:
        await DirSink(tmp_path / "out").deliver(delivery)
    assert (info.value.code, info.value.retryable) == ("sink_copy_mismatch", True)
    assert not list((tmp_path / "out" / CONV).glob("*.json"))


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


def _stem(key: str, kind: JobKind = JobKind.ATTACHMENT, conversation_id: str = CONV) -> str:
    return delivery_stem(Delivery(key=key, kind=kind, conversation_id=conversation_id, metadata={}))


def _delivery(tmp_path: Path, key: str, data: bytes) -> Delivery:
    original = make_file(
        tmp_path, f"{hashlib.sha256(data).hexdigest()}.tmp", data, "original", "audio/ogg"
    )
    return Delivery(key, JobKind.ATTACHMENT, CONV, {}, [original])


async def test_ids_holding_underscores_never_share_a_name(tmp_path: Path) -> None:
    """``m_a:b`` and ``m:a_b`` both became ``m_a_b``: the second overwrote the first."""
    sink = DirSink(tmp_path / "out")
    first = await sink.deliver(_delivery(tmp_path, f"attachment:{CONV}:m_a:b", b"first"))
    second = await sink.deliver(_delivery(tmp_path, f"attachment:{CONV}:m:a_b", b"second"))

    folder = tmp_path / "out" / CONV
    assert first["files"] != second["files"]
    assert (folder / first["files"][0]).read_bytes() == b"first"
    assert (folder / second["files"][0]).read_bytes() == b"second"
    sidecars = {json.loads((folder / r["sidecar"]).read_text())["key"] for r in (first, second)}
    assert sidecars == {f"attachment:{CONV}:m_a:b", f"attachment:{CONV}:m:a_b"}


@pytest.mark.parametrize(
    ("key", "kind", "stem"),
    [
        (
            f"attachment:{CONV}:6a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d:3f2a7e1c-5b9d-4c0a-8e6f-2d1b0a9c8e7f",
            JobKind.ATTACHMENT,
            "6a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d_3f2a7e1c-5b9d-4c0a-8e6f-2d1b0a9c8e7f",
        ),
        (f"recording:{CONV}", JobKind.RECORDING, "recording"),
        (f"recording:{CONV}:rec-1", JobKind.RECORDING, "recording_rec-1"),
        (f"transcript:{CONV}:comm-1:u-0001", JobKind.TRANSCRIPT, "transcript_comm-1_u-0001"),
    ],
)
def test_plain_ids_keep_the_names_earlier_releases_gave(key: str, kind: JobKind, stem: str) -> None:
    delivery = Delivery(key=key, kind=kind, conversation_id=CONV, metadata={})
    assert delivery_stem(delivery) == stem
    assert legacy_delivery_stem(delivery) == stem


def test_names_are_injective_over_crafted_keys() -> None:
    digest = hashlib.sha256(f"attachment:{CONV}:m:a_b".encode()).hexdigest()[:12]
    keys = [
        f"attachment:{CONV}:m_a:b",
        f"attachment:{CONV}:m:a_b",
        f"attachment:{CONV}:m:a:b",  # an id holding ":"
        f"attachment:{CONV}:m:a",
        f"attachment:{CONV}:m::a",  # an empty id
        f"attachment:{CONV}:m:a-",
        f"attachment:{CONV}:m:a__{digest}",  # a media id dressed as another key's hashed name
        f"attachment:{CONV}:m:a-{digest}",
        f"attachment:{CONV}:recording:rec-1",  # a message id named like a kind
        "attachment:other-conv:m:a",  # a key of another conversation in this folder
        f"attachment:{CONV}:m:a\ud800",  # a lone surrogate (used to raise UnicodeEncodeError)
        f"attachment:{CONV}:m:{'a' * 200}",
        f"attachment:{CONV}:m:{'a' * 200}b",
    ]
    stems = {key: _stem(key) for key in keys}
    stems[f"recording:{CONV}:rec-1"] = _stem(f"recording:{CONV}:rec-1", JobKind.RECORDING)
    assert len(set(stems.values())) == len(stems), stems
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
    for stem in stems.values():
        assert set(stem) <= allowed
        assert len(stem) < 200


def test_legacy_stems_are_the_old_names() -> None:
    """For finding files written before names became injective (the erasure issue)."""

    def legacy(key: str) -> str:
        return legacy_delivery_stem(
            Delivery(key=key, kind=JobKind.ATTACHMENT, conversation_id=CONV, metadata={})
        )

    assert legacy(f"attachment:{CONV}:m_a:b") == legacy(f"attachment:{CONV}:m:a_b") == "m_a_b"
    odd = f"attachment:{CONV}:../../etc:passwd"
    assert legacy(odd) == f"etc_passwd-{hashlib.sha256(odd.encode()).hexdigest()[:12]}"
    assert _stem(odd) == f"etc_passwd__{hashlib.sha256(odd.encode()).hexdigest()[:12]}"
