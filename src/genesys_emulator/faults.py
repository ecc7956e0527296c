"""ASGI middleware that injects latency, 5xx answers, dropped connections and cut bodies.

Dropping and truncating need the socket, which ASGI hides: uvicorn's ``receive`` is a
bound method of its request cycle, which holds the transport. Outside uvicorn both
degrade to a 503, so the middleware stays safe in other servers.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from genesys_emulator import errors
from genesys_emulator.state import OrgState


def _close_connection(receive: Receive) -> bool:
    cycle: Any = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        return False
    transport.close()  # flushes what was written, then FIN
    if hasattr(cycle, "disconnected"):
        cycle.disconnected = True  # uvicorn then ignores further sends
    return True


class FaultMiddleware:
    def __init__(self, app: ASGIApp, state: OrgState, host: str) -> None:
        self.app = app
        self.state = state
        self.host = host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        faults = self.state.faults
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or self.host not in faults.hosts
            or path.startswith("/__emulator__")
        ):
            await self.app(scope, receive, send)
            return
        rng = self.state.fault_rng
        with self.state.lock:
            delay = faults.latency_ms + (
                rng.uniform(0, faults.jitter_ms) if faults.jitter_ms else 0
            )
            draw = rng.random()
        if delay > 0:
            await asyncio.sleep(delay / 1000.0)
        if draw < faults.drop_rate:
            self.state.count_fault("drop")
            if _close_connection(receive):
                return
            await self._error(scope, send, 503)
            return
        draw -= faults.drop_rate
        if draw < faults.error_rate:
            status = 500 if rng.random() < 0.5 else 503
            self.state.count_fault(f"error{status}")
            await self._error(scope, send, status)
            return
        draw -= faults.error_rate
        if draw < faults.truncate_rate:
            self.state.count_fault("truncate")
            await self.app(scope, receive, _Truncator(send, receive))
            return
        await self.app(scope, receive, send)

    async def _error(self, scope: Scope, send: Send, status: int) -> None:
        body = json.dumps(errors.error_body(errors.server_error(status), "fault-injected")).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (errors.CORRELATION_HEADER.lower().encode(), b"fault-injected"),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _Truncator:
    """Passes the headers, then half of the first body chunk, then closes the socket."""

    def __init__(self, send: Send, receive: Receive) -> None:
        self._send = send
        self._receive = receive
        self._closed = False

    async def __call__(self, message: Message) -> None:
        if self._closed:
            return
        if message["type"] == "http.response.start":
            await self._send(message)
            return
        if message["type"] == "http.response.body":
            body: bytes = message.get("body", b"")
            part: dict[str, Any] = {
                "type": "http.response.body",
                "body": body[: max(1, len(body) // 2)] if body else b"",
                "more_body": True,
            }
            await self._send(part)
            self._closed = _close_connection(self._receive)
            if not self._closed:  # cannot cut the socket: finish the body so nothing hangs
                await self._send({"type": "http.response.body", "body": body[len(part["body"]) :]})
                self._closed = True
            return
        await self._send(message)
