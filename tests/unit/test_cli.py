"""The command line refuses unsafe or invalid set-ups with a clear message."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from media_bridge import cli
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
