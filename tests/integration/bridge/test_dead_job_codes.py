"""A refused download parks its job under its own code (issue 11): ``too_large`` for a
body over ``fetch.max_bytes``, ``error_page`` for an HTML page served as a voice note,
and the ledger's dead-jobs-by-code gauge (``media_bridge_dead_jobs{code}``) counts them
so. Emulator -> bridge -> dir sink over real sockets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from genesys_emulator.testing import EmulatorHandle
from media_bridge.ledger import ledger_from_url
from tests.integration.bridge.test_media_hardening_e2e import (
    assert_bad_input,
    emu,
    run,
    seed_voice_note,
)

pytestmark = pytest.mark.integration

__all__ = ["emu"]  # the emulator fixture, shared with the hardening tests

ERROR_PAGE = b"<!DOCTYPE html><html><body><h1>503 Service Unavailable</h1></body></html>" * 8


async def dead_by_code(root: Path) -> dict[str, int]:
    ledger = ledger_from_url(f"sqlite:///{root}/ledger.db")
    await ledger.open()
    try:
        return (await ledger.gauges(datetime.now(UTC))).dead_by_code
    finally:
        await ledger.close()


async def test_a_voice_note_over_the_size_cap_is_dead_as_too_large(
    emu: EmulatorHandle, tmp_path: Path
) -> None:
    seed_voice_note(emu, b"OggS" + bytes(8 << 10))
    jobs = await run(emu, tmp_path, fetch={"max_bytes": 4096})
    assert_bad_input(jobs, "too_large", tmp_path)  # before: bad_input, as any refusal
    assert (await dead_by_code(tmp_path)).get("too_large") == 1


async def test_an_error_page_served_as_a_voice_note_is_dead_as_error_page(
    emu: EmulatorHandle, tmp_path: Path
) -> None:
    seed_voice_note(emu, ERROR_PAGE)
    assert_bad_input(await run(emu, tmp_path), "error_page", tmp_path)
    assert (await dead_by_code(tmp_path)).get("error_page") == 1
