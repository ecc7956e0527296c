"""`media-bridge jobs`: friendly answers when there is nothing to show or a key is unknown,
and no traceback when the output is piped into `head`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from media_bridge.ledger import ledger_from_url
from media_bridge.types import JobKind, NewJob


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIA_BRIDGE_")}
    return subprocess.run(
        [sys.executable, "-m", "media_bridge", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _add(url: str, jobs: list[NewJob]) -> None:
    async def add() -> None:
        ledger = ledger_from_url(url)
        await ledger.open()
        try:
            await ledger.add_jobs(jobs)
        finally:
            await ledger.close()

    asyncio.run(add())


def test_an_empty_list_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    assert _cli("jobs", "--ledger", url, "list").stdout.strip() == "no dead jobs"
    assert _cli("jobs", "--ledger", url, "list", "--state", "retry").stdout.strip() == (
        "no retry jobs"
    )
    assert _cli("jobs", "--ledger", url, "list", "--state", "all").stdout.strip() == "no jobs"


def test_retry_warns_about_unknown_keys_and_says_who_runs_them(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    _add(url, [NewJob("text:c:m", JobKind.TEXT, {})])
    done = _cli("jobs", "--ledger", url, "retry", "nope", "text:c:m")
    assert done.returncode == 0
    assert "0 job(s) set to run again" in done.stdout
    assert "warning: no job 'nope' in the ledger" in done.stderr
    assert "warning: job 'text:c:m' is pending, not dead or retry" in done.stderr


def test_jobs_list_piped_into_head_has_no_traceback(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    _add(url, [NewJob(f"text:c:{n:05}", JobKind.TEXT, {}) for n in range(4000)])
    command = (
        f"{sys.executable} -m media_bridge jobs --ledger {url} list --state all "
        "--limit 100000 | head -1"
    )
    done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=60)  # noqa: S602
    assert done.stdout.startswith("pending")
    assert "Traceback" not in done.stderr
    assert "BrokenPipeError" not in done.stderr


def test_show_and_rejected_never_print_a_signed_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    signed = "https://bucket.s3.amazonaws.com/a.jpg?X-Amz-Signature=s3cr3t&X-Amz-Expires=60"

    async def prepare() -> None:
        ledger = ledger_from_url(url)
        await ledger.open()
        try:
            # as an earlier release stored it (the migration scrubs payload.url; not this)
            await ledger.add_jobs(
                [NewJob("attachment:c:m:a", JobKind.ATTACHMENT, {"old": {"link": signed}})]
            )
            body = ('{"eventBody": {"url": "' + signed + '", "token": "t0k3n"}}').encode()
            await ledger.record_rejected("http:1.2.3.4", f"bad url {signed}", body)
        finally:
            await ledger.close()

    asyncio.run(prepare())
    shown = _cli("jobs", "--ledger", url, "show", "attachment:c:m:a")
    assert shown.returncode == 0
    assert "bucket.s3.amazonaws.com/a.jpg" in shown.stdout
    assert "s3cr3t" not in shown.stdout
    rejected = _cli("jobs", "--ledger", url, "rejected")
    assert rejected.returncode == 0
    assert "bucket.s3.amazonaws.com/a.jpg" in rejected.stdout
    assert "s3cr3t" not in rejected.stdout
