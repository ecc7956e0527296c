"""Clips kept locally by ``hold_local`` are deleted after ``sinks.kept_retention_s``; the dir
sink's own deliveries never are."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from media_bridge.config import Settings
from media_bridge.ledger.retention import purge_kept_clips


def kept(root: Path, conversation: str, stem: str, age_s: float) -> list[Path]:
    folder = root / conversation
    folder.mkdir(parents=True, exist_ok=True)
    audio = folder / f"{stem}.normalized.wav"
    audio.write_bytes(b"RIFF")
    sidecar = folder / f"{stem}.json"
    sidecar.write_text(json.dumps({"files": [{"name": audio.name}]}))
    then = time.time() - age_s
    for path in (audio, sidecar):
        os.utime(path, (then, then))
    return [audio, sidecar]


def test_old_kept_clips_go_and_recent_ones_stay(tmp_path: Path) -> None:
    remote = {"media": "http", "http_url": "http://engine.example/x", "http_secret": "s"}
    settings = Settings(sinks={**remote, "dir_path": tmp_path, "kept_retention_s": 3600})
    old = kept(tmp_path, "c-1", "m1_a1", age_s=7200)
    recent = kept(tmp_path, "c-2", "m2_a2", age_s=60)
    assert purge_kept_clips(settings, dry_run=True) == 2
    assert all(p.exists() for p in old)
    assert purge_kept_clips(settings) == 2
    assert not any(p.exists() for p in old)
    assert not (tmp_path / "c-1").exists()
    assert all(p.exists() for p in recent)
    assert purge_kept_clips(settings) == 0


def test_the_dir_sinks_deliveries_are_never_purged(tmp_path: Path) -> None:
    settings = Settings(sinks={"media": "dir", "dir_path": tmp_path, "kept_retention_s": 0})
    delivered = kept(tmp_path, "c-1", "m1_a1", age_s=10 * 86400)
    assert purge_kept_clips(settings) == 0
    assert all(p.exists() for p in delivered)
