"""The operations port every long-running process serves (``run``, ``audiohook``):
``/healthz`` (the process answers), ``/readyz`` (its role's checks, each named, 503 while
one fails) and ``/metrics`` (Prometheus). Loopback by default, never the public port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from media_bridge.observability import get_logger
from media_bridge.operations.settings import OperationsSettings

log = get_logger(__name__)

#: a readiness check: returns when it passes, raises with the reason when it fails
Check = Callable[[], Awaitable[object]]
#: run before each scrape (gauges read from the ledger, say)
ScrapeHook = Callable[[], Awaitable[None]]


class NotReady(Exception):
    """A check failed; its message is what ``/readyz`` shows for it (no secrets, no URLs)."""


@dataclass
class Readiness:
    """A process's readiness: ``checks`` decide it, ``advisory`` checks are only reported
    (an intake shows its token but stays ready while Genesys is down)."""

    role: str
    checks: Mapping[str, Check] = field(default_factory=dict)
    advisory: Mapping[str, Check] = field(default_factory=dict)
    timeout_s: float = 3.0
    _last: bool | None = field(default=None, init=False, repr=False)

    async def _run(self, name: str, check: Check) -> str:
        try:
            async with asyncio.timeout(self.timeout_s):
                await check()
        except TimeoutError:
            return f"{name} check did not answer within {self.timeout_s:g} s"
        except NotReady as exc:
            return str(exc)
        except Exception as exc:
            return f"{name}: {type(exc).__name__}: {str(exc)[:200]}"
        return "ok"

    async def _all(self, checks: Mapping[str, Check]) -> dict[str, str]:
        names = list(checks)
        found = await asyncio.gather(*(self._run(n, checks[n]) for n in names))
        return dict(zip(names, found, strict=True))

    async def report(self) -> dict[str, Any]:
        """``{"ready": bool, "role": ..., "checks": {name: "ok" | reason}}`` (and
        ``advisory`` when there are such checks); a change of verdict is logged."""
        checks = await self._all(self.checks)
        ready = all(v == "ok" for v in checks.values())
        body: dict[str, Any] = {"ready": ready, "role": self.role, "checks": checks}
        if self.advisory:
            body["advisory"] = await self._all(self.advisory)
        _record(self, ready, checks)
        return body


def _record(readiness: Readiness, ready: bool, checks: Mapping[str, str]) -> None:
    from media_bridge import metrics

    for name, verdict in checks.items():
        metrics.READINESS.labels(check=name).set(1 if verdict == "ok" else 0)
    if readiness._last is not ready:
        failing = {k: v for k, v in checks.items() if v != "ok"}
        if ready:
            log.info("operations.ready", role=readiness.role)
        else:
            log.warning("operations.not_ready", role=readiness.role, failing=failing)
        readiness._last = ready


def readyz_endpoint(readiness: Readiness | None) -> Callable[[Request], Awaitable[Response]]:
    """``/readyz``: 200 with the checks when ready, 503 naming the failing ones; with no
    readiness given, ready as soon as the process serves (no checks)."""

    async def readyz(_: Request) -> Response:
        if readiness is None:
            return JSONResponse({"ready": True, "role": "none", "checks": {}})
        body = await readiness.report()
        return JSONResponse(body, status_code=200 if body["ready"] else 503)

    return readyz


async def _healthz(_: Request) -> Response:
    return PlainTextResponse("ok")


def build_operations_app(
    readiness: Readiness | None = None,
    before_scrape: Sequence[ScrapeHook] = (),
    registry: CollectorRegistry | None = None,
) -> Starlette:
    """``/healthz``, ``/readyz`` and ``/metrics`` of ``registry`` (default: the bridge's),
    after ``before_scrape`` refreshed what is read at scrape time (a hook that fails is
    logged and the scrape still answers)."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    from media_bridge.metrics import REGISTRY

    exported = registry if registry is not None else REGISTRY

    async def metrics_endpoint(_: Request) -> Response:
        for hook in before_scrape:
            try:
                await hook()
            except Exception as exc:
                log.warning("operations.scrape_hook_failed", error=f"{type(exc).__name__}: {exc}")
        return Response(generate_latest(exported), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/healthz", _healthz),
            Route("/readyz", readyz_endpoint(readiness)),
            Route("/metrics", metrics_endpoint),
        ]
    )


@asynccontextmanager
async def serving_operations(
    settings: OperationsSettings,
    readiness: Readiness | None = None,
    before_scrape: Sequence[ScrapeHook] = (),
    registry: CollectorRegistry | None = None,
) -> AsyncIterator[str | None]:
    """Serve the operations app while the block runs; yields its URL, or None when the
    port is 0 or taken (logged; the process runs on)."""
    import socket

    import uvicorn

    if settings.port == 0:
        yield None
        return
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((settings.host, settings.port))
    except OSError as exc:
        sock.close()
        log.warning(
            "operations.port_unavailable",
            host=settings.host,
            port=settings.port,
            error=str(exc),
            hint="set the operations port setting (0 = off)",
        )
        yield None
        return
    app = build_operations_app(readiness, before_scrape, registry)
    config = uvicorn.Config(app, log_level="warning", log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(1000):  # uvicorn has no started event: up to 10 s
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    host, port = sock.getsockname()[:2]
    log.info("operations.listening", host=host, port=port)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
