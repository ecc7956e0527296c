"""One message read serves a message's text and attachment jobs: kept briefly, single-flight."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from media_bridge.genesys import GenesysClient
from media_bridge.message_reads import MessageReads


class _Genesys:
    def __init__(self) -> None:
        self.reads = 0

    async def get_message(self, conversation_id: str, message_id: str) -> dict[str, Any]:
        self.reads += 1
        await asyncio.sleep(0.01)
        return {"id": message_id, "read": self.reads}


def _reads(clock: list[float]) -> tuple[MessageReads, _Genesys]:
    genesys = _Genesys()
    return MessageReads(cast(GenesysClient, genesys), keep_s=60, clock=lambda: clock[0]), genesys


async def test_concurrent_reads_of_one_message_share_one_request() -> None:
    reads, genesys = _reads([0.0])
    first, second = await asyncio.gather(reads.read("c", "m"), reads.read("c", "m"))
    assert first is second
    assert genesys.reads == 1


async def test_a_read_is_kept_for_a_while_and_fresh_reads_bypass_it() -> None:
    clock = [0.0]
    reads, genesys = _reads(clock)
    assert reads.kept("c", "m") is None
    first = await reads.read("c", "m")
    assert reads.kept("c", "m") is first
    assert await reads.read("c", "m") is first
    assert genesys.reads == 1
    again = await reads.read("c", "m", fresh=True)
    assert again["read"] == 2
    assert await reads.read("c", "m") is again  # the fresh read is kept in turn
    clock[0] = 61.0
    assert reads.kept("c", "m") is None
    assert (await reads.read("c", "m"))["read"] == 3
    assert (await reads.read("c", "other"))["read"] == 4
