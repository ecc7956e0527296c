"""AudioHook load bench: N concurrent stereo PCMU sessions, 200 ms frames at real-time
pace, against the server running in another process.

Runs a baseline side by side: a bare protocol server (answers opened/pong/closed and
drops audio) under the same load, so the cost of decoding, resampling, VAD and
delivery shows against the cost of WebSockets alone. Prints a markdown table.

    .venv/bin/python -m bench.audiohook_bench --sessions 200 --duration 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

API_KEY = "bench-key"
SECRET = "YmVuY2gtc2VjcmV0LWJlbmNoLXNlY3JldA=="  # noqa: S105 - a bench-only key
PATH = "/api/v1/audiohook/ws"


async def _baseline_server(port_file: str) -> None:
    """A bare AudioHook server: correct replies, audio dropped, no auth."""
    from websockets.asyncio.server import serve

    async def handler(ws: Any) -> None:
        seq = 0
        async for raw in ws:
            if isinstance(raw, bytes):
                continue
            msg = json.loads(raw)
            reply = {"open": "opened", "ping": "pong", "close": "closed"}.get(msg["type"])
            if reply is None:
                continue
            seq += 1
            params: dict[str, Any] = {}
            if reply == "opened":
                params = {"media": msg["parameters"]["media"][:1], "startPaused": False}
            out = {
                "version": "2",
                "type": reply,
                "id": msg["id"],
                "seq": seq,
                "clientseq": msg["seq"],
                "parameters": params,
            }
            await ws.send(json.dumps(out))

    async with serve(handler, "127.0.0.1", 0, compression=None, max_size=1 << 20) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        await asyncio.to_thread(Path(port_file).write_text, str(port))
        await asyncio.Future()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start(kind: str, out_dir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port_file = out_dir / f"{kind}.port"
    env = dict(os.environ)
    if kind == "audiohook":
        env |= {
            "MEDIA_BRIDGE_AUDIOHOOK__API_KEYS": json.dumps({API_KEY: SECRET}),
            "MEDIA_BRIDGE_AUDIOHOOK__SINK__DIR_PATH": str(out_dir / "sink"),
            "MEDIA_BRIDGE_AUDIOHOOK__LOG_LEVEL": "WARNING",
        }
        cmd = [sys.executable, "-m", "media_bridge", "audiohook", "--port", "0"]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE)
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        port = int(json.loads(line)["listening"].rsplit(":", 1)[1].split("/")[0])
        return proc, port
    cmd = [sys.executable, "-m", "bench.audiohook_bench", "--serve-baseline", str(port_file)]
    proc = subprocess.Popen(cmd, env=env)
    deadline = time.monotonic() + 20
    while not port_file.exists() or not port_file.read_text():
        if time.monotonic() > deadline:
            raise RuntimeError("baseline server did not start")
        time.sleep(0.05)
    return proc, int(port_file.read_text())


async def _load(port: int, sessions: int, duration: float, ramp: float) -> list[Any]:
    from media_bridge.audiohook.audio_source import generated_call
    from media_bridge.audiohook.client import ClientConfig, run_many

    audio = generated_call(duration)
    configs = [
        ClientConfig(
            uri=f"ws://127.0.0.1:{port}{PATH}",
            api_key=API_KEY,
            client_secret=SECRET,
            media_format="PCMU",
            stereo=True,
            frame_ms=200,
            realtime=True,
            duration_s=duration,
            audio=audio,
            ping_interval_s=1.0,
            close_timeout_s=30.0,
        )
        for _ in range(sessions)
    ]
    return await run_many(configs, ramp)


def run_one(
    kind: str, sessions: int, duration: float, ramp: float, out_dir: Path
) -> dict[str, Any]:
    from media_bridge.audiohook.client import summarize

    proc, port = _start(kind, out_dir)
    try:
        wall0, cpu0 = time.monotonic(), _cpu_seconds(proc.pid)
        reports = asyncio.run(_load(port, sessions, duration, ramp))
        wall, cpu = time.monotonic() - wall0, _cpu_seconds(proc.pid) - cpu0
    finally:
        proc.terminate()
        proc.wait(30)
    summary = summarize(reports)
    summary["server"] = kind
    summary["server_cpu_pct"] = round(100 * cpu / wall, 1)
    # average concurrent sessions over the run: each lasts ~duration of the wall time
    busy = sum(r.duration_s for r in reports) / wall
    summary["cpu_ms_per_session_s"] = round(1000 * cpu / max(busy * wall, 1e-9), 2)
    summary["sample_violation"] = next((v for r in reports for v in r.violations + r.notes), "")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--ramp", type=float, default=5.0)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--serve-baseline", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_baseline:
        asyncio.run(_baseline_server(args.serve_baseline))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        kinds = ["audiohook"] if args.no_baseline else ["baseline", "audiohook"]
        for kind in kinds:
            rows.append(run_one(kind, args.sessions, args.duration, args.ramp, Path(tmp)))
    print(
        f"\n{args.sessions} concurrent stereo PCMU sessions, 200 ms frames at real time, "
        f"{args.duration:.0f} s audio each, pings every 1 s, {os.cpu_count()} CPUs\n"
    )
    print(
        "| server | sessions | sustained (ok) | violations | pongs | pong p50 ms | "
        "pong p99 ms | pong max ms | server CPU % | CPU ms per session-second |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['server']} | {r['sessions']} | {r['ok']} | {r['violations']} | {r['pongs']} "
            f"| {r['pong_p50_ms']} | {r['pong_p99_ms']} | {r['pong_max_ms']} "
            f"| {r['server_cpu_pct']} | {r['cpu_ms_per_session_s']} |"
        )
    for r in rows:
        if r["sample_violation"]:
            print(f"\n{r['server']}: first problem: {r['sample_violation']}")


if __name__ == "__main__":
    main()
