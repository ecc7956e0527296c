"""The ``dir`` media sink: one folder per conversation, safe names, a JSON sidecar.

    {root}/{conversationId}/{messageId}_{mediaId}.{role}.{ext}   the file(s)
    {root}/{conversationId}/{messageId}_{mediaId}.json           every metadata field

(``sinks.naming``: ids that are not plain ``[A-Za-z0-9-]`` get ``__`` and a hash of the
key instead, so two jobs never share a file; ``legacy_delivery_stem`` finds older names.)

Every file is written to a temporary name in the same folder, fsynced and renamed
(``os.replace``), then the folder is fsynced: a reader never sees half a file, and a
crash leaves either the old or the new version. The sidecar is written last, so its
presence means the delivery is complete. The delivered files are **copied**, never
moved or hard-linked: the worker owns its temporary files and may reuse their paths.
The copy is hashed on the way and must match ``DeliveredFile.sha256``. The customer's
original filename appears only inside the sidecar.

Below the root nothing is followed: the conversation folder is opened with
``O_NOFOLLOW`` (a planted symlink is refused), files are created ``0600`` under random
``O_EXCL`` names relative to that folder's descriptor, and folders are made ``0700``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from media_bridge.errors import DeliveryRejected, SinkCopyMismatch
from media_bridge.files import SymlinkRefused, atomic_file, open_tree, write_private
from media_bridge.sinks.naming import delivery_stem, file_name, safe_conversation_id
from media_bridge.types import Delivery

_CHUNK = 1024 * 1024


def _unlink_quietly(folder_fd: int, name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name, dir_fd=folder_fd)


def _copy_atomically(source: Path, folder_fd: int, final: str) -> str:
    """Copy ``source`` to ``final`` in the folder atomically; returns the copy's sha256."""
    digest = hashlib.sha256()
    with source.open("rb") as src, atomic_file(final, dir_fd=folder_fd) as dst:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            dst.write(chunk)
    return digest.hexdigest()


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
        try:
            folder_fd = open_tree(self.root, [folder.name])
        except SymlinkRefused as exc:
            raise DeliveryRejected(f"refusing to write through {folder}: {exc}") from exc
        try:
            self._write_files(delivery, folder_fd, stem, names)
            os.fsync(folder_fd)
        finally:
            os.close(folder_fd)
        sidecar = f"{stem}.json"
        return {"sink": self.name, "folder": str(folder), "files": names, "sidecar": sidecar}

    def _write_files(self, delivery: Delivery, folder_fd: int, stem: str, names: list[str]) -> None:
        # a process killed mid-copy leaves its temporary files; the re-run of the same
        # key (the lease makes it the only writer) clears them
        for leftover in os.listdir(folder_fd):
            if leftover.startswith(f".{stem}.") and leftover.endswith(".tmp"):
                _unlink_quietly(folder_fd, leftover)
        for file, name in zip(delivery.files, names, strict=True):
            if "/" in name or name in {"", ".", ".."}:  # defence in depth
                raise DeliveryRejected(f"refusing the file name {name!r}")
            try:
                copied = _copy_atomically(file.path, folder_fd, name)
            except FileNotFoundError as exc:
                raise SinkCopyMismatch(f"delivered file vanished before the copy: {exc}") from exc
            if copied != file.sha256.lower():
                _unlink_quietly(folder_fd, name)
                raise SinkCopyMismatch(
                    f"{name}: the copy's sha256 differs from the delivered file's"
                )
        document = sidecar_document(delivery, names)
        data = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, default=str)
        write_private(f"{stem}.json", data.encode() + b"\n", dir_fd=folder_fd)

    async def deliver(self, delivery: Delivery) -> dict[str, Any]:
        return await asyncio.to_thread(self._deliver, delivery)

    async def close(self) -> None:
        return None
