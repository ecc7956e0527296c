"""The one output MIME table (``audio.report.OUTPUT_MIME``) names every output format."""

from __future__ import annotations

from typing import get_args

from media_bridge.audio.report import OUTPUT_MIME, output_mime
from media_bridge.audio.settings import OutputFormat


def test_every_output_format_has_its_mime() -> None:
    assert set(OUTPUT_MIME) == set(get_args(OutputFormat))
    assert output_mime("wav") == "audio/wav"
    assert output_mime("flac") == "audio/flac"
    assert output_mime("ogg_opus") == "audio/ogg"
