"""HTTP intake for an EventBridge API destination.

EventBridge connections authenticate with an API-key header or basic auth; an API
destination gives up on a request after 5 seconds and retries on 5xx/429. So the
endpoint checks auth and size, records the jobs durably, and answers at once:
202 when recorded, 400 for a body that cannot be parsed (kept in the rejected
table; EventBridge does not retry 4xx), 401, 413, and 503 if the ledger is away
(EventBridge retries). Downloads happen in workers, never in the request.

``HttpIntakeServer`` serves the app as an intake runner (``intake.runner``): the run
loop starts and stops it as it does a source's pump.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from media_bridge import metrics
from media_bridge.config import IntakeSettings
from media_bridge.errors import ConfigError
from media_bridge.intake.ingest import Intake, IntakeResult
from media_bridge.intake.runner import IntakeRunner, RunningBridge
from media_bridge.observability import get_logger
from media_bridge.operations.port import Readiness, readyz_endpoint

log = get_logger(__name__)


def _authorised(request: Request, settings: IntakeSettings) -> bool:
    checks: list[bool] = []
    if settings.api_key:
        given = request.headers.get(settings.api_key_header, "")
        checks.append(hmac.compare_digest(given.encode(), settings.api_key.encode()))
    if settings.basic_user is not None and settings.basic_password is not None:
        expected = base64.b64encode(
            f"{settings.basic_user}:{settings.basic_password}".encode()
        ).decode()
        given = request.headers.get("authorization", "")
        checks.append(hmac.compare_digest(given.encode(), f"Basic {expected}".encode()))
    # with both configured, either one suffices (a connection sends one kind)
    return any(checks) if checks else settings.allow_anonymous


async def _read_limited(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class _RefusalLog:
    """Counts 401s; logs at most one line per ``every_s`` with the count since the last one
    and what was expected (header names only, never values)."""

    def __init__(self, settings: IntakeSettings, every_s: float = 60.0) -> None:
        import time

        self._settings = settings
        self._every = every_s
        self._clock = time.monotonic
        self._last: float | None = None
        self._since = 0

    def expected(self) -> str:
        wanted = []
        if self._settings.api_key:
            wanted.append(f"header {self._settings.api_key_header} with the API key")
        if self._settings.basic_user is not None and self._settings.basic_password is not None:
            wanted.append("basic auth (authorization header)")
        return " or ".join(wanted) or "nothing (anonymous refused)"

    def refused(self, request: Request) -> None:
        metrics.INTAKE_UNAUTHORIZED.inc()
        self._since += 1
        now = self._clock()
        if self._last is not None and now - self._last < self._every:
            return
        self._last = now
        sent = sorted(
            name
            for name in request.headers
            if name in {self._settings.api_key_header.lower(), "authorization"}
            or "key" in name
            or "auth" in name
        )
        log.warning(
            "intake.unauthorized",
            expected=self.expected(),
            auth_headers_sent=sent,
            refused=self._since,
            client=request.client.host if request.client else None,
        )
        self._since = 0


async def _read_body(request: Request, settings: IntakeSettings) -> bytes | Response:
    """The request body, or the answer refusing it: 408 when it is not all in within
    ``body_timeout_s``, 413 when it is larger than ``max_body_bytes``."""
    try:
        async with asyncio.timeout(settings.body_timeout_s):
            body = await _read_limited(request, settings.max_body_bytes)
    except TimeoutError:
        metrics.INTAKE_REFUSED.labels(reason="slow_body").inc()
        log.warning(
            "intake.slow_body",
            limit_s=settings.body_timeout_s,
            client=request.client.host if request.client else None,
        )
        return JSONResponse(
            {"error": "body too slow", "limit_s": settings.body_timeout_s},
            status_code=408,
            headers={"connection": "close"},
        )
    if body is None:
        metrics.INTAKE_REFUSED.labels(reason="too_large").inc()
        return JSONResponse(
            {"error": "payload too large", "limit_bytes": settings.max_body_bytes},
            status_code=413,
        )
    return body


def _answer(result: IntakeResult, settings: IntakeSettings) -> Response:
    """413 for a body of too many events, else the counts and the commonest reasons (never
    one line per rejected event): 400 when nothing in the body parsed, 202 otherwise."""
    if result.too_many_events:
        metrics.INTAKE_REFUSED.labels(reason="too_many_events").inc()
        return JSONResponse(
            {"error": "too many events", "limit_events": settings.max_events_per_body},
            status_code=413,
        )
    answer: dict[str, Any] = {
        "accepted": result.events - result.unknown_topics,
        "unknown_topics": result.unknown_topics,
        "jobs_added": result.jobs_added,
        "jobs_reopened": result.jobs_reopened,
        "rejected": len(result.rejected),
        "reasons": result.reasons(),
    }
    status = 400 if result.rejected and result.events == 0 else 202
    if status == 400:
        metrics.INTAKE_REFUSED.labels(reason="unparseable").inc()
    return JSONResponse(answer, status_code=status)


def build_intake_app(
    intake: Intake,
    settings: IntakeSettings,
    *,
    extra_routes: list[Route] | None = None,
    readiness: Readiness | None = None,
) -> Starlette:
    """``POST /events``, and ``/healthz`` and ``/readyz`` (the process's readiness, as on
    the operations port) for a load balancer in front of the intake."""
    refusals = _RefusalLog(settings)

    async def post_events(request: Request) -> Response:
        if not _authorised(request, settings):
            refusals.refused(request)
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        body = await _read_body(request, settings)
        if isinstance(body, Response):
            return body
        try:
            result = await intake.accept(
                body,
                f"http:{request.client.host if request.client else '-'}",
                max_events=settings.max_events_per_body,
            )
        except Exception as exc:  # ledger unavailable: let EventBridge retry
            metrics.INTAKE_REFUSED.labels(reason="ledger_unavailable").inc()
            log.error("intake_failed", error=str(exc))
            return JSONResponse({"error": "ledger unavailable, retry"}, status_code=503)
        return _answer(result, settings)

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok")

    # /metrics is not here: it lives on the operations port (media_bridge.operations.port)
    routes = [
        Route("/events", post_events, methods=["POST"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz_endpoint(readiness)),
        *(extra_routes or []),
    ]
    return Starlette(routes=routes)


def _deadlined_protocol(header_timeout_s: float) -> type[Any]:
    """uvicorn's h11 protocol with a deadline for request headers: a connection that has
    not sent a whole request head within ``header_timeout_s`` of opening (or of its
    previous response) is closed. uvicorn itself only times idle keep-alives, so a
    client dribbling headers one line a second would otherwise hold its socket forever.
    """
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class DeadlinedH11Protocol(H11Protocol):
        _header_deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            if not self.transport.is_closing():
                self._header_deadline = self.loop.call_later(header_timeout_s, self._late)

        def _disarm(self) -> None:
            if self._header_deadline is not None:
                self._header_deadline.cancel()
                self._header_deadline = None

        def _late(self) -> None:
            self._header_deadline = None
            if self.cycle is None or self.cycle.response_complete:  # no new request head
                log.warning("intake.slow_headers", limit_s=header_timeout_s)
                self.transport.close()

    return DeadlinedH11Protocol


def intake_server_config(app: Starlette, settings: IntakeSettings) -> Any:
    """The uvicorn config of the intake: header deadline, connection cap (the body
    deadline is the handler's). Behind a public endpoint, put a reverse proxy in front
    as well (docs/deployment.md)."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        log_config=None,  # its lines go through structlog (configure_logging)
        # the intake has no start-up or shutdown hooks; with a lifespan task, the
        # shutdown's cancellation was logged as a plain-text CancelledError traceback
        lifespan="off",
        http=_deadlined_protocol(settings.header_timeout_s),
        limit_concurrency=settings.max_connections,
        h11_max_incomplete_event_size=16 * 1024,
    )


