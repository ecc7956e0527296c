"""Throughput at the real Platform API limit: 300 requests per rolling 60 s per token.

    .venv/bin/python -m bench.real_limit [--minutes M] [--tiny]

Each variant runs in its own process against its own emulator (rolling-window limit per
token, 50 ms latency on every host), all three at once to save wall time:

- bridge, pacing on (the default: 0.9 of the 300/min budget);
- bridge, pacing off (only 429s pace it);
- a sequential baseline: one Downloads request per note, one note at a time, sleeping out
  each 429's Retry-After.

Every variant gets more voice notes (message-topic events with fresh links) than it can
fetch in the run. The first full window is warm-up; items, Platform API requests and 429s
are counted over the next M windows (default 3). ``--tiny`` shrinks the window to 2 s and
the limit to 10 (the same 300/min rate) for the bench runner's smoke test.

Figures (--minutes 3, 2-core machine shared with other work):

| run | items/min | items | Platform API requests | requests/item | 429s |
|---|---|---|---|---|---|
| bridge, pacing on | 270 | 810 | 810 | 1.00 | 0 |
| bridge, pacing off | 300 | 900 | 1187 | 1.32 | 287 |
| sequential baseline | 300 | 900 | 909 | 1.01 | 9 |
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import aiohttp

from genesys_emulator.config import EmulatorConfig, FaultConfig, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import EmulatorHandle, running_emulator
from media_bridge.app import Bridge
from media_bridge.config import Settings
from media_bridge.genesys.settings import GenesysSettings
from media_bridge.intake.runner import SourcePump
from media_bridge.intake.sources.file import FileSource
from media_bridge.observability import configure_logging
from media_bridge.runtime import run_pipeline

VARIANTS = ("bridge, pacing on", "bridge, pacing off", "sequential baseline")
NOTES_PER_CONVERSATION = 10


def _api_counts(emu: EmulatorHandle) -> tuple[int, int]:
    """(Platform API requests, 429 answers) so far."""
    total = limited = 0
    for row in emu.stats()["requests"]:
        if row["path"].startswith("/api/v2/") and not row["path"].startswith("/api/v2/token"):
            total += row["count"]
            if row["status"] == 429:
                limited += row["count"]
    return total, limited


def _sequential(
    emu: EmulatorHandle, links: list[str], stop: threading.Event, done: list[int]
) -> None:
    asyncio.run(_sequential_async(emu, links, stop, done))


async def _sequential_async(
    emu: EmulatorHandle, links: list[str], stop: threading.Event, done: list[int]
) -> None:
    settings = emu.genesys_settings()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False)) as client:
        async with client.post(
            f"{settings['login_url']}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=aiohttp.BasicAuth(settings["client_id"], settings["client_secret"]),
        ) as answer:
            token = (await answer.json())["access_token"]
        for link in links:
            signed = ""
            while not stop.is_set():
                async with client.get(
                    link, headers={"Authorization": f"Bearer {token}"}, allow_redirects=False
                ) as answer:
                    if answer.status == 429:
                        wait = float(answer.headers.get("Retry-After", "1"))
                        await asyncio.to_thread(stop.wait, wait)
                        continue
                    answer.raise_for_status()
                    if answer.status in (301, 302, 303, 307, 308):
                        signed = answer.headers["Location"]
                    else:
                        signed = (await answer.json())["url"]
                    break
            if stop.is_set():
                return
            async with client.get(signed) as media:  # the signed URL, without the token
                media.raise_for_status()
                await media.read()
            done[0] += 1


def _variant(variant: str, minutes: int, window_s: float, limit: int) -> dict[str, Any]:
    configure_logging("ERROR")
    notes = int(limit * (minutes + 1) * 1.3) + NOTES_PER_CONVERSATION
    config = EmulatorConfig(
        rate_limit_requests=limit,
        rate_limit_window_s=window_s,
        faults=FaultConfig(latency_ms=50.0),
        download_link_ttl_s=3600.0,
        signed_url_ttl_s=3600.0,
        scenario=ScenarioConfig(messaging_conversations=0, voice_conversations=0),
    )
    with tempfile.TemporaryDirectory() as tmp, running_emulator(config) as emu:
        root = Path(tmp)
        for _ in range(notes // NOTES_PER_CONVERSATION):
            conversation = emu.add_messaging_conversation(
                "whatsapp", kinds=("ogg_opus",) * NOTES_PER_CONVERSATION, texts=0
            )
            conversation.consent = "granted"
        events = scenario_events(emu.state, "message")
        out = root / "out"
        done = [0]
        stop = threading.Event()
        if variant == "sequential baseline":
            text = json.dumps(events)
            links = list(
                dict.fromkeys(re.findall(r"https?://[^\"]*/api/v2/downloads/[^\"]+", text))
            )
            worker = threading.Thread(target=_sequential, args=(emu, links, stop, done))
        else:
            path = root / "events.jsonl"
            path.write_text("".join(json.dumps(e) + "\n" for e in events))
            genesys = emu.genesys_settings()
            genesys["pacing"] = "on" if variant == "bridge, pacing on" else "off"
            genesys["budget_per_minute"] = limit * 60.0 / window_s
            settings = Settings(
                genesys=GenesysSettings(**genesys),
                ledger={"url": f"sqlite:///{root}/ledger.db"},
                sinks={"dir_path": out, "text_path": root / "nlp.jsonl"},
                audio={"enabled": False},
                consent={"mode": "off"},
            )

            async def run() -> None:
                async with Bridge(settings, worker_id="bench") as bridge:
                    task = asyncio.create_task(run_pipeline(bridge, [SourcePump(FileSource(path))]))
                    await asyncio.to_thread(stop.wait)
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

            worker = threading.Thread(target=lambda: asyncio.run(run()))

        def delivered() -> int:
            if variant == "sequential baseline":
                return done[0]
            return sum(1 for _ in out.rglob("*.json")) if out.exists() else 0

        worker.start()
        time.sleep(window_s)  # the warm-up window (the bench waits on the clock by design)
        items0, (requests0, limited0) = delivered(), _api_counts(emu)
        time.sleep(window_s * minutes)
        items1, (requests1, limited1) = delivered(), _api_counts(emu)
        stop.set()
        worker.join(timeout=120)
    items = items1 - items0
    return {
        "variant": variant,
        "items": items,
        "per_minute": items / (window_s * minutes / 60.0),
        "requests": requests1 - requests0,
        "limited": limited1 - limited0,
        "available": notes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.real_limit")
    parser.add_argument("--minutes", type=int, default=3, help="measured windows after warm-up")
    parser.add_argument("--tiny", action="store_true", help="2 s windows, limit 10 (smoke test)")
    args = parser.parse_args()
    window_s, limit = (2.0, 10) if args.tiny else (60.0, 300)
    with ProcessPoolExecutor(len(VARIANTS), mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_variant, v, args.minutes, window_s, limit) for v in VARIANTS]
        rows = [f.result() for f in futures]
    print(
        f"limit {limit} per rolling {window_s:g} s per token, 50 ms latency; "
        f"{args.minutes} windows measured after a warm-up window\n"
    )
    print("| run | items/min | items | Platform API requests | requests/item | 429s |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        per = row["requests"] / row["items"] if row["items"] else float("nan")
        print(
            f"| {row['variant']} | {row['per_minute']:.0f} | {row['items']} | "
            f"{row['requests']} | {per:.2f} | {row['limited']} |"
        )


if __name__ == "__main__":
    main()
