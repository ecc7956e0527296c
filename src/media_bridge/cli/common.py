"""Options shared by the commands that run the pipeline, and source selection."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from media_bridge.config import Settings, load_settings, require_genesys_credentials
from media_bridge.errors import ConfigError
from media_bridge.extras import require_extra
from media_bridge.intake.runner import IntakeRunner, SourcePump
from media_bridge.intake.sources.base import Source


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, help="TOML settings file (env vars MEDIA_BRIDGE_* override it)"
    )
    parser.add_argument("--ledger", help="ledger URL, e.g. sqlite:///var/ledger.db")
    parser.add_argument("--out", type=Path, help="dir sink folder (media sink 'dir')")
    parser.add_argument("--log-json", action="store_true", help="JSON log lines")


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The settings, with ``--ledger``, ``--out`` and ``--log-json`` over the env and file.

    Mistakes raise ``ConfigError`` (printed in one line by ``cli.main``, exit code 2)."""
    overrides: dict[str, tuple[Any, str]] = {}
    if getattr(args, "ledger", None):
        overrides["ledger.url"] = (args.ledger, "--ledger")
    if getattr(args, "out", None):
        overrides["sinks.dir_path"] = (args.out, "--out")
    if getattr(args, "log_json", False):
        overrides["log_json"] = (True, "--log-json")
    return load_settings(getattr(args, "config", None), overrides=overrides)


def genesys_settings_from_args(args: argparse.Namespace) -> Settings:
    """``settings_from_args`` for the commands that call Genesys: empty OAuth client
    credentials are refused here, naming the variable, before any login attempt."""
    settings = settings_from_args(args)
    require_genesys_credentials(settings)
    return settings


def intake_from_spec(spec: str, settings: Settings) -> IntakeRunner:
    """A ``--source`` as the run loop runs it: ``http`` (the EventBridge API-destination
    intake, refused without authentication) or a source's pump (``source_from_spec``)."""
    if spec == "http":
        from media_bridge.intake.http_app import HttpIntakeServer

        return HttpIntakeServer(settings.intake)
    return SourcePump(source_from_spec(spec, settings))


def source_from_spec(spec: str, settings: Settings) -> Source:
    """``file:PATH``, ``-``/``stdin``, ``sqs:QUEUE_URL``, ``kafka:TOPIC``, ``notifications``."""
    kind, _, rest = spec.partition(":")
    if spec == "notifications":
        from media_bridge.intake.sources.notifications import NotificationsSource

        return NotificationsSource(settings)
    if spec in {"-", "stdin"}:
        from media_bridge.intake.sources.file import FileSource

        return FileSource("-")
    if kind == "file":
        from media_bridge.intake.sources.file import FileSource

        return FileSource(rest)
    if kind == "sqs":
        require_extra("aws", f"--source {kind}:")
        from media_bridge.intake.sources.sqs import sqs_source_from_spec

        return sqs_source_from_spec(rest)
    if kind == "kafka":
        require_extra("kafka", f"--source {kind}:")
        from media_bridge.intake.sources.kafka import kafka_source_from_spec

        return kafka_source_from_spec(rest)
    raise ConfigError(
        f"--source {spec!r}: use file:PATH, stdin, http, sqs:QUEUE_URL, "
        "kafka:TOPIC?bootstrap=H:P or notifications"
    )


QUALITIES = ("ok", "short", "noisy", "clipped")
DIVERSIONS = ("hold_local", "drop")
CONSENT_VERDICTS = ("granted", "refused", "held", "not_checked")


def verdict_rows() -> list[tuple[str, str]]:
    """Summary rows from ``media_bridge_clip_verdicts_total``: clips delivered by quality verdict,
    and clips diverted by ``audio.below_gate``, in this process."""
    from media_bridge import metrics

    def count(**labels: str) -> int:
        return int(metrics.counter_value(metrics.CLIP_VERDICTS, **labels))

    def consent(verdict: str) -> int:
        return int(metrics.counter_value(metrics.CONSENT_VERDICTS, verdict=verdict))

    delivered = " / ".join(f"{q} {count(action='delivered', quality=q)}" for q in QUALITIES)
    diverted = " / ".join(f"{a} {count(action=a)}" for a in DIVERSIONS)
    verdicts = " / ".join(f"{v.replace('_', ' ')} {consent(v)}" for v in CONSENT_VERDICTS)
    return [
        ("clips delivered by quality", delivered),
        ("clips diverted (audio.below_gate)", diverted),
        ("consent verdicts (held: checks that waited)", verdicts),
    ]


BUDGET_ROW = "Platform API requests per delivered item"


def budget_row(requests: int) -> tuple[str, str]:
    """Requests per delivered item (``media_bridge_delivered_total``, every kind) in this process:
    Genesys allows 300 requests per minute per token, so this bounds the throughput."""
    from media_bridge import metrics

    items = int(metrics.counter_value(metrics.DELIVERED))
    per = f"{requests / items:.2f}" if items else "-"
    return (BUDGET_ROW, f"{per} ({requests} requests, {items} items)")


PRIORITY_ROW = "job runs live / deferred / backfill"
PACED_ROW = "requests that waited for the budget, by class"


def priority_rows(gate: Any) -> list[tuple[str, str]]:
    """Summary rows of the priority decisions (``media_bridge.jobs.priority``) in this process:
    job runs by class (``media_bridge_jobs_claimed_total``) and the requests of each class
    the pacer held, with how many the live reserve held longer. None when only live jobs
    ran (nothing was decided)."""
    from media_bridge import metrics
    from media_bridge.jobs.priority import Priority, label

    classes = [label(level) for level in Priority]
    runs = {c: int(metrics.counter_value(metrics.JOBS_CLAIMED, priority=c)) for c in classes}
    if not any(n for c, n in runs.items() if c != label(Priority.LIVE)):
        return []
    paced = " / ".join(str(gate.paced_by_class.get(level, 0)) for level in Priority)
    return [
        (PRIORITY_ROW, " / ".join(str(runs[c]) for c in classes) + " (live claimed first)"),
        (PACED_ROW, f"{paced} (the live reserve held {gate.held_by_reserve})"),
    ]
