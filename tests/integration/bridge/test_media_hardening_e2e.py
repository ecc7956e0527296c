"""Hostile voice notes end to end (issue 16): emulator -> bridge -> dir sink over real
sockets, one crafted attachment per finding. A bomb or a disguised playlist/script ends
its job at once as bad input (never retried as "unexpected"), a symlinked conversation
folder is refused, and what the bridge writes is readable by its own user only."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.state import Conversation
from genesys_emulator.testing import EmulatorHandle, running_emulator
from media_bridge.ledger import ledger_from_url
from media_bridge.sinks.dir import DirSink
from media_bridge.sinks.naming import safe_conversation_id
from media_bridge.types import Delivery, Job, JobKind, JobState
from tests.integration.bridge.harness import (
    bridge_settings,
    delivered_sidecars,
    run_bridge,
    write_events,
)
from tests.unit.audio.audio_signals import FORMATS, encode, pcm_wav, speech_like

pytestmark = pytest.mark.integration

#: 14,000 samples: a 28 KB PCM WAV, the size the review used
SAMPLES = 14_000


@pytest.fixture
def emu() -> Iterator[EmulatorHandle]:
    config = EmulatorConfig(
        scenario=ScenarioConfig(
            seed=16, messaging_conversations=0, voice_conversations=0, voice_note_seconds=3.0
        )
    )
    with running_emulator(config) as handle:
        yield handle


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, under which files made with default modes come out ``0644``."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def seed_voice_note(emu: EmulatorHandle, data: bytes | None = None) -> Conversation:
    """A WhatsApp conversation whose voice note is served as ``data`` (default: the
    emulator's own Ogg/Opus note)."""
    conversation = emu.add_messaging_conversation("whatsapp", kinds=("ogg_opus",))
    if data is not None:
        attachment = next(a for m in conversation.messages for a in m.attachments)
        store = emu.state.store
        store.put(attachment.object_key, attachment.mime, attachment.filename, lambda: data)
    return conversation


async def attachment_jobs(root: Path) -> list[Job]:
    ledger = ledger_from_url(f"sqlite:///{root}/ledger.db")
    await ledger.open()
    try:
        jobs = await ledger.list_jobs(None, limit=1000)
    finally:
        await ledger.close()
    return [job for job in jobs if job.kind is JobKind.ATTACHMENT]


async def run(emu: EmulatorHandle, root: Path, **sections: Any) -> list[Job]:
    """Every conversation's events through a bridge; the attachment jobs as they ended.

    Two attempts at most: a failure retried as "unexpected" shows as ``attempts == 2``
    instead of hanging the test through eight back-offs."""
    events = write_events(root / "events.jsonl", scenario_events(emu.state, "message"))
    sections.setdefault("ledger", {})["max_attempts"] = 2
    await run_bridge(bridge_settings(emu, root, **sections), events, timeout_s=30)
    return await attachment_jobs(root)


def assert_bad_input(jobs: list[Job], code: str, root: Path) -> None:
    """One attachment job, parked after its first attempt with ``code``; nothing delivered."""
    assert len(jobs) == 1, jobs
    job = jobs[0]
    assert (job.state, job.error_code, job.attempts) == (JobState.DEAD, code, 1), job.last_error
    assert delivered_sidecars(root) == []
    out = root / "out"
    written = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
    assert written == []


# -- finding 1: decompression bombs through the sample rate ----------------------------


@pytest.mark.parametrize("rate", [1, 8])
async def test_a_pcm_wav_at_a_few_hertz_is_refused_as_bad_input(
    emu: EmulatorHandle, tmp_path: Path, rate: int
) -> None:
    # before: 28 KB at 1 Hz became a 448 MB normalised WAV, at 8 Hz 56 MB, both delivered
    seed_voice_note(emu, pcm_wav(rate, SAMPLES))
    assert_bad_input(await run(emu, tmp_path), "bad_sample_rate", tmp_path)


async def test_with_the_rate_floor_lowered_a_1_hz_wav_is_still_a_bomb(
    emu: EmulatorHandle, tmp_path: Path
) -> None:
    # the samples-per-byte limit now counts at the output rate too: 14,000 s of output
    # from 28 KB is 8,000 output samples per byte
    seed_voice_note(emu, pcm_wav(1, SAMPLES))
    jobs = await run(emu, tmp_path, audio={"min_input_rate": 1})
    assert_bad_input(jobs, "decompression_bomb", tmp_path)


async def test_with_the_rate_floor_lowered_the_output_stops_at_max_output_bytes(
    emu: EmulatorHandle, tmp_path: Path
) -> None:
    # 8 Hz passes the bomb ratio (~1,000 output samples per byte): only the byte cap
    # stops its 56 MB of output; here the cap is 8 MB
    seed_voice_note(emu, pcm_wav(8, SAMPLES))
    jobs = await run(emu, tmp_path, audio={"min_input_rate": 1, "max_output_bytes": 8 << 20})
    assert_bad_input(jobs, "output_too_large", tmp_path)
    work = [p for p in (tmp_path / ".bridge-tmp").iterdir() if p.is_file()]
    assert work == []  # the partial output was removed with the job


async def test_a_wav_declaring_2_31_hz_is_bad_input_not_an_unexpected_retry(
    emu: EmulatorHandle, tmp_path: Path
) -> None:
    # before: MemoryError in the resampler, retried as "unexpected" until attempts ran out
    seed_voice_note(emu, pcm_wav(2**31 - 1, SAMPLES))
    assert_bad_input(await run(emu, tmp_path), "bad_sample_rate", tmp_path)


# -- finding 2: only the channels' containers reach a demuxer ----------------------------


def _victim(tmp_dir: Path) -> Path:
    """Another conversation's audio in a sub-folder of the shared ``fetch.tmp_dir``."""
    other = tmp_dir / "other-conversation"
    other.mkdir(parents=True)
    wav = FORMATS["wav_pcm"]
    return encode(other / "voice.wav", speech_like(3.0, wav.rate, seed=7), wav)


async def test_an_ffconcat_script_never_delivers_another_conversations_audio(
    emu: EmulatorHandle, tmp_path: Path
) -> None:
    tmp_dir = tmp_path / "work"
    victim = _victim(tmp_dir)
    # relative to the downloaded script, which lands in fetch.tmp_dir
    script = f"ffconcat version 1.0\nfile '{victim.relative_to(tmp_dir)}'\n"
    seed_voice_note(emu, script.encode())
    jobs = await run(emu, tmp_path, fetch={"tmp_dir": tmp_dir})
    assert_bad_input(jobs, "not_audio", tmp_path)
    assert victim.is_file()


async def test_an_hls_playlist_is_refused(emu: EmulatorHandle, tmp_path: Path) -> None:
    tmp_dir = tmp_path / "work"
    segment = _victim(tmp_dir).relative_to(tmp_dir)
    playlist = (
        f"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:3\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXTINF:3.0,\n{segment}\n#EXT-X-ENDLIST\n"
    )
    seed_voice_note(emu, playlist.encode())
    jobs = await run(emu, tmp_path, fetch={"tmp_dir": tmp_dir})
    assert_bad_input(jobs, "not_audio", tmp_path)


async def test_an_sdp_description_is_refused(emu: EmulatorHandle, tmp_path: Path) -> None:
    sdp = (
        "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=voice\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        "m=audio 5004 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )
    seed_voice_note(emu, sdp.encode())
    assert_bad_input(await run(emu, tmp_path), "not_audio", tmp_path)


# -- finding 3: the output folders ---------------------------------------------------------


async def test_a_symlinked_conversation_folder_is_refused(
    emu: EmulatorHandle, tmp_path: Path
) -> None:
    conversation = seed_voice_note(emu)
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / safe_conversation_id(conversation.id)).symlink_to(outside, target_is_directory=True)

    jobs = await run(emu, tmp_path)

    assert len(jobs) == 1
    assert (jobs[0].state, jobs[0].error_code) == (JobState.DEAD, "delivery_rejected")
    assert "refusing to write through" in (jobs[0].last_error or "")
    assert list(outside.iterdir()) == []  # nothing written outside the root


