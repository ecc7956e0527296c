"""The AudioHook Monitor WebSocket server.

Built on the ``websockets`` asyncio server: its ``process_request`` hook sees the
upgrade request before the handshake (so failures can be a real HTTP 401, which an
ASGI stack only offers through an extension), it reads binary frames as ``bytes``
with little overhead per message, and it caps payload size per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from media_bridge.audiohook import metrics
from media_bridge.audiohook import protocol as p
from media_bridge.audiohook.session import ServerSession
from media_bridge.audiohook.settings import AudioHookSettings
from media_bridge.audiohook.signature import (
    NonceCache,
    SignaturePolicy,
    VerifyResult,
    authority_of,
    decode_secret,
    verify_request_signature,
)
from media_bridge.audiohook.sinks import AudioChunkSink, build_sink
from media_bridge.consent import Verdict
from media_bridge.files import private_dir
from media_bridge.observability import get_logger
from media_bridge.operations.port import NotReady, Readiness

log = get_logger(__name__)

_REQUIRED_HEADERS = (
    "audiohook-organization-id",
    "audiohook-session-id",
    "audiohook-correlation-id",
    "x-api-key",
)


@dataclass
class _Upgrade:
    session_id: str
    org_id: str
    correlation_id: str
    auth_failure: str | None


class AudioHookServer:
    def __init__(
        self,
        settings: AudioHookSettings,
        sink: AudioChunkSink | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.sink = sink if sink is not None else build_sink(settings.sink)
        self.clock = clock
        self.policy = SignaturePolicy(
            settings.max_signature_age_s, settings.clock_skew_s, settings.min_nonce_length
        )
        self._keys: dict[str, bytes | None] = {
            k: (decode_secret(v) if v else None) for k, v in settings.api_keys.items()
        }
        self._upgrades: dict[Any, _Upgrade] = {}
        # a nonce is refused again for as long as its signature could be accepted
        self._nonces = NonceCache(settings.max_signature_age_s + 2 * settings.clock_skew_s)
        self.sessions: dict[str, ServerSession] = {}
        self.stats = {"sessions": 0, "rejected": 0, "dropped": 0, "closed": 0, "probes": 0}
        self._server: Any = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.spool_root = settings.spool_dir or Path(".")
        self._sweeper: asyncio.Future[None] | None = None
        self._draining = False

    # ---- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        from websockets.asyncio.server import serve

        if self.settings.spool_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="audiohook-spool-")
            self.spool_root = Path(self._tmp.name)
        private_dir(self.spool_root)
        self.sweep_spool()
        self._sweeper = asyncio.ensure_future(self._sweep_hourly())
        self._server = await serve(
            self._handle,
            self.settings.host,
            self.settings.port,
            process_request=self._process_request,
            max_size=self.settings.max_message_bytes,
            max_queue=64,
            compression=None,
        )

    @property
    def port(self) -> int:
        sockets = list(self._server.sockets)
        return int(sockets[0].getsockname()[1])

    def sweep_spool(self, now: float | None = None) -> int:
        """Delete session spools not written for ``spool_retention_s`` (live sessions write
        every chunk, so theirs are recent); returns how many went."""
        cutoff = (now if now is not None else time.time()) - self.settings.spool_retention_s
        removed = 0
        for folder in self.spool_root.iterdir() if self.spool_root.is_dir() else []:
            if folder.is_dir() and not folder.is_symlink() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        if removed:
            log.info("audiohook.spool.purged", removed=removed)
        return removed

    async def _sweep_hourly(self) -> None:
        while True:
            await asyncio.sleep(3600)
            await asyncio.to_thread(self.sweep_spool)

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        await self.sink.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    async def drain(self, grace_s: float) -> None:
        """Stop taking connections, send each live session a ``disconnect`` and wait up
        to ``grace_s`` for them to close, so that their audio is delivered whole."""
        self._draining = True
        if self._server is not None:
            self._server.close(close_connections=False)
        live = list(self.sessions)
        log.info("audiohook.draining", sessions=len(live))
        for session_id in live:
            await self.disconnect_session(session_id, "completed", "the server is shutting down")
        deadline = time.monotonic() + grace_s
        # sessions leave ``self.sessions`` in their own handlers, after their audio went
        while self.sessions and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        if self.sessions:
            log.warning("audiohook.drain_timeout", sessions=len(self.sessions))

    # ---- readiness -----------------------------------------------------------------

    def readiness(self, timeout_s: float = 3.0) -> Readiness:
        """Ready while the WebSocket port listens (not draining) and the spool takes a
        file: a session that cannot spool would lose its audio."""

        async def listening() -> None:
            if self._draining:
                raise NotReady("not listening: draining for shutdown")
            if self._server is None or not list(self._server.sockets):
                raise NotReady("not listening: the WebSocket server is not serving")

        async def spool() -> None:
            await asyncio.to_thread(self._probe_spool)

        return Readiness("audiohook", {"listening": listening, "spool": spool}, timeout_s=timeout_s)

    def _probe_spool(self) -> None:
        try:
            fd, name = tempfile.mkstemp(prefix=".ready-", dir=self.spool_root)
            os.close(fd)
            os.unlink(name)
        except OSError as exc:
            raise NotReady(
                f"spool not writable: {self.spool_root}: {exc.strerror or type(exc).__name__}"
            ) from exc

    async def serve_forever(self) -> None:
        await self.start()
        try:
            await asyncio.Future()
        finally:
            await self.stop()

    async def __aenter__(self) -> AudioHookServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- control of live sessions -------------------------------------------------

    async def pause_session(self, session_id: str) -> bool:
        session = self.sessions.get(session_id)
        return await self._guarded(session.pause()) if session else False

    async def resume_session(self, session_id: str) -> bool:
        session = self.sessions.get(session_id)
        return await self._guarded(session.resume()) if session else False

    def set_consent(self, session_id: str, verdict: Literal["granted", "refused"]) -> bool:
        """Consent learnt while the call runs (an operator, an API read): see Session."""
        session = self.sessions.get(session_id)
        if session is None:
            return False
        session.set_consent(Verdict.of(verdict, "operator"))
        return True

    async def disconnect_session(
        self, session_id: str, reason: str = "completed", info: str | None = None
    ) -> bool:
        session = self.sessions.get(session_id)
        return await self._guarded(session.disconnect(reason, info)) if session else False

    @staticmethod
    async def _guarded(call: Any) -> bool:
        from websockets.exceptions import ConnectionClosed

        try:
            return bool(await call)
        except ConnectionClosed:
            return False

    # ---- handshake -----------------------------------------------------------------

    def _lookup(self, api_key: str) -> tuple[bool, bytes | None]:
        if api_key in self._keys:
            return True, self._keys[api_key]
        return False, None

    def authenticate(self, headers: dict[str, str], target: str) -> VerifyResult:
        """Verify over the RFC 9421-normalised ``@authority`` (lower case, no default
        port) and, failing that, over the raw ``Host``: implementations differ on which
        they sign (an independent one signs the raw header)."""
        raw = headers.get("host", "").strip()
        normalised = authority_of(authority_of(raw, "wss"), "ws")
        result = verify_request_signature(
            headers, target, normalised, self._lookup, self.policy, self.clock, self._nonces
        )
        if result.code == "FAILED" and result.reason == "signature mismatch" and raw != normalised:
            result = verify_request_signature(
                headers, target, raw, self._lookup, self.policy, self.clock, self._nonces
            )
        return result

    async def _process_request(self, connection: Any, request: Any) -> Any:
        started = time.monotonic()
        path = request.path.split("?", 1)[0]
        if path == "/healthz":
            return connection.respond(200, "ok\n")
        if path != self.settings.path:
            return connection.respond(404, "Not Found\n")
        headers = {k.lower(): ", ".join(request.headers.get_all(k)) for k in request.headers}
        missing = [h for h in _REQUIRED_HEADERS if not headers.get(h)]
        if missing or not p.is_uuid(headers.get("audiohook-session-id")):
            self.stats["rejected"] += 1
            metrics.UPGRADES_REFUSED.labels(reason="bad_request").inc()
            detail = ", ".join(missing) or "audiohook-session-id"
            return connection.respond(400, f"Bad Request: missing or invalid {detail}\n")
        session_id = headers["audiohook-session-id"]
        if session_id in self.sessions or any(
            up.session_id == session_id for up in self._upgrades.values()
        ):
            # a second connection must never mix its audio into a live session's files
            self.stats["rejected"] += 1
            metrics.UPGRADES_REFUSED.labels(reason="session_live").inc()
            log.warning("audiohook.session_id_live", session_id=session_id)
            return connection.respond(409, "Conflict: this audiohook-session-id is live\n")
        result = self.authenticate(headers, request.path)
        failure: str | None = None
        if not result.ok:
            failure = f"{result.code}: {result.reason}"
            self.stats["rejected"] += 1
            metrics.SIGNATURE_FAILURES.labels(code=result.code).inc()
            log.warning("audiohook.auth_failed", code=result.code, reason=result.reason)
            wait = started + self.settings.auth_failure_delay_s - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if self.settings.auth_failure_mode == "http":
                metrics.UPGRADES_REFUSED.labels(reason="unauthorized").inc()
                return connection.respond(401, "Unauthorized\n")
        self._upgrades[connection.id] = _Upgrade(
            headers["audiohook-session-id"],
            headers["audiohook-organization-id"],
            headers["audiohook-correlation-id"],
            failure,
        )
        return None

    # ---- one connection ------------------------------------------------------------

    async def _handle(self, ws: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        up = self._upgrades.pop(ws.id, None)
        if up is None:  # pragma: no cover - process_request always records it
            await ws.close(1011)
            return
        session = ServerSession(
            up.session_id,
            settings=self.settings,
            sink=self.sink,
            spool_root=self.spool_root,
            send=ws.send,
            header_org_id=up.org_id,
            correlation_id=up.correlation_id,
            auth_failure=up.auth_failure,
        )
        key = f"{up.session_id}:{ws.id}"
        self.sessions[up.session_id] = session
        self.stats["sessions"] += 1
        metrics.SESSIONS_OPEN.inc()
        dropped = True
        try:
            while True:
                async with asyncio.timeout(self.settings.idle_timeout_s):
                    message = await ws.recv()
                if isinstance(message, str):
                    metrics.FRAMES.labels(type="text").inc()
                    await session.on_text(message)
                else:
                    metrics.FRAMES.labels(type="audio").inc()
                    metrics.AUDIO_BYTES.inc(len(message))
                    await session.on_binary(message)
                if session.state == "CLOSED":
                    dropped = False
                    break
        except (ConnectionClosed, TimeoutError):
            pass
        except Exception:  # never let one session take the process down
            log.exception("audiohook.session_crashed", session=key)
        finally:
            self.stats["dropped" if dropped else "closed"] += 1
            metrics.SESSIONS_OPEN.dec()
            metrics.SESSIONS_ENDED.labels(reason="dropped" if dropped else "closed").inc()
            self.stats["probes"] += int(session.probe)
            try:
                await session.finalize(dropped)
            finally:
                if self.sessions.get(up.session_id) is session:
                    del self.sessions[up.session_id]
        if not dropped:
            # The client closes the socket after `closed`; do it ourselves if it does not.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await ws.wait_closed()
        await ws.close()
