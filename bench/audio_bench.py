"""Audio normalisation speed and memory, against the bare PyAV floor, in one run.

    .venv/bin/python -m bench.audio_bench [--quick]

For every input format: seconds of audio normalised per CPU second (x real time per
core) by ``media_bridge.audio.normalize`` (decode, resample, 16 kHz mono WAV, VAD,
levels, SNR, both sha256s), and in the same run the bare cost of PyAV decoding and
resampling the same file to 16 kHz mono s16 (the floor for this step); the ratio of
the two is the overhead of everything the bridge adds. CPU time (user + sys of this
process) is used, not wall time, so other load on the machine does not skew it.
Then the peak RSS of a child process normalising a one-hour recording, next to a child
that only imports the same modules (the baseline).

Inputs are real encodings of speech: the committed espeak-ng fixture, repeated with
pauses and a little background noise.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
from av.audio.stream import AudioStream

from media_bridge.audio import AudioSettings, normalize

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "audio" / "speech_en.ogg"
RATE = 16000

#: name -> (suffix, container, codec, codec rate, bit rate)
FORMATS: dict[str, tuple[str, str, str, int, int | None]] = {
    "ogg_opus": (".ogg", "ogg", "libopus", 48000, 16000),
    "webm_opus": (".webm", "webm", "libopus", 48000, 24000),
    "amr_nb": (".amr", "amr", "libopencore_amrnb", 8000, 12200),
    "m4a_aac": (".m4a", "ipod", "aac", 44100, 64000),
    "mp3": (".mp3", "mp3", "libmp3lame", 44100, 64000),
    "wav_pcm": (".wav", "wav", "pcm_s16le", 16000, None),
    "wav_mulaw": (".wav", "wav", "pcm_mulaw", 8000, None),
}


def speech(seconds: float, seed: int = 0) -> np.ndarray:
    """Real speech (the fixture) repeated with random pauses, plus faint noise, as int16."""
    with av.open(str(FIXTURE)) as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        parts = [
            out.to_ndarray().reshape(-1)
            for frame in container.decode(audio=0)
            for out in resampler.resample(frame)
        ]
    voice = np.concatenate(parts).astype(np.float32)
    rng = np.random.default_rng(seed)
    total = int(seconds * RATE)
    pieces: list[np.ndarray] = []
    length = 0
    while length < total:
        gap = np.zeros(int(rng.uniform(0.3, 2.0) * RATE), dtype=np.float32)
        pieces += [gap, voice * rng.uniform(0.5, 1.0)]
        length += len(gap) + len(voice)
    signal = np.concatenate(pieces)[:total] + rng.normal(0, 30, total).astype(np.float32)
    pcm: np.ndarray = np.clip(signal, -32768, 32767).astype(np.int16)
    return pcm


def encode(path: Path, pcm: np.ndarray, name: str) -> Path:
    _, container_format, codec, rate, bit_rate = FORMATS[name]
    with av.open(str(path), mode="w", format=container_format) as container:
        stream = cast(AudioStream, container.add_stream(codec, rate=rate))
        stream.codec_context.layout = "mono"
        if bit_rate:
            stream.codec_context.bit_rate = bit_rate
        resampler = av.AudioResampler(
            format=stream.codec_context.format.name, layout="mono", rate=rate
        )
        step = RATE  # one second per frame handed to the resampler
        for start in range(0, len(pcm), step):
            frame = av.AudioFrame.from_ndarray(
                pcm[start : start + step].reshape(1, -1), format="s16", layout="mono"
            )
            frame.sample_rate = RATE
            frame.pts = start
            frame.time_base = Fraction(1, RATE)
            for converted in resampler.resample(frame):
                for packet in stream.encode(converted):
                    container.mux(packet)
        for converted in resampler.resample(None):
            for packet in stream.encode(converted):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def repeat_ogg(src: Path, dst: Path, times: int) -> Path:
    """Concatenate an OGG/Opus file's packets ``times`` over (stream copy, no re-encode)."""
    with av.open(str(src)) as source, av.open(str(dst), mode="w", format="ogg") as out:
        in_stream = source.streams.audio[0]
        out_stream = out.add_stream_from_template(in_stream)
        packets = [p for p in source.demux(in_stream) if p.size]
        pts = [int(p.pts or 0) for p in packets]
        span = pts[-1] + int(packets[-1].duration or 0) - pts[0]
        for round_ in range(times):
            for packet, start in zip(packets, pts, strict=True):
                copy = av.Packet(bytes(packet))
                copy.pts = copy.dts = start + round_ * span
                copy.duration = packet.duration
                copy.time_base = packet.time_base
                copy.stream = out_stream
                out.mux(copy)
    return dst


def bare(src: Path) -> None:
    """The floor: PyAV decode + swresample to 16 kHz mono s16, nothing else."""
    with av.open(str(src)) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE, frame_size=2 * RATE)
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                out.to_ndarray()
        resampler.resample(None)


