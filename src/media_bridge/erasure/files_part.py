"""Erasure in what the bridge wrote to disk: the dir sink's files and the NLP JSON lines."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from media_bridge.erasure.subject import Subject
from media_bridge.files import create_temp_beside


def _sidecars(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    # conversation folders only: ``_erasures`` (no conversation id has a ``_``) is ours
    return sorted(
        p for p in root.glob("*/*.json") if p.is_file() and not p.parent.name.startswith("_")
    )


#: the dir sink's folder of erasure records
ERASURES = "_erasures"


def _records(path: Path) -> list[Any]:
    if not path.is_file():
        return []
    found: list[Any] = []
    with path.open("rb") as stream:
        for line in stream:
            try:
                found.append(json.loads(line))
            except ValueError:
                found.append(None)
    return found


def conversations_in_files(root: Path | None, nlp: Path | None, subject: Subject) -> set[str]:
    """The conversations whose deliveries or NLP records name the subject."""
    found: set[str] = set()
    for sidecar in _sidecars(root) if root is not None else []:
        try:
            record = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        metadata = record.get("metadata") if isinstance(record, dict) else None
        if subject.metadata_matches(metadata) and isinstance(metadata, dict):
            found.add(str(metadata.get("conversation_id") or ""))
    for record in _records(nlp) if nlp is not None else []:
        if subject.record_matches(record):
            found.add(str(record.get("conversation_id") or ""))
    return found - {""}


def forget_in_dir(root: Path, subject: Subject, dry_run: bool) -> int:
    """Delete every delivery whose sidecar names the subject: its files, then the sidecar.

    Sidecars list their files by name (``files[].name``), so files written under older
    naming schemes are found too. Returns the number of files removed (sidecars included).
    """
    removed = 0
    for sidecar in _sidecars(root):
        try:
            record = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(record, dict) or not subject.metadata_matches(record.get("metadata")):
            continue
        names = [f.get("name") for f in record.get("files") or [] if isinstance(f, dict)]
        for name in names:
            # names come from the sidecar: only plain names inside the same folder
            if not isinstance(name, str) or "/" in name or name.startswith("."):
                continue
            target = sidecar.parent / name
            if target.is_file():
                removed += 1
                if not dry_run:
                    target.unlink()
        removed += 1
        if not dry_run:
            sidecar.unlink()
            _remove_if_empty(sidecar.parent)
    return removed


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty: other deliveries stay
        folder.rmdir()


def forget_in_jsonl(path: Path, subject: Subject, dry_run: bool) -> int:
    """Rewrite the NLP file without the subject's lines (atomically: a temp file, then a
    rename). Stop the bridge first: a running JSONL sink keeps appending to the old file."""
    if not path.is_file():
        return 0
    kept: list[bytes] = []
    dropped = 0
    with path.open("rb") as stream:
        for line in stream:
            record: Any
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if subject.record_matches(record):
                dropped += 1
            else:
                kept.append(line)
    if dropped and not dry_run:
        fd, temp = create_temp_beside(path)
        with os.fdopen(fd, "wb") as out:
            out.writelines(kept)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, path.stat().st_mode & 0o777)
        temp.replace(path)
    return dropped


def write_erasure_record(root: Path, key: str, record: dict[str, Any], dry_run: bool) -> bool:
    """The dir sink's copy of the erasure record (``_erasures/<key>.json``), written once.

    Conversation ids never contain ``_``, so the folder cannot meet a conversation's."""
    target = root / ERASURES / f"{key.replace(':', '_')}.json"
    if target.exists() or dry_run:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return True
