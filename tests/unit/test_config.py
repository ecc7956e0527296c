"""Settings: env over file, secrets from files, clear errors."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from media_bridge.cli.common import settings_from_args
from media_bridge.config import load_settings
from media_bridge.errors import ConfigError


def test_env_overrides_the_toml_file_and_secrets_come_from_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text('[genesys]\nregion = "mypurecloud.de"\nclient_id = "from-file"\n')
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("MEDIA_BRIDGE_GENESYS__CLIENT_ID", "from-env")
    monkeypatch.setenv("MEDIA_BRIDGE_GENESYS__CLIENT_SECRET_FILE", str(secret))

    settings = load_settings(config)

    assert settings.genesys.region == "mypurecloud.de"
    assert settings.genesys.client_id == "from-env"
    assert settings.genesys.client_secret.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)


def test_invalid_settings_exit_with_the_field_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIA_BRIDGE_WORKER__CONCURRENCY", "zero")
    named = r"MEDIA_BRIDGE_WORKER__CONCURRENCY \(worker\.concurrency\)"
    with pytest.raises(ConfigError, match=named):
        settings_from_args(argparse.Namespace(config=None))
