"""Hostile containers and sample rates: FFmpeg opens only what the channels carry."""

from __future__ import annotations

from pathlib import Path

import pytest

from media_bridge.audio import AudioSettings, BadSampleRate, NotAudio, normalize
from media_bridge.errors import BadInput
from tests.unit.audio.audio_signals import FORMATS, encode, pcm_wav, speech_like


def _refused(src: Path, tmp_path: Path, error: type[BadInput]) -> None:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    with pytest.raises(error) as caught:
        normalize(src, out / "voice.wav", AudioSettings())
    assert not caught.value.retryable
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("rate", [1, 8, 2**31 - 1])
def test_implausible_input_rates_are_bad_input(tmp_path: Path, rate: int) -> None:
    # at 1 Hz a 28 KB file used to become a 448 MB normalised WAV; 2^31-1 Hz raised MemoryError
    src = tmp_path / f"r{rate}.wav"
    src.write_bytes(pcm_wav(rate, 14_000))
    _refused(src, tmp_path, BadSampleRate)


def test_an_ffconcat_script_never_reads_another_file(tmp_path: Path) -> None:
    wav = FORMATS["wav_pcm"]
    victim = encode(tmp_path / "victim.wav", speech_like(3.0, wav.rate), wav)
    script = tmp_path / "voice.ogg"
    script.write_text(f"ffconcat version 1.0\nfile '{victim}'\n")
    _refused(script, tmp_path, NotAudio)


def test_an_hls_playlist_is_not_opened(tmp_path: Path) -> None:
    mp3 = FORMATS["mp3"]
    segment = encode(tmp_path / "seg.mp3", speech_like(2.0, mp3.rate), mp3)
    playlist = tmp_path / "voice.m4a"
    playlist.write_text(
        f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n{segment}\n#EXT-X-ENDLIST\n"
    )
    _refused(playlist, tmp_path, NotAudio)


def test_an_sdp_description_is_not_opened(tmp_path: Path) -> None:
    sdp = tmp_path / "voice.amr"
    sdp.write_text(
        "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\n"
        "m=audio 5004 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"
    )
    _refused(sdp, tmp_path, NotAudio)
