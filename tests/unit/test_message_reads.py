"""One message read serves a message's text and attachment jobs: kept briefly, single-flight."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from media_bridge.errors import Transient
from media_bridge.genesys import GenesysClient
from media_bridge.worker.message_reads import MessageReads


class _Genesys:
    def __init__(self, *, bulk_leaves_out: str | None = None, fail: bool = False) -> None:
        self.reads = 0
        self.bulk: list[list[str]] = []
        self.leaves_out = bulk_leaves_out
        self.fail = fail

    async def get_messages_bulk(self, conversation_id: str, ids: list[str]) -> dict[str, Any]:
        self.bulk.append(ids)
        if self.fail:
            raise Transient("bulk read failed")
        return {"entities": [{"id": i, "bulk": True} for i in ids if i != self.leaves_out]}

    async def get_message(self, conversation_id: str, message_id: str) -> dict[str, Any]:
        self.reads += 1
        await asyncio.sleep(0.01)
        return {"id": message_id, "read": self.reads}


def _reads(clock: list[float], genesys: _Genesys | None = None) -> tuple[MessageReads, _Genesys]:
    genesys = genesys or _Genesys()
    reads = MessageReads(
        cast(GenesysClient, genesys), keep_s=60, batch_window_s=0.02, clock=lambda: clock[0]
    )
    return reads, genesys


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


async def test_texts_of_one_conversation_close_together_share_one_bulk_read() -> None:
    reads, genesys = _reads([0.0], _Genesys(bulk_leaves_out="m3"))
    found = await asyncio.gather(*(reads.read_text("c", m) for m in ("m1", "m2", "m3", "m1")))
    assert genesys.bulk == [["m1", "m2", "m3"]]
    assert [m.get("bulk") for m in found] == [True, True, None, True]
    assert genesys.reads == 1  # the one the bulk answer left out, read alone
    assert reads.kept("c", "m2") is found[1]  # kept for the attachment jobs
    alone = await reads.read_text("c", "m4")
    assert alone["read"] == 2  # a single text: a plain read
    assert len(genesys.bulk) == 1


async def test_a_failed_bulk_read_fails_every_waiting_text() -> None:
    reads, _ = _reads([0.0], _Genesys(fail=True))
    results = await asyncio.gather(
        reads.read_text("c", "m1"), reads.read_text("c", "m2"), return_exceptions=True
    )
    assert all(isinstance(r, Transient) for r in results)
    assert reads.kept("c", "m1") is None  # nothing kept: the retried job asks again
    assert (await reads.read_text("c", "m1"))["read"] == 1  # alone now: a plain read


async def test_close_cancels_the_batches_still_waiting() -> None:
    genesys = _Genesys()
    reads = MessageReads(cast(GenesysClient, genesys), batch_window_s=10)
    waiting = asyncio.ensure_future(reads.read_text("c", "m1"))
    await asyncio.sleep(0)
    await reads.close()
    results = await asyncio.gather(waiting, return_exceptions=True)
    assert isinstance(results[0], asyncio.CancelledError)
    assert genesys.reads == 0
