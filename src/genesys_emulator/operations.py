"""The emulator's operations port (``--operations-port``): ``/healthz``, ``/readyz`` (every
host is serving) and ``/metrics`` in the Prometheus text format, written here (the
distribution does not depend on prometheus-client). Off the emulated hosts, so probes
are neither counted in the stats nor hit by injected faults."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from genesys_emulator.state import OrgState

#: the Prometheus text exposition format, version 0.0.4
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _label(value: object) -> str:
    text = str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    return f'"{text}"'


def _family(
    name: str, kind: str, help_text: str, rows: Iterable[tuple[dict[str, object], float]]
) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    series = f"{name}_total" if kind == "counter" else name
    for labels, value in rows:
        inner = ",".join(f"{k}={_label(v)}" for k, v in sorted(labels.items()))
        lines.append(f"{series}{{{inner}}} {value:g}" if inner else f"{series} {value:g}")
    return lines


def exposition(state: OrgState) -> str:
    """The emulator's counters: requests by host and status, faults injected by kind,
    tokens and download links issued, events emitted."""
    with state.lock:
        by_status: Counter[tuple[str, int]] = Counter()
        for (host, _path, status), count in state.stats.items():
            by_status[(host, status)] += count
        faults = dict(state.fault_counts)
        tokens, links, events = len(state.tokens), len(state.downloads), len(state.events)
    lines = [
        *_family(
            "genesys_emulator_requests",
            "counter",
            "Requests answered, by emulated host and HTTP status",
            (({"host": h, "status": s}, n) for (h, s), n in sorted(by_status.items())),
        ),
        *_family(
            "genesys_emulator_faults",
            "counter",
            "Faults injected, by kind",
            (({"kind": k}, n) for k, n in sorted(faults.items())),
        ),
        *_family("genesys_emulator_tokens", "gauge", "Access tokens issued", [({}, tokens)]),
        *_family(
            "genesys_emulator_download_links", "gauge", "Download links issued", [({}, links)]
        ),
        *_family("genesys_emulator_events", "counter", "Events emitted", [({}, events)]),
    ]
    return "\n".join(lines) + "\n"


def build_operations_app(state: OrgState, hosts_serving: Callable[[], bool]) -> Starlette:
    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(_: Request) -> Response:
        ready = hosts_serving()
        checks = {"hosts": "ok" if ready else "not every emulated host is serving yet"}
        body = {"ready": ready, "role": "emulator", "checks": checks}
        return JSONResponse(body, status_code=200 if ready else 503)

    async def metrics(_: Request) -> Response:
        return Response(exposition(state), media_type=CONTENT_TYPE)

    return Starlette(
        routes=[Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics)]
    )
