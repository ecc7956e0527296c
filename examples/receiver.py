"""A receiver of media-bridge's HTTP deliveries that verifies every one (docs/receivers.md).

    RECEIVER_SECRET=whsec_... python examples/receiver.py      # listens on 127.0.0.1:8000

It verifies with the stock ``standardwebhooks`` package. A JSON body (a text or erasure
record) is verified as it is. A multipart body (a media or AudioHook delivery) holds
audio, which that package cannot take (it reads the signed content as UTF-8 text), so
it verifies the ``metadata`` part, which the bridge signs on its own too, and then
checks each file part against the sha256 and size the metadata lists, streaming the
file to disk. A repeated ``webhook-id`` is answered 200 and not processed again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

MAX_METADATA_BYTES = 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class Refused(Exception):
    """A delivery this receiver will not take; retrying it cannot help (answered 4xx)."""


def webhook(secret: str) -> Webhook:
    """``whsec_<base64>`` as the package reads it; any other secret as raw key bytes, as
    the bridge uses it."""
    return Webhook(secret if secret.startswith("whsec_") else secret.encode())


@dataclass
class Received:
    """One verified delivery: its ``webhook-id``, document and stored files."""

    id: str
    document: dict[str, Any]
    files: list[Path] = field(default_factory=list)


class Receiver:
    def __init__(self, secret: str, out_dir: Path) -> None:
        self._webhook = webhook(secret)
        self.out_dir = out_dir
        #: verified deliveries by ``webhook-id`` (a real receiver keeps these in its database)
        self.received: dict[str, Received] = {}
        self.refused = 0

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1024**3)
        app.router.add_post("/{kind:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        headers = dict(request.headers)
        try:
            if request.content_type == "multipart/form-data":
                delivery = await self._multipart(request, headers)
            else:
                document = self._webhook.verify(await request.read(), headers)
                delivery = Received(headers["webhook-id"], document)
        except (WebhookVerificationError, Refused, ValueError, KeyError) as exc:
            self.refused += 1
            return web.json_response({"error": str(exc) or type(exc).__name__}, status=401)
        if delivery.id in self.received:  # a repeat: already taken, say so, do nothing
            return web.json_response({"accepted": delivery.id, "duplicate": True})
        self.received[delivery.id] = delivery  # ... hand it to the engine here
        return web.json_response({"accepted": delivery.id})

    async def _multipart(self, request: web.Request, headers: dict[str, str]) -> Received:
        reader = await request.multipart()
        first = await reader.next()
        if not isinstance(first, BodyPartReader) or first.name != "metadata":
            raise Refused("the first part must be 'metadata'")
        metadata = await first.read()
        if len(metadata) > MAX_METADATA_BYTES:
            raise Refused("metadata part too large")
        document = self._webhook.verify(bytes(metadata), headers)  # authentic from here on
        delivery = Received(headers["webhook-id"], document)
        if delivery.id in self.received:
            return delivery  # a repeat: its files are not read again
        folder = self.out_dir / hashlib.sha256(delivery.id.encode()).hexdigest()[:16]
        folder.mkdir(parents=True, exist_ok=True)
        listed = document["files"]
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name != "file":
                raise Refused("only 'file' parts follow the metadata")
            if len(delivery.files) >= len(listed):
                raise Refused("more file parts than the metadata lists")
            expected = listed[len(delivery.files)]
            path = folder / _UNSAFE.sub("_", expected["filename"])
            digest, size = hashlib.sha256(), 0
            with path.open("wb") as out:
                while chunk := await part.read_chunk(1 << 16):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            if digest.hexdigest() != expected["sha256"] or size != expected["size"]:
                path.unlink()
                raise Refused(f"file {len(delivery.files) + 1} does not match its metadata")
            delivery.files.append(path)
        if len(delivery.files) != len(listed):
            raise Refused("fewer file parts than the metadata lists")
        return delivery


def main() -> None:
    secret = os.environ["RECEIVER_SECRET"]
    out_dir = Path(os.environ.get("RECEIVER_DIR") or tempfile.mkdtemp(prefix="receiver-"))
    port = int(os.environ.get("RECEIVER_PORT", "8000"))
    print(json.dumps({"listening": f"http://127.0.0.1:{port}/", "files": str(out_dir)}))
    web.run_app(Receiver(secret, out_dir).app(), host="127.0.0.1", port=port)


if __name__ == "__main__":
    main()
