"""`media-bridge demo` (what `make demo` runs): the whole pipeline against the bundled emulator.

Starts the Genesys Cloud emulator in-process, seeds conversations on several channels
(voice notes in each channel's codec, images, documents, texts), writes their
EventBridge events to a JSON-lines file, makes every URL in them stale (so the
bridge must ask the API for fresh ones, as after a delay in production), turns on a
few injected 5xx answers, and replays the file through the bridge with a live
progress bar, ending with a summary table.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import shutil
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from genesys_emulator.config import EmulatorConfig
    from genesys_emulator.testing import EmulatorHandle
    from media_bridge.app import Bridge
    from media_bridge.config import Settings
    from media_bridge.types import JobState

#: the demo's API budget: Genesys' 300 requests per 60 s scaled to 40 per 10 s, so that the
#: pacer visibly waits and the demo still ends in well under a minute
DEMO_BUDGET_REQUESTS = 40
DEMO_BUDGET_WINDOW_S = 10.0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo", help="run the pipeline against the bundled Genesys Cloud emulator"
    )
    parser.add_argument("--out", type=Path, default=Path("demo-output"), help="output folder")
    parser.add_argument("--conversations", type=int, default=12, help="messaging conversations")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--voice-note-seconds", type=float, default=9.0)
    parser.add_argument("--error-rate", type=float, default=0.05, help="injected 5xx share")
    parser.add_argument(
        "--media-types", default="Audio", help="comma-separated media types, or 'all'"
    )
    parser.add_argument(
        "--below-gate",
        choices=("deliver", "hold_local", "drop"),
        default="deliver",
        help="audio.below_gate: what happens to clips whose quality verdict is not ok "
        "(the demo's sink is the dir sink, so hold_local keeps them where they are)",
    )
    parser.set_defaults(func=main)


def _summary_rows(
    out: Path, elapsed: float, bridge: Any, counts: dict[Any, int]
) -> list[tuple[str, str]]:
    from media_bridge import metrics
    from media_bridge.cli.common import budget_row, verdict_rows
    from media_bridge.jobs.keys import TRANSCRIPT, split_key
    from media_bridge.types import JobState

    by_type: Counter[str] = Counter()
    recordings = 0
    for sidecar in out.glob("media/*/*.json"):
        document = json.loads(sidecar.read_text())
        meta = document["metadata"]
        if document["kind"] == "recording":
            recordings += 1
            continue
        by_type[f"{meta.get('media_type')} ({meta.get('mime')})"] += 1
    texts = transcripts = 0
    if (out / "nlp.jsonl").exists():
        for line in (out / "nlp.jsonl").read_text().splitlines():
            transcripts += split_key(json.loads(line)["key"]).prefix == TRANSCRIPT
            texts += 1
    texts -= transcripts
    attachments = sum(by_type.values())
    intake = bridge.intake_result
    rows = [
        ("events read", str(intake.events + len(intake.rejected))),
        ("events rejected / unknown topic", f"{len(intake.rejected)} / {intake.unknown_topics}"),
        ("jobs done / dead", f"{counts.get(JobState.DONE, 0)} / {counts.get(JobState.DEAD, 0)}"),
        ("attachments delivered", str(attachments)),
    ]
    rows += [(f"  {kind}", str(n)) for kind, n in sorted(by_type.items())]
    rows += verdict_rows()
    rows += [
        ("call recordings (customer channel split out)", str(recordings)),
        ("message texts / transcript lines to NLP", f"{texts} / {transcripts}"),
        (
            "URL refreshes (stale links re-resolved)",
            f"{metrics.counter_value(metrics.URL_REFRESHES):.0f}",
        ),
        ("API requests (answered 5xx / 429)", _api_line(bridge)),
        budget_row(bridge.genesys.stats.requests),
        ("requests paced / their waits summed", _paced_line(bridge)),
        (
            "in-call retries / job retries",
            f"{_client_retries(bridge)} / {_job_retries():.0f}",
        ),
        ("bytes downloaded", f"{metrics.counter_value(metrics.BYTES) / 1e6:.2f} MB"),
        ("elapsed", f"{elapsed:.2f} s"),
        ("throughput", f"{attachments / elapsed:.1f} attachments/s" if elapsed else "-"),
        ("output folder", str(out.resolve())),
    ]
    return rows


def _paced_line(bridge: Any) -> str:
    gate = bridge.genesys.gate
    rate = gate.per_minute
    budget = f" (at {rate:g} per minute)" if rate else " (pacing off)"
    return f"{gate.paced} / {gate.waited_s:.1f} s{budget}"


def _api_line(bridge: Any) -> str:
    stats = bridge.genesys.stats
    errors = sum(n for status, n in stats.by_status.items() if status >= 500)
    return f"{stats.requests} ({errors} / {stats.rate_limited})"


def _job_retries() -> float:
    from media_bridge import metrics

    return metrics.counter_value(metrics.JOBS_FINISHED, outcome="retry")


def _client_retries(bridge: Any) -> int:
    return int(bridge.genesys.stats.retries + bridge.fetcher.retries)


async def _run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from genesys_emulator.testing import running_emulator
    from media_bridge.observability import configure_logging

    console = Console()
    configure_logging("ERROR")
    out: Path = args.out
    await asyncio.to_thread(shutil.rmtree, out, True)
    await asyncio.to_thread(out.mkdir, parents=True)
    console.print("[bold]genesys-media-bridge demo[/bold]: starting the Genesys Cloud emulator")
    with running_emulator(_emulator_config(args)) as emu:
        console.print(f"  login {emu.login_url}  api {emu.api_url}  downloads {emu.downloads_url}")
        events_file = _stale_events(emu, args, out, console)
        started = time.monotonic()
        bridge, counts = await _bridge_with_progress(
            _settings(emu, args, out), events_file, console
        )
        elapsed = time.monotonic() - started
    return _report(console, out, elapsed, bridge, counts)


def _emulator_config(args: argparse.Namespace) -> EmulatorConfig:
    """The real budget (300 requests per 60 s per token) scaled down to a demo's length,
    on both sides: the emulator enforces it and the bridge paces itself under it."""
    from genesys_emulator.config import EmulatorConfig, ScenarioConfig

    return EmulatorConfig(
        rate_limit_requests=DEMO_BUDGET_REQUESTS,
        rate_limit_window_s=DEMO_BUDGET_WINDOW_S,
        scenario=ScenarioConfig(
            seed=args.seed,
            messaging_conversations=args.conversations,
            voice_note_seconds=args.voice_note_seconds,
        ),
    )


def _stale_events(
    emu: EmulatorHandle, args: argparse.Namespace, out: Path, console: Console
) -> Path:
    """The scenario's events written to a file, then every URL in them made stale and
    faults turned on: the bridge must ask the API again, as after a delay in production."""
    from genesys_emulator.events import scenario_events

    events = scenario_events(emu.state)
    events_file = out / "events.jsonl"
    events_file.write_text("".join(json.dumps(e) + "\n" for e in events))
    console.print(
        f"  {len(emu.conversations())} conversations, {len(events)} EventBridge events "
        f"-> {events_file}"
    )
    emu.expire_links()
    emu.set_faults(error_rate=args.error_rate, seed=args.seed)
    console.print(
        "  every URL in the events is now stale, and "
        f"{args.error_rate:.0%} of API answers are injected 5xx errors"
    )
    return events_file


def _settings(emu: EmulatorHandle, args: argparse.Namespace, out: Path) -> Settings:
    from media_bridge.config import Settings
    from media_bridge.genesys.settings import GenesysSettings

    return Settings(
        genesys=GenesysSettings(
            **{
                **emu.genesys_settings(),
                "pacing": "on",
                "budget_per_minute": DEMO_BUDGET_REQUESTS * 60 / DEMO_BUDGET_WINDOW_S,
                # a burst of 2 + 90 % of 40 stays under 40 in any 10 s
                "rate_limit_burst": 2,
            },
            backoff_base_s=0.05,
        ),
        ledger={"url": f"sqlite:///{out}/ledger.db"},
        sinks={"dir_path": out / "media", "text_path": out / "nlp.jsonl"},
        fetch={"media_types": [t.strip() for t in args.media_types.split(",")]},
        audio={"below_gate": args.below_gate},
        # the emulator's recordings are ready at once: no need to wait as in production
        voice={"recording_delay_s": 0, "poll_initial_s": 0.5},
    )


async def _bridge_with_progress(
    settings: Settings, events_file: Path, console: Console
) -> tuple[Bridge, dict[JobState, int]]:
    """Replay ``events_file`` through a bridge until idle, with a live progress bar."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from media_bridge.app import Bridge
    from media_bridge.intake.runner import SourcePump
    from media_bridge.intake.sources.file import FileSource
    from media_bridge.runtime import run_pipeline
    from media_bridge.types import JobState

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} jobs"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("bridging", total=None)

        def show(counts: dict[JobState, int], _: Any) -> None:
            total = sum(counts.values())
            finished = counts.get(JobState.DONE, 0) + counts.get(JobState.DEAD, 0)
            progress.update(task, total=total, completed=finished)

        async with Bridge(settings, worker_id="demo") as bridge:
            counts = await run_pipeline(
                bridge,
                [SourcePump(FileSource(events_file))],
                until_idle=True,
                idle_timeout_s=300,
                progress=show,
                progress_every_s=0.2,
            )
        show(counts, None)
    return bridge, counts


def _report(
    console: Console, out: Path, elapsed: float, bridge: Bridge, counts: dict[JobState, int]
) -> int:
    """The summary table; 1 when any job ended dead."""
    from rich.table import Table

    from media_bridge.types import JobState

    table = Table(title="summary", show_header=False)
    for name, value in _summary_rows(out, elapsed, bridge, counts):
        table.add_row(name, value)
    console.print(table)
    dead = counts.get(JobState.DEAD, 0)
    if dead:
        console.print(
            f"[red]{dead} job(s) dead[/red]: `media-bridge jobs list --ledger sqlite:///{out}/ledger.db`"
        )
    return 1 if dead else 0


def main(args: argparse.Namespace) -> int:
    from media_bridge.cli.emulator import NOT_INSTALLED, import_emulator
    from media_bridge.extras import missing_extra_line

    if import_emulator("demo") is None:
        return NOT_INSTALLED
    if importlib.util.find_spec("rich") is None:
        # rich draws the demo's progress and summary; it comes with the emulator extra
        print(missing_extra_line("media-bridge demo (rich)", "emulator"), file=sys.stderr)
        return NOT_INSTALLED
    return asyncio.run(_run(args))
