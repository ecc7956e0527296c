"""Run every benchmark in turn (`make bench`), or some: `python -m bench voice_notes`.

Words after a benchmark's name are its own arguments: `make bench BENCH="voice_notes 60 20"`.

Each benchmark prints its own markdown table with a baseline measured in the same run.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = (
    "voice_notes",  # the voice-note path end to end vs a sequential baseline (issue 3)
    "genesys_fetch",  # the Genesys client + fetcher alone
    "audio_bench",  # normalisation speed per format vs bare PyAV decode, 1-hour RSS (issue 4)
    "parse_events",  # event parsing vs bare json.loads
    "ledger_claims",  # SQLite ledger claims vs a naive ledger
    "ledger_bench",  # SQLite vs PostgreSQL claim rate (issue 5)
    "scale_bench",  # 1, 2, 4 workers (issue 5)
    "recording_bench",  # a 1-hour stereo recording fetched and split (issue 6)
    "audiohook_bench",  # concurrent AudioHook sessions (issue 7)
    "api_budget",  # Platform API requests per delivered voice note, by consent mode
    "real_limit",  # items/min at the real 300/60 s rolling limit, pacing on/off vs sequential
    "recording_batch",  # backfill requests and wall time, batch download vs per-recording (23)
)


def _chosen(words: list[str]) -> list[tuple[str, list[str]]]:
    chosen: list[tuple[str, list[str]]] = []
    for word in words:
        if word in BENCHMARKS or not chosen:
            chosen.append((word, []))
        else:
            chosen[-1][1].append(word)
    return chosen or [(name, []) for name in BENCHMARKS]


def main() -> None:
    for name, args in _chosen(sys.argv[1:]):
        print(f"\n## bench.{name}\n", flush=True)
        saved = sys.argv
        sys.argv = [f"bench.{name}", *args]
        try:
            # imported, not run as __main__: functions a benchmark hands to a spawned
            # process must be importable by their module name (bench.voice_notes._serve)
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            print(f"(skipped: {exc})")
        else:
            module.main()
        finally:
            sys.argv = saved


if __name__ == "__main__":
    main()
