"""A real HTTP receiver standing in for the biometrics engine or a foreign host."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Received:
    deliveries: Counter[str] = field(default_factory=Counter)
    file_hashes: dict[str, list[str]] = field(default_factory=dict)
    #: the ``metadata`` part of each delivery, parsed, by Idempotency-Key
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)


class Receiver:
    """Counts multipart deliveries per Idempotency-Key; records every request's headers."""

    def __init__(self) -> None:
        self.received = Received()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        self.received.requests.append(
            {"method": request.method, "path": request.path, "headers": dict(request.headers)}
        )
        if request.method != "POST" or not request.content_type.startswith("multipart/"):
            return web.Response(status=200, body=b"OggS not really audio")
        key = request.headers.get("Idempotency-Key", "")
        hashes: list[str] = []
        reader = await request.multipart()
        async for part in reader:
            digest = hashlib.sha256()
            body = bytearray()
            while chunk := await part.read_chunk():  # type: ignore[union-attr]
                digest.update(chunk)
                if part.name == "metadata":  # type: ignore[union-attr]
                    body += chunk
            if part.name == "file":  # type: ignore[union-attr]
                hashes.append(digest.hexdigest())
            elif part.name == "metadata":  # type: ignore[union-attr]
                self.received.metadata[key] = json.loads(bytes(body))
        self.received.deliveries[key] += 1
        self.received.file_hashes[key] = hashes
        return web.json_response({"ok": True})

    async def start(self) -> Receiver:
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
