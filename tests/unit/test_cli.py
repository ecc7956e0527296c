"""The command line refuses unsafe or invalid set-ups with a clear message."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from media_bridge import cli
from media_bridge.cli.purge import duration_s
from media_bridge.ledger import ledger_from_url
from media_bridge.types import JobKind, NewJob


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "media_bridge", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_http_intake_without_authentication_is_refused() -> None:
    done = _cli(
        "run",
        "--source",
        "http",
        MEDIA_BRIDGE_GENESYS__CLIENT_ID="id",
        MEDIA_BRIDGE_GENESYS__CLIENT_SECRET="secret",
    )
    assert done.returncode == 2
    assert "MEDIA_BRIDGE_INTAKE__API_KEY" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


COMMANDS = (
    "run",
    "replay",
    "demo",
    "jobs",
    "doctor",
    "backfill",
    "purge",
    "forget",
    "emulator",
    "audiohook",
    "audiohook-client",
)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main([command, "--help"])
    assert done.value.code == 0
    assert f"usage: media-bridge {command}" in capsys.readouterr().out


def test_the_command_list_names_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    listing = capsys.readouterr().out
    for command in COMMANDS:
        assert command in listing


def test_jobs_commands_show_and_retry_dead_jobs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"

    async def prepare() -> None:
        ledger = ledger_from_url(url)
        await ledger.open()
        try:
            await ledger.add_jobs(
                [
                    NewJob("attachment:c:m:a", JobKind.ATTACHMENT, {"n": 1}),
                    NewJob("text:c:m", JobKind.TEXT, {"n": 2}),
                ]
            )
            for job in await ledger.claim("w", 2, 60):
                if job.kind is JobKind.ATTACHMENT:
                    await ledger.fail(
                        job.key, "w", "missing permission x:y:z", "permission_missing", None
                    )
                else:
                    await ledger.complete(job.key, "w", {"ok": True})
            await ledger.record_rejected("http:1.2.3.4", "malformed JSON", b"{oops")
        finally:
            await ledger.close()

    asyncio.run(prepare())

    counts = _cli("jobs", "--ledger", url, "counts")
    assert json.loads(counts.stdout) == {
        "pending": 0,
        "running": 0,
        "done": 1,
        "retry": 0,
        "dead": 1,
    }
    listed = _cli("jobs", "--ledger", url, "list")
    assert "attachment:c:m:a" in listed.stdout
    assert "permission_missing: missing permission x:y:z" in listed.stdout
    assert "text:c:m" not in listed.stdout
    shown = json.loads(_cli("jobs", "--ledger", url, "show", "attachment:c:m:a").stdout)
    assert shown["state"] == "dead"
    assert _cli("jobs", "--ledger", url, "show", "nope").returncode == 1
    rejected = _cli("jobs", "--ledger", url, "rejected").stdout
    assert "malformed JSON" in rejected
    retried = _cli("jobs", "--ledger", url, "retry", "--all-dead")
    assert "1 job(s) set to run again" in retried.stdout
    after = json.loads(_cli("jobs", "--ledger", url, "counts").stdout)
    assert after["dead"] == 0
    assert after["pending"] == 1


def test_purge_and_forget_commands_change_nothing_on_a_dry_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"

    async def prepare() -> None:
        ledger = ledger_from_url(url)
        await ledger.open()
        try:
            await ledger.add_jobs(
                [NewJob("text:c-1:m-1", JobKind.TEXT, {"conversation_id": "c-1"})]
            )
        finally:
            await ledger.close()

    asyncio.run(prepare())
    assert cli.main(["purge", "--ledger", url, "--older-than", "0s", "--dry-run"]) == 0
    assert '"dry_run": true' in capsys.readouterr().out
    forget = ["forget", "--ledger", url, "--out", str(tmp_path / "out"), "--conversation", "c-1"]
    assert cli.main([*forget, "--dry-run"]) == 0
    assert '"jobs": 1' in capsys.readouterr().out
    assert cli.main(forget) == 0
    assert '"jobs": 1' in capsys.readouterr().out
    assert cli.main(forget) == 0
    assert '"jobs": 0' in capsys.readouterr().out


def test_durations_read_like_people_write_them() -> None:
    assert duration_s("30d") == 30 * 86400
    assert duration_s("12h") == 12 * 3600
    assert duration_s("90m") == 5400
    assert duration_s("15") == 15
    with pytest.raises(argparse.ArgumentTypeError):
        duration_s("soon")


def test_backfill_warns_when_its_window_is_older_than_the_retention() -> None:
    from datetime import UTC, datetime, timedelta

    from media_bridge.cli.backfill import retention_warning

    now = datetime.now(UTC)
    assert retention_warning(now - timedelta(days=2), 30 * 86400) is None
    warning = retention_warning(now - timedelta(days=40), 30 * 86400)
    assert warning is not None
    assert "ledger.done_retention_s (30 days)" in warning
    assert "may be delivered again" in warning
