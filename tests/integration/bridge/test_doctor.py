"""`media-bridge doctor` against the emulator: names exactly the missing permissions, and
checks the ledger, the sinks and the intake's auth settings."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from genesys_emulator.config import NO_MESSAGE_PERMS_CLIENT_ID, NO_MESSAGE_PERMS_CLIENT_SECRET
from genesys_emulator.testing import running_emulator

pytestmark = pytest.mark.integration

_LOCAL: dict[str, str] = {}


@pytest.fixture(autouse=True)
def local_state(tmp_path: Path) -> Iterator[None]:
    """The ledger and the sinks doctor checks live under tmp_path."""
    _LOCAL.update(
        MEDIA_BRIDGE_LEDGER__URL=f"sqlite:///{tmp_path}/ledger.db",
        MEDIA_BRIDGE_SINKS__DIR_PATH=str(tmp_path / "out"),
        MEDIA_BRIDGE_SINKS__TEXT_PATH=str(tmp_path / "nlp.jsonl"),
    )
    yield
    _LOCAL.clear()


def _doctor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "media_bridge", "doctor", *args],
        env={**os.environ, **_LOCAL, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_doctor_reports_each_permission() -> None:
    with running_emulator() as emu:
        good = _doctor(emu.env())
        lacking = _doctor(
            {
                **emu.env(),
                "MEDIA_BRIDGE_GENESYS__CLIENT_ID": NO_MESSAGE_PERMS_CLIENT_ID,
                "MEDIA_BRIDGE_GENESYS__CLIENT_SECRET": NO_MESSAGE_PERMS_CLIENT_SECRET,
            }
        )
        wrong = _doctor({**emu.env(), "MEDIA_BRIDGE_GENESYS__CLIENT_SECRET": "not-it"})

    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.count("\nok ") == 6 + 3  # permissions; ledger, media and text sinks
    assert "API budget: pacing off" in good.stdout  # the emulator's env turns it off
    assert "the org's limit: 300 per minute per token" in good.stdout
    assert lacking.returncode == 1
    failed = [line for line in lacking.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 1
    assert "conversation:message:view" in failed[0]
    assert "conversation:webmessaging:view" in failed[0]
    # the queue listing only `run --source notifications` needs: a warning, naming it
    warned = [line for line in lacking.stdout.splitlines() if line.startswith("warn")]
    assert any("routing:queue:view" in line for line in warned), lacking.stdout
    assert wrong.returncode == 1
    assert "rejected the OAuth client credentials" in wrong.stdout
    assert "not-it" not in wrong.stdout + wrong.stderr
    # the failure names the variables the credentials came from
    assert "genesys.client_secret (MEDIA_BRIDGE_GENESYS__CLIENT_SECRET)" in wrong.stdout


def test_doctor_checks_the_contact_permission_when_consent_needs_it() -> None:
    consent = {"MEDIA_BRIDGE_CONSENT__MODE": "external_contact"}
    with running_emulator() as emu:
        good = _doctor({**emu.env(), **consent})
        lacking = _doctor(
            {
                **emu.env(),
                **consent,
                "MEDIA_BRIDGE_GENESYS__CLIENT_ID": NO_MESSAGE_PERMS_CLIENT_ID,
                "MEDIA_BRIDGE_GENESYS__CLIENT_SECRET": NO_MESSAGE_PERMS_CLIENT_SECRET,
            }
        )
    assert good.returncode == 0, good.stdout + good.stderr
    assert "consent.mode: external_contact" in good.stdout
    assert good.stdout.count("\nok ") == 7 + 3
    failed = [line for line in lacking.stdout.splitlines() if line.startswith("FAIL")]
    assert any("externalContacts:contact:view" in line for line in failed), lacking.stdout


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_doctor_checks_the_ledger_and_the_sinks(tmp_path: Path) -> None:
    port = _closed_port()
    with running_emulator() as emu:
        good = _doctor(emu.env(), "--out", str(tmp_path / "chosen"))
        http_down = _doctor(
            {
                **emu.env(),
                "MEDIA_BRIDGE_SINKS__MEDIA": "http",
                "MEDIA_BRIDGE_SINKS__HTTP_URL": f"http://127.0.0.1:{port}/deliveries",
                "MEDIA_BRIDGE_SINKS__HTTP_SECRET": "s",
            }
        )
        pg_down = _doctor(
            emu.env(), "--ledger", f"postgresql://u:pw@127.0.0.1:{port}/db?reconnect_s=1"
        )
    assert good.returncode == 0, good.stdout + good.stderr
    lines = good.stdout.splitlines()
    assert any(line.startswith("ok") and "ledger sqlite:///" in line for line in lines)
    assert any(line.startswith("ok") and str(tmp_path / "chosen") in line for line in lines)
    assert any(line.startswith("warn") and "intake" in line for line in lines)
    assert not list((tmp_path / "chosen").iterdir())  # the probe was removed

    assert http_down.returncode == 1
    failed = [line for line in http_down.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 1, http_down.stdout
    assert f"media sink http://127.0.0.1:{port}/deliveries" in failed[0]

    assert pg_down.returncode == 1
    failed = [line for line in pg_down.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 1, pg_down.stdout
    assert failed[0].startswith("FAIL  ledger postgresql://")
    assert "pw@" not in pg_down.stdout + pg_down.stderr
