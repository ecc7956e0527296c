"""A conversation's last read that comes back short is retried under its own dead-job code."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from media_bridge.errors import BulkReadShortfall, Transient
from media_bridge.handlers.conversation import handle_conversation
from media_bridge.pipeline_settings import FetchSettings
from media_bridge.types import Job, JobKind, JobState

CONV = "c-1"


class _Genesys:
    """An ended conversation of two customer messages whose bulk read returns one."""

    async def get_message_conversation(self, conversation_id: str) -> dict[str, Any]:
        customer = {
            "id": "p-cust",
            "purpose": "customer",
            "state": "disconnected",
            "messages": [{"messageId": "m-1"}, {"messageId": "m-2"}],
        }
        return {"id": conversation_id, "participants": [customer]}

    async def get_messages_bulk(self, conversation_id: str, ids: list[str]) -> dict[str, Any]:
        return {"entities": [{"id": ids[0]}]}


class _Ledger:
    async def existing_keys(self, keys: Iterable[str]) -> set[str]:
        return set()


async def test_a_short_last_bulk_read_says_bulk_read_shortfall() -> None:
    # only the attributes handle_conversation reads before the shortfall check
    ctx: Any = SimpleNamespace(
        genesys=_Genesys(),
        ledger=_Ledger(),
        settings=SimpleNamespace(fetch=FetchSettings()),
        consent=SimpleNamespace(planning_attribute=None),
    )
    now = datetime.now(UTC)
    job = Job(
        f"conversation:{CONV}",
        JobKind.CONVERSATION,
        {"conversation_id": CONV},
        JobState.RUNNING,
        1,
        now,
        now,
        now,
    )
    with pytest.raises(BulkReadShortfall, match="1 of 2") as info:
        await handle_conversation(job, ctx)
    assert isinstance(info.value, Transient)  # retried, not finished without m-2
    assert info.value.code == "bulk_read_shortfall"
