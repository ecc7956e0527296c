"""The runtime-only install: the built wheel, no extras, in a fresh venv.

It must run the bridge's plain path (the emulator runs here, in the development venv; the
installed bridge replays its events into the dir sink) and refuse each optional part in one
line naming its extra. The venv is made with uv from its cache (PyPI where it misses).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import running_emulator
from tests.integration.bridge.harness import delivered_sidecars, expected_audio

# building and installing the wheel takes 10-60 s on a loaded 2-core machine
pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[3]


def _uv() -> str:
    found = ROOT / ".uv" / "bin" / "uv"  # what `make env` installs
    if found.exists():
        return str(found)
    on_path = shutil.which("uv")
    if on_path is None:
        pytest.skip("no uv: `make env` installs it in .uv/")
    return on_path


@dataclass(frozen=True)
class RuntimeVenv:
    root: Path

    @property
    def bridge(self) -> str:
        return str(self.root / "bin" / "media-bridge")

    @property
    def site_packages(self) -> Path:
        return next((self.root / "lib").glob("python3*/site-packages"))


def _clean_env(**extra: str) -> dict[str, str]:
    """The test's environment minus what would point the venv at the development tree."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
        and not k.startswith("MEDIA_BRIDGE_")
    }
    return {**env, **extra}


@pytest.fixture(scope="module")
def runtime_venv(tmp_path_factory: pytest.TempPathFactory) -> RuntimeVenv:
    work = tmp_path_factory.mktemp("runtime-install")
    uv = _uv()
    env = _clean_env()
    subprocess.run(
        [
            uv,
            "build",
            "--wheel",
            "--package",
            "genesys-media-bridge",
            "--out-dir",
            str(work / "dist"),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheels = list((work / "dist").glob("genesys_media_bridge-*.whl"))
    assert len(wheels) == 1, wheels
    venv = work / "venv"
    subprocess.run(
        [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), str(wheels[0])],
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return RuntimeVenv(venv)


def _bridge(
    venv: RuntimeVenv, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [venv.bridge, *args],
        env=_clean_env(**(env or {})),
        capture_output=True,
        text=True,
        timeout=180,
        cwd=venv.root,
    )


def test_no_optional_package_is_installed(runtime_venv: RuntimeVenv) -> None:
    modules = ("aioboto3", "botocore", "boto3", "confluent_kafka", "asyncpg", "rich")
    found = subprocess.run(
        [
            str(runtime_venv.root / "bin" / "python"),
            "-c",
            "import importlib.util, sys; "
            "print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m)))",
            *modules,
            "genesys_emulator",
        ],
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.split() == []


def test_help_lists_the_commands(runtime_venv: RuntimeVenv) -> None:
    done = _bridge(runtime_venv, "--help")
    assert done.returncode == 0, done.stderr
    for command in ("run", "replay", "doctor", "jobs", "audiohook"):
        assert command in done.stdout


def test_replay_into_the_dir_sink(runtime_venv: RuntimeVenv, tmp_path: Path) -> None:
    config = EmulatorConfig(
        scenario=ScenarioConfig(seed=26, messaging_conversations=3, voice_conversations=0)
    )
    with running_emulator(config) as emu:
        events = tmp_path / "events.jsonl"
        events.write_text("".join(json.dumps(e) + "\n" for e in scenario_events(emu.state)))
        done = _bridge(
            runtime_venv,
            "replay",
            str(events),
            env={
                **emu.env(),
                "MEDIA_BRIDGE_LEDGER__URL": f"sqlite:///{tmp_path}/ledger.db",
                "MEDIA_BRIDGE_SINKS__DIR_PATH": str(tmp_path / "out"),
                "MEDIA_BRIDGE_SINKS__TEXT_PATH": str(tmp_path / "nlp.jsonl"),
                "MEDIA_BRIDGE_AUDIO__MIN_NET_SPEECH_S": "0.5",
            },
        )
        expected = expected_audio(emu)

    assert done.returncode == 0, done.stderr[-2000:]
    assert expected
    delivered = {s["key"]: s for s in delivered_sidecars(tmp_path) if s["kind"] == "attachment"}
    assert set(delivered) == set(expected)
    assert "jobs done / dead" in done.stdout


@pytest.mark.parametrize(
    ("args", "env", "line"),
    [
        (
            ("replay", "events.jsonl"),
            {"MEDIA_BRIDGE_SINKS__MEDIA": "s3://bucket/prefix"},
            "the s3:// media sink (sinks.media) needs the aws extra: "
            "pip install 'genesys-media-bridge[aws]'",
        ),
        (
            ("replay", "events.jsonl"),
            {"MEDIA_BRIDGE_SINKS__TEXT": "kafka://127.0.0.1:9/texts"},
            "the kafka:// text sink (sinks.text) needs the kafka extra: "
            "pip install 'genesys-media-bridge[kafka]'",
        ),
        (
            ("replay", "events.jsonl"),
            {"MEDIA_BRIDGE_LEDGER__URL": "postgresql://bridge@127.0.0.1:9/bridge"},
            "the postgresql ledger (ledger.url) needs the postgres extra: "
            "pip install 'genesys-media-bridge[postgres]' (or use sqlite:///path/to/ledger.db)",
        ),
        (
            ("run", "--source", "sqs:http://127.0.0.1:9/000000000000/q"),
            {},
            "--source sqs: needs the aws extra: pip install 'genesys-media-bridge[aws]'",
        ),
    ],
    ids=["s3-sink", "kafka-text-sink", "postgres-ledger", "sqs-source"],
)
def test_a_missing_extra_is_one_line_at_start(
    runtime_venv: RuntimeVenv, tmp_path: Path, args: tuple[str, ...], env: dict[str, str], line: str
) -> None:
    (tmp_path / "events.jsonl").write_text("")
    done = _bridge(
        runtime_venv,
        *(str(tmp_path / a) if a == "events.jsonl" else a for a in args),
        env={
            "MEDIA_BRIDGE_GENESYS__CLIENT_ID": "id",
            "MEDIA_BRIDGE_GENESYS__CLIENT_SECRET": "secret",
            "MEDIA_BRIDGE_LEDGER__URL": f"sqlite:///{tmp_path}/ledger.db",
            "MEDIA_BRIDGE_SINKS__DIR_PATH": str(tmp_path / "out"),
            "MEDIA_BRIDGE_SINKS__TEXT_PATH": str(tmp_path / "nlp.jsonl"),
            **env,
        },
    )
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.strip().splitlines() == [f"media-bridge: {line}"], done.stderr


def test_the_emulator_commands_name_their_extra(runtime_venv: RuntimeVenv) -> None:
    done = _bridge(runtime_venv, "demo")
    assert done.returncode == 2
    assert "genesys-media-bridge[emulator]" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
