"""The command line refuses unsafe or invalid set-ups with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "media_bridge", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_http_intake_without_authentication_is_refused() -> None:
    done = _cli("run", "--source", "http")
    assert done.returncode == 1
    assert "MEDIA_BRIDGE_INTAKE__API_KEY" in done.stderr


def test_every_command_has_help() -> None:
    for command in ("run", "replay", "demo", "jobs", "doctor", "backfill", "emulator"):
        done = _cli(command, "--help")
        assert done.returncode == 0, done.stderr
        assert "usage: media-bridge" in done.stdout