def measure(files: list[Path], seconds: float, out: Path, repeats: int) -> tuple[float, float]:
    """(bare x real time, normalise x real time): best CPU time of ``repeats`` interleaved
    runs of each, so a burst of load on the machine hits both sides alike."""
    settings = AudioSettings()
    best_bare = best_full = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        for src in files:
            bare(src)
        best_bare = min(best_bare, time.process_time() - started)
        started = time.process_time()
        for index, src in enumerate(files):
            normalize(src, out / f"{index}.wav", settings)
        best_full = min(best_full, time.process_time() - started)
    return seconds / best_bare, seconds / best_full


_CHILD = """
import resource, sys, time
from pathlib import Path
from media_bridge.audio import AudioSettings, normalize
started = time.process_time()
if sys.argv[1] != "-":
    report = normalize(Path(sys.argv[1]), Path(sys.argv[2]), AudioSettings())
    print(report.source.duration_s, report.speech.net_speech_s, time.process_time() - started)
else:
    print(0, 0, 0)
# ru_maxrss survives exec (it would include the forking parent), so prefer VmHWM,
# the high-water mark of this program's own address space, where Linux offers it
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    status = Path("/proc/self/status").read_text().splitlines()
    peak_kb = int(next(line for line in status if line.startswith("VmHWM:")).split()[1])
except (OSError, StopIteration):
    pass
print(peak_kb)
"""


def child_peak_rss(src: str, dst: str) -> tuple[float, list[str]]:
    """Run one normalisation in a fresh child; its own peak RSS (ru_maxrss) in MB."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, src, dst], capture_output=True, text=True, check=True
    )
    fields = done.stdout.split()
    return int(fields[-1]) / 1024, fields[:-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter inputs (smoke run)")
    args = parser.parse_args()
    clip_s = 60.0 if args.quick else 300.0
    notes, note_s = (5, 20.0) if args.quick else (20, 30.0)
    repeats = 2 if args.quick else 5
    hour_times = 2 if args.quick else 12  # x 300 s of real speech

    with tempfile.TemporaryDirectory(prefix="audio-bench-") as tmp:
        work = Path(tmp)
        out = work / "out"
        out.mkdir()
        pcm = speech(clip_s)
        rows: list[tuple[str, str, float, float, float]] = []
        voice_notes = [
            encode(work / f"note{i}.ogg", speech(note_s, seed=i + 1), "ogg_opus")
            for i in range(notes)
        ]
        floor, full = measure(voice_notes, notes * note_s, out, repeats)
        notes_kb = sum(note.stat().st_size for note in voice_notes) // 1024
        rows.append(
            (
                f"ogg_opus voice notes ({notes} x {note_s:.0f} s)",
                f"{notes_kb} KB",
                floor,
                full,
                floor / full,
            )
        )
        for name, (suffix, *_rest) in FORMATS.items():
            src = encode(work / f"{name}{suffix}", pcm, name)
            floor, full = measure([src], clip_s, out, repeats)
            rows.append(
                (
                    f"{name} ({clip_s:.0f} s)",
                    f"{src.stat().st_size // 1024} KB",
                    floor,
                    full,
                    floor / full,
                )
            )

        print(
            "\n### Audio normalisation, x real time per core (CPU time, best of", repeats, "runs)\n"
        )
        print("| input | size | bare PyAV decode+resample | normalise + all metrics | cost ratio |")
        print("|---|---|---:|---:|---:|")
        for label, size, floor_x, full_x, ratio in rows:
            print(f"| {label} | {size} | {floor_x:,.0f}x | {full_x:,.0f}x | {ratio:.2f} |")

        base = encode(work / "base.ogg", speech(300.0, seed=99), "ogg_opus")
        hour = repeat_ogg(base, work / "hour.ogg", hour_times)
        hour_s = 300.0 * hour_times
        baseline_mb, _ = child_peak_rss("-", "-")
        peak_mb, fields = child_peak_rss(str(hour), str(out / "hour.wav"))
        decoded_s, net_s, cpu_s = (float(value) for value in fields[:3])
        size_kb = hour.stat().st_size // 1024
        print(f"\n### Peak memory, {hour_s / 60:.0f}-minute OGG/Opus recording ({size_kb} KB)\n")
        print("| process | peak RSS | notes |")
        print("|---|---:|---|")
        print(f"| child: imports only (baseline) | {baseline_mb:.0f} MB | |")
        print(
            f"| child: normalise {decoded_s / 60:.0f} min | {peak_mb:.0f} MB | "
            f"{decoded_s / cpu_s:,.0f}x real time, {net_s / 60:.1f} min net speech, "
            f"output {(out / 'hour.wav').stat().st_size // (1024 * 1024)} MB |"
        )


if __name__ == "__main__":
    main()
