"""The emulator's wheel installed alone in a fresh venv: its command, its help, a token.

Builds ``genesys-cloud-emulator`` with uv (sdist, then the wheel from it), makes a venv
with ``python -m venv``, ``pip install``s the wheel (its dependencies come from the
package index: network needed), then runs ``genesys-emulator --help`` and starts it and
gets a token from its login host with the default client. Around a minute (pip).
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from genesys_emulator.config import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    NO_MESSAGE_PERMS_CLIENT_ID,
    NO_MESSAGE_PERMS_CLIENT_SECRET,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[3]


def _uv() -> str:
    local = ROOT / ".uv" / "bin" / "uv"
    found = str(local) if local.exists() else shutil.which("uv")
    if found is None:
        pytest.skip("uv not found (make env installs it in .uv/)")
    return found


def _run(
    *args: str | Path, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the emulator's wheel (and only its dependencies) installed."""
    tmp = tmp_path_factory.mktemp("emulator-wheel")
    dist = tmp / "dist"
    _run(_uv(), "build", "--package", "genesys-cloud-emulator", "--out-dir", dist, cwd=ROOT)
    wheels = list(dist.glob("genesys_cloud_emulator-*.whl"))
    assert len(wheels) == 1, wheels
    env = tmp / "venv"
    _run(sys.executable, "-m", "venv", env)
    _run(env / "bin" / "python", "-m", "pip", "install", "--quiet", wheels[0], timeout=480)
    return env


def test_the_wheel_holds_the_emulator_alone(venv: Path) -> None:
    probe = (
        "import importlib.util, genesys_emulator; "
        "print(genesys_emulator.__file__); "
        "print(importlib.util.find_spec('media_bridge') is None)"
    )
    out = _run(venv / "bin" / "python", "-c", probe, cwd=venv).stdout.splitlines()
    assert out[0].startswith(str(venv))  # the installed copy, not this checkout
    assert out[1] == "True"  # the bridge is not there
    package = Path(out[0]).parent
    assert (package / "__main__.py").exists()
    assert (package / "routes" / "admin.py").exists()
    assert (package / "py.typed").exists()
    assert not (package / "pyproject.toml").exists()  # packaging files stay out


def test_help_lists_both_default_clients(venv: Path) -> None:
    out = _run(venv / "bin" / "genesys-emulator", "--help", cwd=venv).stdout
    assert out.startswith("usage: genesys-emulator")
    assert f"{DEFAULT_CLIENT_ID} / {DEFAULT_CLIENT_SECRET}" in out
    assert f"{NO_MESSAGE_PERMS_CLIENT_ID} / {NO_MESSAGE_PERMS_CLIENT_SECRET}" in out
    version = _run(venv / "bin" / "python", "-m", "genesys_emulator", "--version", cwd=venv)
    assert version.stdout.startswith("genesys-emulator 0.")


@pytest.fixture
def started(venv: Path) -> Iterator[dict[str, str]]:
    """`genesys-emulator` running from the venv; the URLs it prints."""
    process = subprocess.Popen(
        [str(venv / "bin" / "genesys-emulator"), "--conversations", "2", "--calls", "1"],
        cwd=venv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    urls: dict[str, str] = {}
    seen: list[str] = []
    deadline = time.monotonic() + 60
    try:
        while not seen or not seen[-1].startswith("Conversations:"):
            try:
                seen.append(lines.get(timeout=max(0.1, deadline - time.monotonic())))
            except queue.Empty:
                pytest.fail(f"the emulator printed no URLs in time: {seen}")
            name, _, url = seen[-1].strip().partition(" ")
            if url.strip().startswith("http://"):
                urls[name] = url.strip()
        yield urls
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_it_starts_and_the_default_client_gets_a_token(started: dict[str, str]) -> None:
    basic = base64.b64encode(f"{DEFAULT_CLIENT_ID}:{DEFAULT_CLIENT_SECRET}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 - http:// of the emulator just started
        f"{started['login']}/oauth/token",
        data=b"grant_type=client_credentials",
        headers={
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        method="POST",
    )
    deadline = time.monotonic() + 20
    while True:  # the URLs are printed just before uvicorn accepts
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                body = json.loads(response.read())
            break
        except urllib.error.HTTPError:
            raise
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    assert body["token_type"] == "bearer"
    assert body["access_token"]
    assert body["expires_in"] > 0


SDK_SCRIPT = """
import sys
import PureCloudPlatformClientV2 as genesys

login, api, client_id, secret, conversation_id = sys.argv[1:]
# separate hosts, as the emulator serves them: the token from the login host, then the API
token = genesys.api_client.ApiClient(host=login).get_client_credentials_token(client_id, secret)
client = genesys.api_client.ApiClient(host=api)
client.access_token = token.access_token
conversation = genesys.ConversationsApi(client).get_conversations_message(conversation_id)
print(conversation.id)
print(len(conversation.participants))
"""


def test_the_official_sdk_authenticates_and_reads_a_conversation(
    venv: Path, started: dict[str, str]
) -> None:
    """The official Python SDK (PureCloudPlatformClientV2), from the package index."""
    _run(
        venv / "bin" / "python",
        "-m",
        "pip",
        "install",
        "--quiet",
        "PureCloudPlatformClientV2",
        timeout=480,
    )
    listing_url = f"{started['api']}/__emulator__/conversations"
    with urllib.request.urlopen(listing_url, timeout=10) as answer:  # noqa: S310 - http://
        listing = json.loads(answer.read())
    messaging = next(c for c in listing if c["kind"] == "message")
    out = _run(
        venv / "bin" / "python",
        "-c",
        SDK_SCRIPT,
        started["login"],
        started["api"],
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
        messaging["id"],
        cwd=venv,
    ).stdout.split()
    assert out[0] == messaging["id"]
    assert int(out[1]) == 3  # customer, acd, agent
