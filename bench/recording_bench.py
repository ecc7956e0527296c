"""A 1-hour stereo call recording through the bridge: fetch, split, deliver; time and memory.

    .venv/bin/python -m bench.recording_bench [CALL_SECONDS]

The emulator runs in its own process (it must not share the bridge's GIL or memory) and
serves a CALL_SECONDS (default 3600) 8 kHz stereo WAV recording (generated here, turn by
turn, from the emulator's dialogue plan and voices). Each side runs in a fresh
process so its peak RSS is its own:

- bridge: detail event -> recording job -> streamed download -> one-pass stereo split
  in the audio worker process (16 kHz mono customer and agent WAVs) -> dir sink;
  peak RSS of the bridge process and of its audio worker;
- baseline, same run: the obvious way, reading the whole body into memory and
  splitting it with numpy (no resampling), in one process.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import resource
import sys
import tempfile
import time
import wave
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from genesys_emulator.config import EmulatorConfig, ScenarioConfig

MB = 1024 * 1024


def _dialogue_wav(seed: int, seconds: float, rate: int = 8000) -> bytes:
    """The emulator's two-voice dialogue as an 8 kHz stereo WAV (customer left), built
    turn by turn (the emulator's own generator is meant for short calls)."""
    import io

    import numpy as np

    from genesys_emulator import media

    n = int(seconds * rate)
    tracks = {"customer": np.zeros(n, np.float32), "agent": np.zeros(n, np.float32)}
    voices = {"customer": 200.0, "agent": 110.0}
    for turn in media.dialogue_turns(seed, seconds):
        start, end = int(turn.start_s * rate), min(n, int(turn.end_s * rate))
        segment = media.speech_signal(turn.seed, (end - start) / rate, rate, voices[turn.speaker])
        used = min(len(segment), end - start)
        tracks[turn.speaker][start : start + used] = segment[:used]
    pcm = np.stack([tracks["customer"], tracks["agent"]], axis=1)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as stream:
        stream.setnchannels(2)
        stream.setsampwidth(2)
        stream.setframerate(rate)
        stream.writeframes((np.clip(pcm, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def _serve(config: EmulatorConfig, conn: Connection) -> None:
    from functools import partial

    from genesys_emulator.events import scenario_events
    from genesys_emulator.testing import running_emulator

    with running_emulator(config) as emu:
        (call,) = emu.conversations()
        recording = call.recordings[0]
        key = recording.object_keys["WAV"]
        seconds = config.scenario.call_seconds
        emu.state.store.put(
            key, "audio/wav", f"{recording.id}.wav", partial(_dialogue_wav, recording.seed, seconds)
        )
        stored = emu.state.store.materialize(key)
        conn.send((emu.genesys_settings(), scenario_events(emu.state, "detail"), stored.size))
        conn.recv()


def _peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: KiB


def _bridge(
    genesys: dict[str, Any], events: list[dict[str, Any]], root: str, out: Connection
) -> None:
    from media_bridge.app import Bridge
    from media_bridge.config import Settings
    from media_bridge.genesys.settings import GenesysSettings
    from media_bridge.intake.runner import SourcePump
    from media_bridge.intake.sources.file import FileSource
    from media_bridge.runtime import run_pipeline
    from tests.integration.bridge.harness import write_events

    base = Path(root)
    settings = Settings(
        genesys=GenesysSettings(**genesys),
        ledger={"url": f"sqlite:///{base}/ledger.db"},
        sinks={"dir_path": base / "out", "text_path": base / "nlp.jsonl"},
        audio={"workers": 1},
        voice={"recording_delay_s": 0.0, "transcripts": False},
        log_level="WARNING",
    )
    path = write_events(base / "events.jsonl", events)

    async def run() -> dict[Any, int]:
        async with Bridge(settings, worker_id="bench") as bridge:
            return await run_pipeline(
                bridge,
                [SourcePump(FileSource(path))],
                until_idle=True,
                idle_timeout_s=1800,
                progress_every_s=0.2,
            )

    started = time.perf_counter()
    counts = asyncio.run(run())
    seconds = time.perf_counter() - started
    delivered = sorted(p.name for p in (base / "out").glob("*/*"))
    (sidecar,) = (base / "out").glob("*/*.json")
    audio = json.loads(sidecar.read_text())["metadata"]["audio"]
    out.send(
        {
            "seconds": seconds,
            "rss_mb": _peak_mb(resource.RUSAGE_SELF),
            "worker_rss_mb": _peak_mb(resource.RUSAGE_CHILDREN),
            "dead": counts.get(next(k for k in counts if k.value == "dead"), 0),
            "files": delivered,
            "customer_s": audio["customer"]["output"]["duration_s"],
            "customer_speech_s": audio["customer"]["speech"]["net_speech_s"],
            "agent_speech_s": audio["agent"]["speech"]["net_speech_s"],
        }
    )


def _baseline(genesys: dict[str, Any], conversation_id: str, root: str, out: Connection) -> None:
    """Whole body in memory, numpy split: what flat memory is compared with."""
    import numpy as np

    from media_bridge.genesys.client import GenesysClient
    from media_bridge.genesys.settings import GenesysSettings

    async def fetch() -> bytes:
        async with GenesysClient(GenesysSettings(**genesys)) as client:
            answer = await client.get_recordings(conversation_id, "WAV", 5000)
            url = answer.recordings[0]["mediaUris"]["S"]["mediaUri"]
            async with client.session.get(url) as response:
                return await response.read()

    started = time.perf_counter()
    body = asyncio.run(fetch())
    data_at = body.find(b"data") + 8
    samples = np.frombuffer(body[data_at:], dtype="<i2")
    pairs = samples[: len(samples) // 2 * 2].reshape(-1, 2)
    for index, name in enumerate(("left", "right")):
        with wave.open(str(Path(root) / f"{name}.wav"), "wb") as stream:
            stream.setnchannels(1)
            stream.setsampwidth(2)
            stream.setframerate(8000)
            stream.writeframes(np.ascontiguousarray(pairs[:, index]).tobytes())
    out.send(
        {
            "seconds": time.perf_counter() - started,
            "rss_mb": _peak_mb(resource.RUSAGE_SELF),
            "worker_rss_mb": 0.0,
            "dead": 0,
            "files": ["left.wav", "right.wav"],
        }
    )


def _in_process(target: Any, *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=target, args=(*args, child))
    process.start()
    result: dict[str, Any] = parent.recv()
    process.join(timeout=60)
    return result


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3600.0
    config = EmulatorConfig(
        scenario=ScenarioConfig(
            seed=21, messaging_conversations=0, voice_conversations=1, call_seconds=seconds
        ),
        rate_limit_requests=0,
        signed_url_ttl_s=3600.0,
    )
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=_serve, args=(config, child))
    server.start()
    try:
        genesys, events, size = parent.recv()
        conversation_id = events[0]["detail"]["eventBody"]["conversationId"]
        with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
            bridge = _in_process(_bridge, genesys, events, one)
            baseline = _in_process(_baseline, genesys, conversation_id, two)
    finally:
        parent.send("stop")
        server.join(timeout=60)
    assert bridge["dead"] == 0, bridge
    print(f"recording: {seconds / 60:.0f} min stereo WAV 8 kHz s16, {size / MB:.1f} MB\n")
    print("| run | wall time (s) | peak RSS main process (MB) | peak RSS audio worker (MB) |")
    print("|---|---:|---:|---:|")
    for name, row in (
        ("bridge: stream + split + 16 kHz resample + VAD + dir sink", bridge),
        ("baseline: body in memory + numpy split (no resample)", baseline),
    ):
        print(
            f"| {name} | {row['seconds']:.1f} | {row['rss_mb']:.0f} | {row['worker_rss_mb']:.0f} |"
        )
    print(
        f"\nbridge delivered: {', '.join(bridge['files'])}; customer file "
        f"{bridge['customer_s']:.0f} s, net speech customer {bridge['customer_speech_s']:.0f} s, "
        f"agent {bridge['agent_speech_s']:.0f} s"
    )


if __name__ == "__main__":
    main()
