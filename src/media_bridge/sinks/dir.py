"""The ``dir`` media sink: one folder per conversation, safe names, a JSON sidecar.

    {root}/{conversationId}/{messageId}-{mediaId}.{role}.{ext}   the file(s)
    {root}/{conversationId}/{messageId}-{mediaId}.json           every metadata field

Every file is written to a temporary name in the same folder, fsynced and renamed
(``os.replace``), then the folder is fsynced: a reader never sees half a file, and a
crash leaves either the old or the new version. The sidecar is written last, so its
presence means the delivery is complete. The delivered files are **copied**, never
moved or hard-linked: the worker owns its temporary files and may reuse their paths.
The copy is hashed on the way and must match ``DeliveredFile.sha256``. The customer's
original filename appears only inside the sidecar.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Any

from media_bridge.errors import DeliveryRejected, Transient
from media_bridge.sinks.naming import delivery_stem, file_name, safe_conversation_id
from media_bridge.types import Delivery

_CHUNK = 1024 * 1024


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_beside(final: Path) -> Path:
    return final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")


def _copy_atomically(source: Path, final: Path) -> str:
    """Copy ``source`` to ``final`` atomically; returns the copy's sha256."""
    temp = _temp_beside(final)
    digest = hashlib.sha256()
    try:
        with source.open("rb") as src, temp.open("xb") as dst:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(temp, final)
    finally:
        temp.unlink(missing_ok=True)
    return digest.hexdigest()


def _write_atomically(data: bytes, final: Path) -> None:
    temp = _temp_beside(final)
    try:
        with temp.open("xb") as dst:
            dst.write(data)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(temp, final)
    finally:
        temp.unlink(missing_ok=True)


def sidecar_document(delivery: Delivery, names: list[str]) -> dict[str, Any]:
    return {
        "key": delivery.key,
        "kind": delivery.kind.value,
        "conversation_id": delivery.conversation_id,
        "metadata": delivery.metadata,
        "files": [
            {"role": f.role, "name": name, "mime": f.mime, "sha256": f.sha256, "size": f.size}
            for f, name in zip(delivery.files, names, strict=True)
        ],
    }


class DirSink:
    """``MediaSink`` writing into a local folder tree (the embedded default)."""

    name = "dir"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _deliver(self, delivery: Delivery) -> dict[str, Any]:
        folder = self.root / safe_conversation_id(delivery.conversation_id)
        stem = delivery_stem(delivery)
        names = [file_name(stem, f) for f in delivery.files]
        if len(set(names)) != len(names):
            raise DeliveryRejected(f"{delivery.key}: two files share a role and type: {names}")
        folder.mkdir(parents=True, exist_ok=True)
        # a process killed mid-copy leaves its temporary files; the re-run of the same
        # key (the lease makes it the only writer) clears them
        for leftover in folder.glob(f".{stem}.*.tmp"):
            leftover.unlink(missing_ok=True)
        for file, name in zip(delivery.files, names, strict=True):
            target = folder / name
            if target.resolve().parent != folder.resolve():  # defence in depth
                raise DeliveryRejected(f"refusing to write outside {folder}")
            try:
                copied = _copy_atomically(file.path, target)
            except FileNotFoundError as exc:
                raise Transient(f"delivered file vanished before the copy: {exc}") from exc
            if copied != file.sha256.lower():
                target.unlink(missing_ok=True)
                raise Transient(f"{name}: the copy's sha256 differs from the delivered file's")
        sidecar = f"{stem}.json"
        document = sidecar_document(delivery, names)
        data = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, default=str)
        _write_atomically(data.encode() + b"\n", folder / sidecar)
        _fsync_dir(folder)
        return {"sink": self.name, "folder": str(folder), "files": names, "sidecar": sidecar}

    async def deliver(self, delivery: Delivery) -> dict[str, Any]:
        return await asyncio.to_thread(self._deliver, delivery)

    async def close(self) -> None:
        return None
