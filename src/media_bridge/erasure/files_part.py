"""Erasure in what the bridge wrote to disk: the dir sink's files and the NLP JSON lines."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from media_bridge.erasure.subject import Subject
from media_bridge.files import atomic_file, private_dir, write_private
from media_bridge.sinks.sidecars import delete_delivery, read_sidecar, sidecars

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
    for sidecar in sidecars(root):
        record = read_sidecar(sidecar)
        metadata = record.get("metadata") if record is not None else None
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
    for sidecar in sidecars(root):
        record = read_sidecar(sidecar)
        if record is not None and subject.metadata_matches(record.get("metadata")):
            removed += delete_delivery(sidecar, record, dry_run)
    return removed


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
        mode = path.stat().st_mode & 0o777
        with atomic_file(path) as out:
            out.writelines(kept)
            os.fchmod(out.fileno(), mode)
    return dropped


def write_erasure_record(root: Path, key: str, record: dict[str, Any], dry_run: bool) -> bool:
    """The dir sink's copy of the erasure record (``_erasures/<key>.json``), written once.

    Conversation ids never contain ``_``, so the folder cannot meet a conversation's.
    Private like the deliveries (``0600`` in a ``0700`` folder); a symlink planted at the
    record's name is replaced, not followed."""
    target = root / ERASURES / f"{key.replace(':', '_')}.json"
    if (target.exists() and not target.is_symlink()) or dry_run:
        return False
    private_dir(target.parent)
    data = json.dumps(record, indent=2, sort_keys=True) + "\n"
    write_private(target, data.encode("utf-8"))
    return True
