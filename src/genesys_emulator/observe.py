"""ASGI middleware: an ININ-Correlation-Id on every response, and request statistics."""

from __future__ import annotations

import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from genesys_emulator.errors import CORRELATION_HEADER
from genesys_emulator.state import OrgState

_HEADER = CORRELATION_HEADER.lower().encode()


class ObserveMiddleware:
    def __init__(self, app: ASGIApp, state: OrgState, host: str, correlation: bool = True) -> None:
        self.app = app
        self.state = state
        self.host = host
        self.correlation = correlation

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation_id = str(uuid.uuid4())
        scope["correlation_id"] = correlation_id
        path = scope.get("path", "")
        if self.host == "storage" or path.startswith("/MediaCache/"):
            has_auth = any(name == b"authorization" for name, _ in scope.get("headers", []))
            if has_auth:
                with self.state.lock:
                    self.state.storage_requests_with_authorization += 1

        async def observed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if self.correlation and not any(name.lower() == _HEADER for name, _ in headers):
                    headers.append((_HEADER, correlation_id.encode()))
                message = {**message, "headers": headers}
                if not path.startswith("/__emulator__"):
                    self.state.record(self.host, path, int(message["status"]))
            await send(message)

        await self.app(scope, receive, observed_send)
