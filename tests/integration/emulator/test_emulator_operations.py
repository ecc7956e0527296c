"""The emulator's operations port: /healthz, /readyz and /metrics (its own text
exposition), off the emulated hosts: probes are not counted in its stats."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request

import aiohttp
import pytest

from genesys_emulator.testing import running_emulator
from tests.integration.emulator.emulator_helpers import get_token, small_config

pytestmark = pytest.mark.integration

SAMPLE = re.compile(r'^[a-z_]+(\{([a-z_]+="[^"]*",?)*\})? -?[0-9.e+]+$')


async def test_the_operations_port_answers_and_counts_what_the_emulator_did() -> None:
    with running_emulator(small_config(operations_port=0)) as emu:
        ops = emu.operations_url
        assert ops is not None
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{ops}/healthz") as answer:
                assert (answer.status, await answer.text()) == (200, "ok")
            async with session.get(f"{ops}/readyz") as answer:
                assert answer.status == 200
                assert await answer.json() == {
                    "ready": True,
                    "role": "emulator",
                    "checks": {"hosts": "ok"},
                }
            token = await get_token(session, emu)
            conversation = emu.conversations()[0]
            url = f"{emu.api_url}/api/v2/conversations/messages/{conversation.id}"
            async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as answer:
                assert answer.status == 200
            async with session.get(f"{ops}/metrics") as answer:
                assert answer.status == 200
                assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
                text = await answer.text()
        stats = emu.stats()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert all(SAMPLE.match(line) for line in lines), lines
    assert 'genesys_emulator_requests_total{host="api",status="200"} 1' in lines
    assert 'genesys_emulator_requests_total{host="login",status="200"} 1' in lines
    assert "genesys_emulator_tokens 1" in lines
    assert "# TYPE genesys_emulator_faults counter" in text
    paths = {row["path"] for row in stats["requests"]}
    assert not paths & {"/healthz", "/readyz", "/metrics"}, "probes are not emulated traffic"


def test_genesys_emulator_operations_port_flag() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "genesys_emulator",
            "--operations-port",
            "0",
            "--conversations",
            "1",
            "--calls",
            "0",
        ],
        env={**os.environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            assert line, process.stderr.read() if process.stderr else ""
            if line.strip().startswith("operations "):
                url = line.split()[1]
        assert url is not None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{url}/readyz", timeout=5) as answer:  # noqa: S310
                    assert answer.status == 200
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the emulator's /readyz never answered")
        with urllib.request.urlopen(f"{url}/metrics", timeout=5) as answer:  # noqa: S310
            assert b"genesys_emulator_requests" in answer.read()
    finally:
        process.terminate()
        process.wait(timeout=30)
