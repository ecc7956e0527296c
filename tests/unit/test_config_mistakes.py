"""Configuration mistakes are refused at start in one line (exit 2), naming the nearest
valid setting or the variable the user set; no traceback, no run on defaults."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from media_bridge import cli
from media_bridge.audiohook.cli import build_settings
from media_bridge.config import load_settings
from media_bridge.errors import ConfigError
from media_bridge.observability import configure_logging


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No setting from the developer's environment; a ledger and sinks under tmp_path."""
    for name in list(os.environ):
        if name.upper().startswith(("MEDIA_BRIDGE_", "GENESYS_CLOUD_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MEDIA_BRIDGE_LEDGER__URL", f"sqlite:///{tmp_path}/ledger.db")
    monkeypatch.setenv("MEDIA_BRIDGE_SINKS__DIR_PATH", str(tmp_path / "out"))
    monkeypatch.setenv("MEDIA_BRIDGE_SINKS__TEXT_PATH", str(tmp_path / "nlp.jsonl"))
    yield
    configure_logging("WARNING")


def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIA_BRIDGE_GENESYS__CLIENT_ID", "id")
    monkeypatch.setenv("MEDIA_BRIDGE_GENESYS__CLIENT_SECRET", "secret")


def refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The one stderr line of a command refused with exit code 2."""
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("media-bridge: ")
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("name", "value", "suggestion"),
    [
        ("MEDIA_BRIDGE_SINK__MEDIA", "http", "MEDIA_BRIDGE_SINKS__MEDIA"),
        ("MEDIA_BRIDGE_GENESYS__CLIENTID", "abc", "MEDIA_BRIDGE_GENESYS__CLIENT_ID"),
        ("MEDIA_BRIDGE_GENESYS_CLIENT_ID", "abc", "MEDIA_BRIDGE_GENESYS__CLIENT_ID"),
        ("MEDIA_BRIDGE_WORKER__CONCURENCY", "4", "MEDIA_BRIDGE_WORKER__CONCURRENCY"),
        ("MEDIA_BRIDGE_AUDIOHOOK_PROT", "9000", "MEDIA_BRIDGE_AUDIOHOOK__PORT"),
    ],
)
def test_an_unknown_env_var_names_the_nearest_setting(
    name: str,
    value: str,
    suggestion: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(name, value)
    line = refused(["jobs", "counts"], capsys)
    assert f"unknown setting {name} (did you mean {suggestion}?)" in line


def test_an_unknown_toml_key_names_the_nearest_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text('[sinks]\nmeda = "http"\n')
    line = refused(["jobs", "--config", str(config), "counts"], capsys)
    assert f"unknown setting sinks.meda in {config} (did you mean sinks.media?)" in line


def test_a_bad_toml_value_names_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text("[worker]\nconcurrency = 0\n")
    line = refused(["jobs", "--config", str(config), "counts"], capsys)
    assert f"worker.concurrency in {config}: Input should be greater than or equal to 1" in line


def test_file_variants_of_known_settings_are_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("pseudo\n")
    monkeypatch.setenv("MEDIA_BRIDGE_IDENTITY__PSEUDONYMIZE_SECRET_FILE", str(secret))
    settings = load_settings()
    assert settings.identity.pseudonymize_secret is not None
    assert settings.identity.pseudonymize_secret.get_secret_value() == "pseudo"


def test_a_missing_secret_file_names_its_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MEDIA_BRIDGE_GENESYS__CLIENT_SECRET_FILE", str(tmp_path / "absent"))
    line = refused(["jobs", "counts"], capsys)
    assert "MEDIA_BRIDGE_GENESYS__CLIENT_SECRET_FILE: cannot read" in line
    assert "absent" in line


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("MEDIA_BRIDGE_SINKS__MEDIA", "s3:/bucket", "s3://BUCKET[/PREFIX]"),
        ("MEDIA_BRIDGE_SINKS__MEDIA", "ftp://x", "must be 'dir', 'http', s3://"),
        ("MEDIA_BRIDGE_SINKS__MEDIA", "kafka://broker:9092", "kafka://HOST:PORT"),
        ("MEDIA_BRIDGE_LEDGER__URL", "mysql://x", "unsupported ledger URL scheme 'mysql'"),
        ("MEDIA_BRIDGE_GENESYS__REGION", "ireland", "unknown Genesys Cloud region 'ireland'"),
        ("MEDIA_BRIDGE_AUDIO__OUTPUT_FORMAT", "mp3", "'wav', 'flac' or 'ogg_opus'"),
        ("MEDIA_BRIDGE_CONSENT__MODE", "always", "'off', 'participant_attribute'"),
        ("MEDIA_BRIDGE_WORKER__CONCURRENCY", "zero", "valid integer"),
    ],
)
def test_a_bad_value_names_the_env_var_and_the_setting(
    name: str,
    value: str,
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(name, value)
    line = refused(["jobs", "counts"], capsys)
    setting = name.removeprefix("MEDIA_BRIDGE_").lower().replace("__", ".")
    assert f"{name} ({setting}): " in line
    assert expected in line


def test_an_http_sink_without_a_url_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MEDIA_BRIDGE_SINKS__MEDIA", "http")
    monkeypatch.setenv("MEDIA_BRIDGE_SINKS__HTTP_SECRET", "s")
    line = refused(["jobs", "counts"], capsys)
    assert "an http sink needs sinks.http_url (MEDIA_BRIDGE_SINKS__HTTP_URL)" in line


def test_a_bad_ledger_flag_names_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    line = refused(["jobs", "--ledger", "mysql://x", "counts"], capsys)
    assert "--ledger (ledger.url): unsupported ledger URL scheme" in line


def test_run_with_an_sqs_source_without_a_queue_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _credentials(monkeypatch)
    line = refused(["run", "--source", "sqs"], capsys)
    assert "--source sqs: give the queue URL or name" in line
    assert not (tmp_path / "ledger.db").exists()  # refused before the ledger is opened


def test_an_unknown_source_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _credentials(monkeypatch)
    line = refused(["run", "--source", "pigeon:coop"], capsys)
    assert "--source 'pigeon:coop'" in line


def test_backfill_until_before_since_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["backfill", "--since", "2026-05-02", "--until", "2026-05-01"]
    line = refused(argv, capsys)
    assert "--until (2026-05-01T00:00:00+00:00) must be after --since" in line


def test_jobs_list_with_an_unknown_state_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    line = refused(["jobs", "list", "--state", "bogus"], capsys)
    assert "jobs list --state 'bogus'" in line
    assert "pending, running, done, retry, dead, all" in line
    line = refused(["jobs", "list", "--state", "daed"], capsys)
    assert "did you mean dead?" in line


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--source", "file:/dev/null"],
        ["replay", "/dev/null"],
        ["backfill", "--since", "2026-05-01", "--until", "2026-05-02"],
        ["doctor"],
    ],
)
def test_commands_that_call_genesys_refuse_empty_credentials(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    line = refused(argv, capsys)
    assert "MEDIA_BRIDGE_GENESYS__CLIENT_ID (or GENESYS_CLOUD_CLIENT_ID) is not set" in line
    assert "MEDIA_BRIDGE_GENESYS__CLIENT_SECRET (or GENESYS_CLOUD_CLIENT_SECRET)" in line


def test_an_empty_credential_names_the_variable_that_was_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MEDIA_BRIDGE_GENESYS__CLIENT_ID", "id")
    monkeypatch.setenv("MEDIA_BRIDGE_GENESYS__CLIENT_SECRET", " ")
    line = refused(["doctor"], capsys)
    assert "MEDIA_BRIDGE_GENESYS__CLIENT_SECRET is empty" in line
    assert "CLIENT_ID" not in line


def test_genesys_cloud_names_are_aliases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENESYS_CLOUD_CLIENT_ID", "sdk-id")
    monkeypatch.setenv("GENESYS_CLOUD_CLIENT_SECRET", "sdk-secret")
    monkeypatch.setenv("GENESYS_CLOUD_REGION", "eu-west-1")
    settings = load_settings()
    assert settings.genesys.client_id == "sdk-id"
    assert settings.genesys.client_secret.get_secret_value() == "sdk-secret"
    assert settings.genesys.region == "eu-west-1"
    assert settings.origin("genesys.client_id") == "GENESYS_CLOUD_CLIENT_ID"
    # the bridge's own name wins over the alias
    monkeypatch.setenv("MEDIA_BRIDGE_GENESYS__CLIENT_ID", "bridge-id")
    assert load_settings().genesys.client_id == "bridge-id"
    monkeypatch.setenv("GENESYS_CLOUD_REGION", "ireland")
    with pytest.raises(ConfigError, match=r"GENESYS_CLOUD_REGION \(genesys\.region\)"):
        load_settings()


def test_old_audiohook_names_still_work_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MEDIA_BRIDGE_AUDIOHOOK_PORT", "9123")
    monkeypatch.setenv("MEDIA_BRIDGE_AUDIOHOOK_API_KEYS", '{"k": null}')
    monkeypatch.setenv("MEDIA_BRIDGE_AUDIOHOOK_SINK__KIND", "dir")
    monkeypatch.setenv("MEDIA_BRIDGE_AUDIOHOOK__CHUNK_SECONDS", "7")
    args = cli.build_parser().parse_args(["audiohook"])
    settings = build_settings(args)
    assert settings.port == 9123
    assert settings.api_keys == {"k": None}
    assert settings.chunk_seconds == 7.0
    err = capsys.readouterr().err
    assert (
        "MEDIA_BRIDGE_AUDIOHOOK_PORT is deprecated and stops working in the next release: "
        "use MEDIA_BRIDGE_AUDIOHOOK__PORT"
    ) in err
    assert "use MEDIA_BRIDGE_AUDIOHOOK__API_KEYS" in err
    assert "use MEDIA_BRIDGE_AUDIOHOOK__SINK__KIND" in err
    assert "CHUNK_SECONDS" not in err  # the new name is not warned about
    # the new name wins over the old one
    monkeypatch.setenv("MEDIA_BRIDGE_AUDIOHOOK__PORT", "9124")
    assert load_settings().audiohook.port == 9124


def test_audiohook_without_api_keys_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    line = refused(["audiohook"], capsys)
    assert "MEDIA_BRIDGE_AUDIOHOOK__API_KEYS" in line


def test_list_settings_take_a_comma_list_or_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIA_BRIDGE_FETCH__MEDIA_TYPES", "Audio, Image")
    assert load_settings().fetch.media_types == ["Audio", "Image"]
    monkeypatch.setenv("MEDIA_BRIDGE_FETCH__MEDIA_TYPES", '["Video"]')
    assert load_settings().fetch.media_types == ["Video"]
    monkeypatch.setenv("MEDIA_BRIDGE_IDENTITY__KEY_ORDER", "phone,external_contact")
    assert load_settings().identity.key_order == ["phone", "external_contact"]


def test_test_harness_variables_are_not_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIA_BRIDGE_TEST_PG_URL", "postgresql://localhost/x")
    load_settings()


def test_a_dict_setting_key_keeps_its_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIA_BRIDGE_AUDIOHOOK__API_KEYS__MyKey", "c2VjcmV0")
    assert load_settings().audiohook.api_keys == {"MyKey": "c2VjcmV0"}
