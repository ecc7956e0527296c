"""`media-bridge doctor` against the emulator: names exactly the missing permissions."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from genesys_emulator.config import NO_MESSAGE_PERMS_CLIENT_ID, NO_MESSAGE_PERMS_CLIENT_SECRET
from genesys_emulator.testing import running_emulator

pytestmark = pytest.mark.integration


def _doctor(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "media_bridge", "doctor"],
        env={**os.environ, **env},
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
    assert good.stdout.count("\nok ") == 5
    assert lacking.returncode == 1
    failed = [line for line in lacking.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 1
    assert "conversation:message:view" in failed[0]
    assert "conversation:webmessaging:view" in failed[0]
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
    assert good.stdout.count("\nok ") == 6
    failed = [line for line in lacking.stdout.splitlines() if line.startswith("FAIL")]
    assert any("externalContacts:contact:view" in line for line in failed), lacking.stdout