def _modes(root: Path) -> dict[str, int]:
    """Relative path -> permission bits of everything below ``root``."""
    return {str(p.relative_to(root)): p.stat().st_mode & 0o777 for p in root.rglob("*")}


@pytest.fixture
def work_file_modes(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """The modes of the worker's temporary files (original, normalised) as the dir sink
    receives them, before they are cleaned up."""
    seen: dict[str, int] = {}
    deliver = DirSink.deliver

    async def recording(self: DirSink, delivery: Delivery) -> dict[str, Any]:
        for file in delivery.files:
            seen[file.role] = file.path.stat().st_mode & 0o777
        return await deliver(self, delivery)

    monkeypatch.setattr(DirSink, "deliver", recording)
    return seen


@pytest.mark.usefixtures("umask_022")
async def test_delivered_files_are_0600_in_0700_folders(
    emu: EmulatorHandle, tmp_path: Path, work_file_modes: dict[str, int]
) -> None:
    conversation = seed_voice_note(emu)
    jobs = await run(emu, tmp_path)

    assert [job.state for job in jobs] == [JobState.DONE]
    assert work_file_modes == {"original": 0o600, "normalized": 0o600}
    assert (tmp_path / ".bridge-tmp").stat().st_mode & 0o777 == 0o700  # the work folder
    folder = safe_conversation_id(conversation.id)
    modes = _modes(tmp_path / "out")
    assert modes.pop(folder) == 0o700
    assert len(modes) == 3  # original, normalised, sidecar
    assert set(modes.values()) == {0o600}, modes


@pytest.mark.usefixtures("umask_022")
async def test_clips_held_locally_are_0600_in_0700_folders(
    emu: EmulatorHandle, tmp_path: Path, work_file_modes: dict[str, int]
) -> None:
    # audio.below_gate = hold_local with a remote media sink: the keep folder is the dir
    # sink's; an HTTP sink that is never reached stands for the remote one
    conversation = seed_voice_note(emu)
    tmp_dir = tmp_path / "work"
    tmp_dir.mkdir(mode=0o755)  # an operator's folder, made private at start
    jobs = await run(
        emu,
        tmp_path,
        sinks={"media": "http", "http_url": "http://127.0.0.1:9/never", "http_secret": "s"},
        audio={"min_net_speech_s": 600.0, "below_gate": "hold_local"},
        fetch={"tmp_dir": tmp_dir},
    )

    assert [job.state for job in jobs] == [JobState.DONE]
    assert jobs[0].result is not None
    assert jobs[0].result["sink"] == "dir"
    assert work_file_modes == {"original": 0o600, "normalized": 0o600}
    assert tmp_dir.stat().st_mode & 0o777 == 0o700
    folder = safe_conversation_id(conversation.id)
    modes = _modes(tmp_path / "out")
    assert modes.pop(folder) == 0o700
    assert modes
    assert set(modes.values()) == {0o600}, modes
