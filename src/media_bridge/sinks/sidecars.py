"""The dir sink's deliveries as files: ``<root>/<conversation>/<stem>.json`` sidecars that
list their files by name. Shared by erasure and by the retention of kept clips."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any


def sidecars(root: Path | None) -> list[Path]:
    """Every delivery's sidecar; folders starting with ``_`` (``_erasures``) are not
    conversations (conversation ids never contain ``_``)."""
    if root is None or not root.is_dir():
        return []
    return sorted(
        p for p in root.glob("*/*.json") if p.is_file() and not p.parent.name.startswith("_")
    )


def read_sidecar(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def delete_delivery(sidecar: Path, record: dict[str, Any], dry_run: bool) -> int:
    """Delete the files the sidecar lists, then the sidecar (and its folder once empty);
    returns how many files (the sidecar included). Names come from the sidecar: only plain
    names inside the same folder are followed."""
    removed = 0
    for entry in record.get("files") or []:
        name = entry.get("name") if isinstance(entry, dict) else None
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
        with contextlib.suppress(OSError):  # not empty: other deliveries stay
            sidecar.parent.rmdir()
    return removed
