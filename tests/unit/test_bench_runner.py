"""``make bench`` imports each benchmark by its module name (spawned processes need that)."""

from __future__ import annotations

import importlib
import subprocess
import sys

from bench.__main__ import BENCHMARKS


def test_every_benchmark_is_an_importable_module_with_a_main() -> None:
    for name in BENCHMARKS:
        module = importlib.import_module(f"bench.{name}")
        assert module.__name__ == f"bench.{name}"
        assert callable(module.main), name


def test_a_benchmark_that_spawns_a_server_runs_through_the_runner() -> None:
    # genesys_fetch serves the emulator from a spawned process: run as __main__ it failed
    # to unpickle the server function; 4 conversations at 1 ms keep it to seconds
    done = subprocess.run(
        [sys.executable, "-m", "bench", "genesys_fetch", "4", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "speed-up:" in done.stdout
