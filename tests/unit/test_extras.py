"""A setting that needs an extra which is not installed fails at start in one line naming
the extra (here the extra's modules are made unfindable; the wheel test in
tests/integration/test_runtime_install.py does it for real in a venv without extras)."""

from __future__ import annotations

import asyncio
import gc
import warnings
from pathlib import Path

import aiohttp
import pytest

from media_bridge import extras
from media_bridge.cli.common import source_from_spec
from media_bridge.cli.doctor_checks import check_kafka, check_s3
from media_bridge.config import Settings, SinkSettings
from media_bridge.errors import ConfigError
from media_bridge.extras import MissingExtra, require_extra
from media_bridge.ledger import _BACKENDS, _LAZY_BACKENDS, LedgerUrlError, ledger_from_url
from media_bridge.sinks import sinks_from_settings


@pytest.fixture
def no_extras(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every extra's modules missing, as in a runtime-only install."""
    monkeypatch.setattr(
        extras,
        "EXTRA_MODULES",
        {name: (f"{name}_not_installed_here",) for name in extras.EXTRA_MODULES},
    )


def _one_line(exc: BaseException, extra: str) -> None:
    message = str(exc)
    assert "\n" not in message
    assert f"needs the {extra} extra: pip install 'genesys-media-bridge[{extra}]'" in message


def test_the_installed_extras_are_found() -> None:
    for name in extras.EXTRA_MODULES:
        require_extra(name, "a test")  # the dev environment has every extra


def test_a_missing_extra_is_a_config_error() -> None:
    assert issubclass(MissingExtra, ConfigError)


@pytest.mark.usefixtures("no_extras")
@pytest.mark.parametrize(
    ("media", "text", "extra", "setting"),
    [
        ("s3://bucket/prefix", "jsonl", "aws", "sinks.media"),
        ("kafka://127.0.0.1:9/topic", "jsonl", "kafka", "sinks.media"),
        ("dir", "kafka://127.0.0.1:9/texts", "kafka", "sinks.text"),
    ],
)
def test_a_sink_without_its_extra_is_refused_in_one_line(
    tmp_path: Path, media: str, text: str, extra: str, setting: str
) -> None:
    settings = SinkSettings(media=media, text=text, dir_path=tmp_path, text_path=tmp_path / "t")

    async def build() -> None:
        async with aiohttp.ClientSession() as session:
            sinks_from_settings(settings, session)

    with pytest.raises(MissingExtra) as caught:
        asyncio.run(build())
    _one_line(caught.value, extra)
    assert setting in str(caught.value)


@pytest.mark.usefixtures("no_extras")
def test_a_kafka_claim_check_with_an_s3_store_needs_both_extras(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        extras, "EXTRA_MODULES", {**extras.EXTRA_MODULES, "kafka": ("confluent_kafka",)}
    )
    from media_bridge.sinks.kafka import kafka_media_sink_from_url

    with pytest.raises(MissingExtra) as caught:
        kafka_media_sink_from_url("kafka://127.0.0.1:9/t?store=s3%3A%2F%2Fb", dir_path=tmp_path)
    _one_line(caught.value, "aws")


@pytest.mark.usefixtures("no_extras")
@pytest.mark.parametrize(
    ("spec", "extra"),
    [("sqs:http://127.0.0.1:9/000000000000/q", "aws"), ("kafka:events", "kafka")],
)
def test_a_source_without_its_extra_is_refused_in_one_line(spec: str, extra: str) -> None:
    with pytest.raises(MissingExtra) as caught:
        source_from_spec(spec, Settings())
    _one_line(caught.value, extra)
    assert "--source" in str(caught.value)


@pytest.mark.usefixtures("no_extras")
def test_a_postgres_ledger_without_its_extra_is_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # as on first use: the lazily loaded backends are not registered yet
    monkeypatch.setattr(
        "media_bridge.ledger._BACKENDS",
        {k: v for k, v in _BACKENDS.items() if k not in _LAZY_BACKENDS},
    )
    with pytest.raises(LedgerUrlError) as caught:
        ledger_from_url("postgresql://bridge@db/bridge")
    _one_line(caught.value, "postgres")
    assert "ledger.url" in str(caught.value)


@pytest.mark.usefixtures("no_extras")
def test_doctor_reports_a_missing_extra_as_a_failed_check() -> None:
    s3 = asyncio.run(check_s3("s3://bucket/prefix", "media sink"))
    kafka = asyncio.run(check_kafka("kafka://127.0.0.1:9/t", "text sink"))
    assert s3[0] == kafka[0] == "FAIL"
    assert "pip install 'genesys-media-bridge[aws]'" in s3[1]
    assert "pip install 'genesys-media-bridge[kafka]'" in kafka[1]


@pytest.mark.usefixtures("no_extras")
async def test_a_bridge_whose_start_is_refused_closes_what_it_opened(tmp_path: Path) -> None:
    from media_bridge.app import Bridge
    from media_bridge.genesys.settings import GenesysSettings

    settings = Settings(
        genesys=GenesysSettings(client_id="id", client_secret="s", api_url="http://127.0.0.1:9"),
        ledger={"url": f"sqlite:///{tmp_path}/ledger.db"},
        sinks={"media": "s3://bucket", "dir_path": tmp_path / "out", "text_path": tmp_path / "t"},
    )

    async def start() -> None:
        async with Bridge(settings):
            pytest.fail("started without the aws extra")

    refused = False
    # an unclosed aiohttp session warns (ResourceWarning) when it is collected
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            await start()
        except MissingExtra:
            refused = True  # the traceback (and the bridge it holds) goes with this block
        gc.collect()
    assert refused
    assert [str(w.message) for w in caught if "Unclosed" in str(w.message)] == []
