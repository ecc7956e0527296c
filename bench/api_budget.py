"""Platform API requests per delivered voice note: the real throughput limit.

    .venv/bin/python -m bench.api_budget [CUSTOMERS] [NOTES_PER_CUSTOMER]

Genesys allows 300 Platform API requests per minute per token, so requests per item,
not CPU, bound the bridge. The emulator (in process, no latency, no rate limit) holds
CUSTOMERS customers (default 20), each with one conversation of NOTES_PER_CUSTOMER voice
notes (default 3) and a recorded consent answer (granted for every customer, so that every
note is delivered); message-topic events carry each note's Downloads link. The bridge
runs with each consent mode; the baseline is the minimum the path allows (one
Downloads API request per note, GENESYS.md section 8). Counted: requests to /api/v2/
(the token endpoint and the signed storage URLs are not Platform API requests).

Figures (20 x 3, 2-core machine):

| run | delivered | requests | per note | besides downloads |
|---|---|---|---|---|
| baseline | 60 | 60 | 1.00 | - |
| consent.mode=off | 60 | 60 | 1.00 | - |
| consent.mode=participant_attribute | 60 | 60 | 1.00 | - |
| consent.mode=external_contact | 60 | 80 | 1.33 | 20 contact reads |

Before the message read of a message whose ``messageMetadata`` shows no text was
skipped (``fetch.skip_textless_reads``), every mode cost one message read more per note
(2.00, 2.00, 2.33).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import EmulatorHandle, running_emulator
from media_bridge.app import Bridge
from media_bridge.config import Settings
from media_bridge.genesys.settings import GenesysSettings
from media_bridge.intake.runner import SourcePump
from media_bridge.intake.sources.file import FileSource
from media_bridge.observability import configure_logging
from media_bridge.runtime import run_pipeline

MODES = ("off", "participant_attribute", "external_contact")


def _platform_requests(emu: EmulatorHandle) -> Counter[str]:
    found: Counter[str] = Counter()
    for row in emu.stats()["requests"]:
        path = row["path"]
        if not path.startswith("/api/v2/"):
            continue
        shape = re.sub(r"/[0-9a-f-]{16,}", "/{id}", path)
        found[shape] += row["count"]
    return found


async def _run(customers: int, notes: int, mode: str, root: Path) -> tuple[int, Counter[str]]:
    config = EmulatorConfig(
        rate_limit_requests=0,
        scenario=ScenarioConfig(messaging_conversations=0, voice_conversations=0),
    )
    with running_emulator(config) as emu:
        for _ in range(customers):
            conversation = emu.add_messaging_conversation(
                "whatsapp", kinds=("ogg_opus",) * notes, texts=0
            )
            conversation.consent = "granted"
        events = scenario_events(emu.state, "message")
        path = root / f"events-{mode}.jsonl"
        path.write_text("".join(json.dumps(e) + "\n" for e in events))
        settings = Settings(
            genesys=GenesysSettings(**emu.genesys_settings()),
            ledger={"url": f"sqlite:///{root}/ledger-{mode}.db"},
            sinks={"dir_path": root / f"out-{mode}", "text_path": root / f"nlp-{mode}.jsonl"},
            audio={"enabled": False},
            consent={"mode": mode},
        )
        async with Bridge(settings, worker_id="bench") as bridge:
            await run_pipeline(
                bridge, [SourcePump(FileSource(path))], until_idle=True, idle_timeout_s=120
            )
        delivered = sum(1 for _ in (root / f"out-{mode}").rglob("*.json"))
        return delivered, _platform_requests(emu)


def main() -> None:
    customers = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    notes = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    configure_logging("WARNING")
    rows: list[tuple[str, int, int, str]] = [
        ("baseline (1 Downloads request per note)", customers * notes, customers * notes, "")
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for mode in MODES:
            delivered, requests = asyncio.run(_run(customers, notes, mode, Path(tmp)))
            besides = {k: v for k, v in requests.items() if not k.startswith("/api/v2/downloads")}
            rows.append((f"consent.mode={mode}", delivered, sum(requests.values()), str(besides)))
    print(f"{customers} customers x {notes} voice notes (message-topic events, fresh links)\n")
    print("| run | delivered | Platform API requests | per delivered note | besides downloads |")
    print("|---|---|---|---|---|")
    for name, delivered, total, other in rows:
        per = total / delivered if delivered else float("nan")
        print(f"| {name} | {delivered} | {total} | {per:.2f} | {other or '-'} |")


if __name__ == "__main__":
    main()
