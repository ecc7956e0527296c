"""``make bench`` imports each benchmark by its module name (spawned processes need that)."""

from __future__ import annotations

import importlib

from bench.__main__ import BENCHMARKS


def test_every_benchmark_is_an_importable_module_with_a_main() -> None:
    for name in BENCHMARKS:
        module = importlib.import_module(f"bench.{name}")
        assert module.__name__ == f"bench.{name}"
        assert callable(module.main), name
