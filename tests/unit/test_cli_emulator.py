"""`media-bridge emulator` / `demo` with and without the emulator; `genesys-emulator --help`."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

from genesys_emulator import cli as emulator_cli
from genesys_emulator.config import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    NO_MESSAGE_PERMS_CLIENT_ID,
    NO_MESSAGE_PERMS_CLIENT_SECRET,
)
from media_bridge import cli


@pytest.fixture
def no_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if genesys-cloud-emulator were not installed: every import of it fails."""
    for name in [n for n in sys.modules if n.split(".")[0] == "genesys_emulator"]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "genesys_emulator", None)


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.usefixtures("no_emulator")
@pytest.mark.parametrize("arguments", [["emulator"], ["emulator", "--help"]])
def test_emulator_without_the_emulator_names_what_to_install(
    arguments: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(arguments) == 2
    captured = capsys.readouterr()
    line = _one_line(captured.err)
    assert "media-bridge emulator" in line
    assert "pip install genesys-cloud-emulator" in line
    assert captured.out == ""


@pytest.mark.usefixtures("no_emulator")
def test_demo_without_the_emulator_names_what_to_install(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["demo", "--out", str(tmp_path / "out")]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "media-bridge demo" in line
    assert "genesys-cloud-emulator" in line
    assert not (tmp_path / "out").exists()  # refused before doing anything


@pytest.mark.usefixtures("no_emulator")
def test_the_other_commands_do_not_need_the_emulator(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2  # the command list, emulator included
    assert " emulator " in capsys.readouterr().out
    for command in ("run", "replay", "demo", "jobs", "doctor", "backfill", "audiohook"):
        with pytest.raises(SystemExit) as done:
            cli.main([command, "--help"])
        assert done.value.code == 0
    assert sys.modules["genesys_emulator"] is None


def test_a_missing_dependency_of_the_emulator_is_not_hidden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_import = importlib.import_module

    def import_module(name: str, package: str | None = None) -> ModuleType:
        if name.startswith("genesys_emulator"):
            raise ModuleNotFoundError("No module named 'starlette'", name="starlette")
        return real_import(name, package)

    monkeypatch.setattr(importlib, "import_module", import_module)
    with pytest.raises(ModuleNotFoundError, match="starlette"):
        cli.main(["emulator"])


def test_emulator_help_lists_both_default_clients_and_their_secrets(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for main in (emulator_cli.main, cli.main):
        arguments = ["--help"] if main is emulator_cli.main else ["emulator", "--help"]
        with pytest.raises(SystemExit) as done:
            main(arguments)
        assert done.value.code == 0
        out = capsys.readouterr().out
        assert f"{DEFAULT_CLIENT_ID} / {DEFAULT_CLIENT_SECRET}" in out
        assert f"{NO_MESSAGE_PERMS_CLIENT_ID} / {NO_MESSAGE_PERMS_CLIENT_SECRET}" in out
    assert out.startswith("usage: media-bridge emulator")


def test_channels_are_named_case_insensitively() -> None:
    assert emulator_cli.parse_channels("WhatsApp, OPEN,webmessaging") == (
        "whatsapp",
        "open",
        "webmessaging",
    )
    with pytest.raises(SystemExit, match="unknown channel 'sms'"):
        emulator_cli.parse_channels("whatsapp,sms")


def test_rate_limit_flags_reach_the_config() -> None:
    parser = emulator_cli.build_parser()
    default = emulator_cli.config_from_args(parser.parse_args([]))
    assert (default.rate_limit_requests, default.rate_limit_window_s) == (300, 60.0)
    assert default.rate_limit_downloads is True
    args = parser.parse_args(
        ["--rate-limit", "20", "--rate-window", "5", "--no-rate-limit-downloads"]
    )
    config = emulator_cli.config_from_args(args)
    assert (config.rate_limit_requests, config.rate_limit_window_s) == (20, 5.0)
    assert config.rate_limit_downloads is False
