"""Run every benchmark in turn (`make bench`), or one: `python -m bench voice_notes`.

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
)


def main() -> None:
    chosen = sys.argv[1:] or list(BENCHMARKS)
    for name in chosen:
        print(f"\n## bench.{name}\n", flush=True)
        saved = sys.argv
        sys.argv = [f"bench.{name}"]
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
