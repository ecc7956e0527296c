"""``make bench`` imports each benchmark by its module name (spawned processes need that)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

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


# the smallest size of each benchmark, run through the documented runner; about a minute in
# all, so it runs with the slow tests (`make test` runs those in its second pass)
TINY_SIZES = {
    "voice_notes": ["20", "1"],
    "genesys_fetch": ["4", "1"],
    "audio_bench": ["--quick"],
    "parse_events": ["500"],
    "ledger_claims": ["200"],
    "ledger_bench": ["--jobs", "200", "--workers", "2"],
    "scale_bench": ["--attachments", "40", "--workers", "2"],
    "recording_bench": ["30"],
    "audiohook_bench": ["--sessions", "2", "--duration", "2"],
    "api_budget": ["2", "1"],
    "real_limit": ["--tiny", "--minutes", "1"],
    "recording_batch": ["10"],
}


def test_every_benchmark_has_a_tiny_size() -> None:
    assert sorted(TINY_SIZES) == sorted(BENCHMARKS)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TINY_SIZES))
def test_each_benchmark_runs_at_its_smallest_size(name: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", name, *TINY_SIZES[name]],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"## bench.{name}" in done.stdout
    assert "skipped" not in done.stdout, done.stdout[-2000:]