class HttpIntakeServer(IntakeRunner):
    """``--source http``: the intake app served on ``intake.host:port`` (uvicorn, the
    config above) with the process's readiness on its ``/readyz``, until the run loop
    stops it. Never runs out of events, so ``until_idle`` does not apply to it."""

    name = "http"
    finite = False

    def __init__(self, settings: IntakeSettings) -> None:
        if not (settings.has_auth or settings.allow_anonymous):
            raise ConfigError(
                "the HTTP intake needs authentication, as an EventBridge connection sends it: "
                "set MEDIA_BRIDGE_INTAKE__API_KEY (header MEDIA_BRIDGE_INTAKE__API_KEY_HEADER, "
                "default x-api-key) or MEDIA_BRIDGE_INTAKE__BASIC_USER and __BASIC_PASSWORD "
                "(MEDIA_BRIDGE_INTAKE__ALLOW_ANONYMOUS=true for local experiments only)"
            )
        self._settings = settings

    async def run(self, bridge: RunningBridge, readiness: Readiness | None) -> IntakeResult:
        import uvicorn

        assert bridge.intake is not None
        app = build_intake_app(bridge.intake, self._settings, readiness=readiness)
        await uvicorn.Server(intake_server_config(app, self._settings)).serve()
        # each request's result is its answer; none is kept for a summary
        return IntakeResult()
