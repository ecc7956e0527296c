"""The directory sink: safe, deterministic names and a sidecar per WAV."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from media_bridge.audiohook.delivery import write_wav
from media_bridge.audiohook.sinks import DirChunkSink


async def test_dir_sink_names_are_safe_and_repeatable(tmp_path: Path) -> None:
    wav = tmp_path / "in.wav"
    write_wav(wav, np.zeros(160, dtype=np.int16), 16000)
    root = tmp_path / "out"
    sink = DirChunkSink(root)
    meta = {
        "kind": "chunk",
        "index": 2,
        "conversationId": "../../etc",
        "sessionId": "s/1",
        "channel": "external",
    }
    first = await sink.deliver_chunk(meta, wav)
    again = await sink.deliver_chunk(meta, wav)
    assert first == again
    out = Path(first["location"])
    assert root in out.parents
    assert out.name == "s_1-external-chunk-00002.wav"
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["file"] == out.name
    assert sidecar["index"] == 2
    assert sorted(p.name for p in out.parent.iterdir()) == [
        "s_1-external-chunk-00002.json",
        "s_1-external-chunk-00002.wav",
    ]
