"""The bytes of an HTTP delivery, read twice from the same parts: once to sign, once to send.

A Standard Webhooks signature covers the exact body and goes in the headers, which leave
before the body. So the body is a fixed list of segments (bytes held in memory, files
read from disk in blocks): ``signed_headers`` reads it once through the HMAC, then
``payload`` streams the very same bytes. A file is never held whole in memory. Multipart
bodies are framed here, not by a library, so that the framing signed is the framing sent.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import secrets
from collections.abc import AsyncIterator, Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from media_bridge import signing

BLOCK = 1 << 18
_SAFE_FILENAME = re.compile(r"[A-Za-z0-9_.-]{1,255}")


@dataclass(frozen=True, slots=True)
class FilePart:
    """One ``file`` part: the file on disk, its MIME type and its (safe) filename."""

    path: Path
    mime: str
    filename: str


@dataclass(frozen=True, slots=True)
class Body:
    content_type: str
    segments: tuple[bytes | Path, ...]
    #: the ``metadata`` part of a multipart body (signed on its own as well)
    metadata: bytes | None = None

    def size(self) -> int:
        return sum(s.stat().st_size if isinstance(s, Path) else len(s) for s in self.segments)

    def blocks(self) -> Generator[bytes, None, None]:
        for segment in self.segments:
            if isinstance(segment, bytes):
                yield segment
                continue
            with segment.open("rb") as fh:
                while block := fh.read(BLOCK):
                    yield block

    def feed(self, *macs: hmac.HMAC) -> int:
        """Update each HMAC with the body; returns its length in bytes."""
        size = 0
        for block in self.blocks():
            size += len(block)
            for mac in macs:
                mac.update(block)
        return size

    def payload(self) -> bytes | AsyncIterator[bytes]:
        """What to POST: the bytes themselves, or a fresh stream of them (one per attempt)."""
        if all(isinstance(s, bytes) for s in self.segments):
            return b"".join(s for s in self.segments if isinstance(s, bytes))
        return self._stream()

    async def _stream(self) -> AsyncIterator[bytes]:
        blocks = self.blocks()
        try:
            while block := await asyncio.to_thread(next, blocks, b""):
                yield block
        finally:
            blocks.close()


def json_bytes(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, ensure_ascii=False, default=str).encode()


def json_body(data: bytes) -> Body:
    return Body("application/json", (data,))


def multipart_body(metadata: bytes, files: Sequence[FilePart]) -> Body:
    """``multipart/form-data``: part ``metadata`` (application/json), then a ``file`` part
    per file with its MIME type and filename, in order."""
    boundary = secrets.token_hex(16)
    segments: list[bytes | Path] = [
        _part_head(boundary, "application/json", 'form-data; name="metadata"'),
        metadata,
    ]
    for file in files:
        if not _SAFE_FILENAME.fullmatch(file.filename):
            raise ValueError(f"unsafe part filename {file.filename!r}")
        disposition = f'form-data; name="file"; filename="{file.filename}"'
        segments += [b"\r\n" + _part_head(boundary, file.mime, disposition), file.path]
    segments.append(f"\r\n--{boundary}--\r\n".encode())
    return Body(f"multipart/form-data; boundary={boundary}", tuple(segments), metadata)


def _part_head(boundary: str, content_type: str, disposition: str) -> bytes:
    if "\r" in content_type or "\n" in content_type:
        raise ValueError(f"unsafe part content type {content_type!r}")
    return (
        f"--{boundary}\r\nContent-Type: {content_type}\r\n"
        f"Content-Disposition: {disposition}\r\n\r\n"
    ).encode()


async def signed_headers(body: Body, key: bytes, msg_id: str, *legacy: hmac.HMAC) -> dict[str, str]:
    """The webhook headers (plus Content-Type and Content-Length) for one attempt; reads the
    body once. ``legacy`` HMACs are fed the same bytes (the AudioHook legacy signature)."""
    timestamp = str(int(signing.now()))
    mac = signing.start_mac(key, msg_id, timestamp)
    size = await asyncio.to_thread(body.feed, mac, *legacy)
    signatures = [signing.signature_of(mac)]
    if body.metadata is not None:
        signatures.append(signing.sign(key, msg_id, timestamp, body.metadata))
    return {
        **signing.webhook_headers(msg_id, timestamp, signatures),
        "Content-Type": body.content_type,
        "Content-Length": str(size),
    }
