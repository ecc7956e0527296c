"""Helpers of the observability tests: a `media-bridge run` subprocess with an operations
port, and reads of its endpoints and its Prometheus text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.integration.bridge.harness import free_port


def get(url: str) -> tuple[int | None, str]:
    """Status and body of a GET (None when nothing answers)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (http only)
            return int(answer.status), answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return None, ""


def get_json(url: str) -> tuple[int | None, dict[str, Any]]:
    status, body = get(url)
    return status, (json.loads(body) if body else {})


def samples(text: str) -> dict[str, float]:
    """``name{labels}`` -> value of every sample line of a Prometheus exposition."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


def metric_names(text: str) -> set[str]:
    """Every metric family named by a ``# TYPE`` line, with the series names its type
    gives (``_total`` of counters; ``_bucket``/``_sum``/``_count`` of histograms)."""
    names: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(maxsplit=3)
            names.add(name)
            if kind == "counter":
                names.add(f"{name}_total")
            if kind in {"histogram", "summary"}:
                names.update({f"{name}_bucket", f"{name}_sum", f"{name}_count"})
    return names


@dataclass
class RunningBridge:
    process: subprocess.Popen[str]
    ops_url: str
    intake_url: str


def base_env(tmp_path: Path, extra: dict[str, str]) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("MEDIA_BRIDGE_")},
        "MEDIA_BRIDGE_LEDGER__URL": f"sqlite:///{tmp_path}/ledger.db",
        "MEDIA_BRIDGE_SINKS__DIR_PATH": str(tmp_path / "out"),
        "MEDIA_BRIDGE_SINKS__TEXT_PATH": str(tmp_path / "nlp.jsonl"),
        "MEDIA_BRIDGE_AUDIO__WORKERS": "1",
        "MEDIA_BRIDGE_INTAKE__API_KEY": "k",
        **extra,
    }


@contextmanager
def running_bridge(env: dict[str, str], *sources: str) -> Iterator[RunningBridge]:
    """`media-bridge run --source ...` until its operations port answers; SIGTERM after."""
    ops_port, intake_port = free_port(), free_port()
    env = {
        **env,
        "MEDIA_BRIDGE_OPERATIONS__PORT": str(ops_port),
        "MEDIA_BRIDGE_INTAKE__PORT": str(intake_port),
    }
    args = [arg for source in sources for arg in ("--source", source)]
    process = subprocess.Popen(
        [sys.executable, "-m", "media_bridge", "run", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    ops = f"http://127.0.0.1:{ops_port}"
    try:
        deadline = time.monotonic() + 30
        while get(f"{ops}/healthz")[0] != 200:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the operations port did not answer"
            time.sleep(0.1)
        yield RunningBridge(process, ops, f"http://127.0.0.1:{intake_port}")
        process.terminate()
        _, stderr = process.communicate(timeout=30)
        assert process.returncode == 0, stderr[-3000:]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
