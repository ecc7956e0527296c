"""Parse + plan throughput for EventBridge events, beside a bare ``json.loads`` baseline.

    .venv/bin/python -m bench.parse_events [N]

The baseline only decodes the JSON (the floor any parser pays); the bridge figure
includes envelope checks, topic parsing and job planning. Both run in the same process
on the same mix of fixture events (message topic with 2 attachments, detail events,
transcription).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from media_bridge.intake.events import parse_event
from media_bridge.jobs.media_types import wanted_media_types
from media_bridge.jobs.planning import plan_jobs

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "events"
MIX = [
    "message_queue_voice_note.json",
    "message_user_webmessaging.json",
    "detail_customer_start_message.json",
    "detail_customer_end_message.json",
    "detail_customer_end_voice.json",
    "transcription.json",
]


def _events(n: int) -> list[bytes]:
    raw = [json.dumps(json.loads((FIXTURES / name).read_bytes())).encode() for name in MIX]
    return [raw[i % len(raw)] for i in range(n)]


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>10,.0f} events/s  ({seconds * 1e6 / n:6.1f} us/event)"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 60_000
    events = _events(n)
    start = time.perf_counter()
    for raw in events:
        json.loads(raw)
    baseline = time.perf_counter() - start

    start = time.perf_counter()
    for raw in events:
        parse_event(raw)
    parse_only = time.perf_counter() - start

    wanted = wanted_media_types(["Audio"])
    jobs = 0
    start = time.perf_counter()
    for raw in events:
        jobs += len(plan_jobs(parse_event(raw), wanted))
    full = time.perf_counter() - start

    print(f"events: {n} (mix of {len(MIX)} fixture shapes, ~{len(events[0])} bytes each)")
    print(f"baseline json.loads only   {_rate(n, baseline)}")
    print(f"parse_event                {_rate(n, parse_only)}")
    print(f"parse_event + plan_jobs    {_rate(n, full)}  -> {jobs} jobs")
    print(f"parse+plan cost vs bare decode: {full / baseline:.2f}x")


if __name__ == "__main__":
    main()
