"""The committed configuration reference is what the generator prints from the models."""

from __future__ import annotations

from pathlib import Path

from media_bridge.config import Settings
from media_bridge.config.reference import entries, render

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_the_committed_reference_is_current() -> None:
    # after changing a setting: make config-docs
    assert REFERENCE.read_text(encoding="utf-8") == render()


def test_every_setting_is_in_the_reference_with_its_meaning() -> None:
    listed = list(entries())
    assert len(listed) > 100
    undocumented = [".".join(entry.path) for entry in listed if not entry.meaning.strip()]
    assert undocumented == []
    paths = {".".join(entry.path) for entry in listed}
    # settings the first hand-written reference left out
    for path in (
        "sinks.text_http_url",
        "sinks.text_path",
        "log_level",
        "intake.api_key_header",
        "intake.allow_anonymous",
        "genesys.request_timeout_s",
        "worker.conversation_watch_max_s",
    ):
        assert path in paths


def test_each_entry_names_the_variable_that_sets_it() -> None:
    by_path = {".".join(entry.path): entry for entry in entries()}
    assert by_path["sinks.text_http_url"].env == "MEDIA_BRIDGE_SINKS__TEXT_HTTP_URL"
    assert by_path["audiohook.sink.kind"].env == "MEDIA_BRIDGE_AUDIOHOOK__SINK__KIND"
    assert by_path["genesys.client_secret"].secret
    assert by_path["audio.output_format"].allowed == "`wav`, `flac`, `ogg_opus`"
    assert by_path["ledger.url"].default == "`sqlite:///var/media-bridge/ledger.db`"


def test_an_s3_sink_url_takes_every_option_the_sink_reads() -> None:
    # the settings check once refused kms_key_id and bucket_key, which the S3 sink reads
    url = "s3://bucket/prefix?kms_key_id=alias/x&bucket_key=1&sidecar=0&region=eu-west-1"
    assert Settings(sinks={"media": url}).sinks.media == url
