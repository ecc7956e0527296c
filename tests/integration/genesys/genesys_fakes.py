"""Small scripted HTTP servers on free ports: a login host, an API host, a storage host
and a foreign host, each recording what arrived (above all: any Authorization header)."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from media_bridge.genesys.settings import GenesysSettings

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CLIENT_ID, CLIENT_SECRET = "cid", "s3cret"
# a minimal but real-looking OGG/Opus head, padded
VOICE = b"OggS\x00\x02" + b"\x00" * 22 + b"\x01\x13OpusHead\x01\x01" + bytes(range(256)) * 40


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    authorization: str | None
    at: float
    body: bytes
    raw_path: str = ""


@dataclass
class FakeHost:
    """One host: routes by regex on the path, records every request."""

    server: TestServer | None = None
    routes: list[tuple[str, re.Pattern[str], Handler]] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)

    def on(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.insert(0, (method, re.compile(f"^{pattern}$"), handler))

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    def authorized(self) -> list[str | None]:
        return [s.authorization for s in self.seen]

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append(
            Seen(
                request.method,
                request.path,
                dict(request.query),
                request.headers.get("Authorization"),
                time.monotonic(),
                body,
                request.raw_path,
            )
        )
        for method, pattern, handler in self.routes:
            if method == request.method and pattern.match(request.path):
                return await handler(request)
        return web.json_response({"code": "not.found", "status": 404}, status=404)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.dispatch)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()


@dataclass
class FakeGenesys:
    login: FakeHost
    api: FakeHost
    storage: FakeHost
    foreign: FakeHost
    token_lifetime: int = 3600
    token_delay: float = 0.0
    issued: list[str] = field(default_factory=list)
    valid: set[str] = field(default_factory=set)
    media: dict[str, bytes] = field(default_factory=dict)
    expired_media: set[str] = field(default_factory=set)

    def settings(self, **changes: Any) -> GenesysSettings:
        base: dict[str, Any] = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "api_url": self.api.url,
            "login_url": self.login.url,
            "downloads_url": self.api.url,
            "backoff_base_s": 0.01,
            "backoff_max_s": 0.05,
            "request_timeout_s": 5.0,
            "pacing": "off",  # a test about pacing sets rate_limit_per_minute
        }
        base.update(changes)
        return GenesysSettings(**base)

    def bearer_ok(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and header[7:] in self.valid

    def revoke_all(self) -> None:
        self.valid.clear()

    def signed_url(self, name: str) -> str:
        return f"{self.storage.url}/media/{name}?Expires=9999999999&Signature=sig-{name}"

    def add_media(self, name: str, data: bytes) -> str:
        self.media[name] = data
        return hashlib.sha256(data).hexdigest()


def unauthorized() -> web.Response:
    return web.json_response(
        {"code": "authentication.required", "status": 401, "message": "No bearer"}, status=401
    )
