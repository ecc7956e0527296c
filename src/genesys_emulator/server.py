"""The ASGI apps of each host and the uvicorn servers that run them.

Default mode: one port per host (login, api, api-downloads, storage). Single-port mode: one
app that dispatches on the Host header prefix (``login.``, ``api.``, ``api-downloads.``,
``storage.``) and, for an unknown host, on the path.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from genesys_emulator import auth
from genesys_emulator.faults import FaultMiddleware
from genesys_emulator.observe import ObserveMiddleware
from genesys_emulator.ratelimit import RateLimiter
from genesys_emulator.state import OrgState

if TYPE_CHECKING:
    from genesys_emulator.scenario import ScenarioBuilder

HostName = Literal["login", "api", "downloads", "storage"]
HOSTS: tuple[HostName, ...] = ("login", "api", "downloads", "storage")
HOST_PREFIX: dict[HostName, str] = {
    "login": "login",
    "api": "api",
    "downloads": "api-downloads",
    "storage": "storage",
}


def _routes(host: HostName) -> Sequence[BaseRoute]:
    from genesys_emulator.routes import (
        admin,
        analytics,
        batch,
        conversations,
        downloads,
        externalcontacts,
        messages,
        notifications,
        organizations,
        recordings,
        routing,
        storage,
        transcripts,
    )

    if host == "login":
        return [Route("/oauth/token", auth.token_endpoint, methods=["POST"])]
    if host == "downloads":
        return [*downloads.routes, *storage.media_cache_routes]
    if host == "storage":
        return storage.storage_routes
    return [
        *messages.routes,
        *recordings.routes,
        *transcripts.routes,
        *analytics.routes,
        *conversations.routes,
        *externalcontacts.routes,
        *organizations.routes,
        *batch.routes,
        *notifications.routes,
        *notifications.socket_routes,
        *routing.routes,
        *admin.routes,
    ]


def build_host_app(
    state: OrgState,
    host: HostName,
    limiter: RateLimiter,
    builder: ScenarioBuilder | None = None,
) -> ASGIApp:
    """``builder`` adds conversations for the admin API (POST /__emulator__/conversations)."""
    app = Starlette(routes=list(_routes(host)))
    app.state.org = state
    app.state.limiter = limiter
    app.state.host = host
    app.state.builder = builder
    wrapped: ASGIApp = FaultMiddleware(app, state, host)
    return ObserveMiddleware(wrapped, state, host, correlation=host != "storage")


def build_apps(state: OrgState, builder: ScenarioBuilder | None = None) -> dict[HostName, ASGIApp]:
    limiter = state.limiter
    return {host: build_host_app(state, host, limiter, builder) for host in HOSTS}


class HostDispatcher:
    """One ASGI app for all hosts, chosen by the Host header (then by path)."""

    def __init__(self, apps: dict[HostName, ASGIApp]) -> None:
        self.apps = apps

    def pick(self, scope: Scope) -> ASGIApp:
        host_header = ""
        for name, value in scope.get("headers", []):
            if name == b"host":
                host_header = value.decode("latin-1").lower()
                break
        order: tuple[HostName, ...] = ("downloads", "login", "storage", "api")
        for host in order:  # api-downloads. before api.
            if host_header.startswith(HOST_PREFIX[host] + "."):
                return self.apps[host]
        path: str = scope.get("path", "")
        if path.startswith("/oauth/"):
            return self.apps["login"]
        if path.startswith(("/api/v2/downloads/", "/MediaCache/")):
            return self.apps["downloads"]
        if path.startswith("/media/"):
            return self.apps["storage"]
        return self.apps["api"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            while message["type"] != "lifespan.shutdown":
                await send({"type": message["type"] + ".complete"})
                message = await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        await self.pick(scope)(scope, receive, send)


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket (port 0 = free port from the OS), handed to uvicorn."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    sock.setblocking(False)
    return sock


def public_urls(state: OrgState, ports: dict[HostName, int]) -> dict[str, str]:
    config = state.config
    if config.single_port is not None:
        port = ports["api"]
        return {h: f"http://{HOST_PREFIX[h]}.{config.domain}:{port}" for h in HOSTS}
    host = config.bind_host if config.bind_host not in ("0.0.0.0", "::") else "127.0.0.1"
    return {h: f"http://{host}:{ports[h]}" for h in HOSTS}


class EmulatorServers:
    """Binds the sockets at once (so URLs are known), serves them with uvicorn.

    Without a ``builder`` the admin API cannot add conversations (409).
    """

    def __init__(self, state: OrgState, builder: ScenarioBuilder | None = None) -> None:
        self.state = state
        config = state.config
        apps = build_apps(state, builder)
        self._servers: list[tuple[uvicorn.Server, socket.socket]] = []
        ports: dict[HostName, int] = {}
        if config.single_port is not None:
            sock = bind_socket(config.bind_host, config.single_port)
            self._add(HostDispatcher(apps), sock)
            ports = dict.fromkeys(HOSTS, sock.getsockname()[1])
        else:
            wanted = {
                "login": config.login_port,
                "api": config.api_port,
                "downloads": config.downloads_port,
                "storage": config.storage_port,
            }
            for host in HOSTS:
                sock = bind_socket(config.bind_host, wanted[host])
                self._add(apps[host], sock)
                ports[host] = sock.getsockname()[1]
        self.ports = ports
        state.public_urls = public_urls(state, ports)
        #: the operations port's URL (``config.operations_port``), or None
        self.operations_url: str | None = None
        if config.operations_port is not None:
            from genesys_emulator.operations import build_operations_app

            hosts = list(self._servers)
            sock = bind_socket(config.bind_host, config.operations_port)
            ops_app = build_operations_app(state, lambda: all(s.started for s, _ in hosts))
            self._add(ops_app, sock)
            bound = config.bind_host
            reach = bound if bound not in ("0.0.0.0", "::") else "127.0.0.1"
            self.operations_url = f"http://{reach}:{sock.getsockname()[1]}"

    def _add(self, app: ASGIApp, sock: socket.socket) -> None:
        uv_config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1
        )
        self._servers.append((uvicorn.Server(uv_config), sock))

    async def serve(self) -> None:
        await asyncio.gather(*(server.serve(sockets=[sock]) for server, sock in self._servers))

    def started(self) -> bool:
        return all(server.started for server, _ in self._servers)

    def request_stop(self) -> None:
        for server, _ in self._servers:
            server.should_exit = True

    def close_sockets(self) -> None:
        for _, sock in self._servers:
            sock.close()
