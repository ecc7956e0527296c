"""The server session state machine, driven without sockets."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from media_bridge.audiohook import protocol as p
from media_bridge.audiohook.codec import encode_frame
from media_bridge.audiohook.session import ServerSession
from media_bridge.audiohook.settings import AudioHookSettings

ORG = str(uuid.uuid4())


class NullSink:
    name = "null"

    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []

    async def deliver_chunk(self, meta: dict[str, Any], wav_path: Path) -> dict[str, Any]:
        self.items.append(("chunk", meta))
        return {}

    async def deliver_final(self, meta: dict[str, Any], wav_path: Path) -> dict[str, Any]:
        self.items.append(("final", meta))
        return {}

    async def close(self) -> None:
        return None


class Harness:
    def __init__(self, tmp: Path, **settings: Any) -> None:
        self.sent: list[dict[str, Any]] = []
        self.sink = NullSink()
        self.sid = str(uuid.uuid4())
        self.seq = 0
        self.session = ServerSession(
            self.sid,
            settings=AudioHookSettings(**settings),
            sink=self.sink,
            spool_root=tmp,
            send=self._send,
            header_org_id=ORG,
        )

    async def _send(self, text: str) -> None:
        self.sent.append(json.loads(text))

    async def msg(self, type_: str, params: dict[str, Any], seq: int | None = None) -> None:
        self.seq = self.seq + 1 if seq is None else seq
        serverseq = self.sent[-1]["seq"] if self.sent else 0
        await self.session.on_text(
            json.dumps(p.client_message(self.sid, self.seq, serverseq, 0.0, type_, params))
        )

    async def open(self, media: list[dict[str, Any]], conversation: str | None = None) -> None:
        await self.msg(
            "open",
            {
                "organizationId": ORG,
                "conversationId": conversation or str(uuid.uuid4()),
                "participant": {
                    "id": conversation or str(uuid.uuid4()),
                    "ani": "tel:+1",
                    "aniName": "x",
                    "dnis": "tel:+2",
                },
                "media": media,
            },
        )


def media(channels: list[str], fmt: str = "PCMU") -> dict[str, Any]:
    return {"type": "audio", "format": fmt, "channels": channels, "rate": 8000}


def assert_seqs(h: Harness) -> None:
    assert [m["seq"] for m in h.sent] == list(range(1, len(h.sent) + 1))
    for m in h.sent:
        assert p.is_server_message_base(m)
        assert m["id"] == h.sid
        assert m["version"] == "2"


async def test_open_prefers_customer_only_media_and_echoes_it(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    offered = [media(["external", "internal"]), media(["internal"]), media(["external"])]
    await h.open(offered)
    opened = h.sent[0]
    assert opened["type"] == "opened"
    assert opened["clientseq"] == 1
    assert opened["parameters"]["media"] == [media(["external"])]
    await h.msg("ping", {})
    await h.msg("close", {"reason": "end"})
    assert [m["type"] for m in h.sent] == ["opened", "pong", "closed"]
    assert [m["clientseq"] for m in h.sent] == [1, 2, 3]
    assert_seqs(h)


async def test_stereo_chosen_when_no_mono_offered_and_order_kept(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    await h.open([media(["internal", "external"], "L16")])
    assert h.sent[0]["parameters"]["media"] == [media(["internal", "external"], "L16")]


async def test_probe_is_answered_and_not_recorded(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    await h.open([media(["external"])], conversation=p.NULL_UUID)
    assert h.sent[0]["parameters"]["media"] == []
    await h.msg("close", {"reason": "end"})
    await h.session.finalize(dropped=False)
    assert h.sent[-1]["type"] == "closed"
    assert not h.sink.items
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("raw", "info"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"version": "2", "type": "ping"}), "well-formed"),
        ("x" * 70000, "too large"),
    ],
)
async def test_malformed_text_gets_disconnect_error(tmp_path: Path, raw: str, info: str) -> None:
    h = Harness(tmp_path)
    await h.session.on_text(raw)
    assert h.sent[-1]["type"] == "disconnect"
    assert h.sent[-1]["parameters"]["reason"] == "error"
    assert info in h.sent[-1]["parameters"]["info"]


async def test_out_of_order_seq_then_close_still_closed(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    await h.open([media(["external"])])
    await h.msg("ping", {}, seq=5)
    assert h.sent[-1]["type"] == "disconnect"
    assert "seq" in h.sent[-1]["parameters"]["info"]
    await h.msg("close", {"reason": "disconnect"})
    assert h.sent[-1]["type"] == "closed"
    assert h.sent[-1]["clientseq"] == 6
    assert_seqs(h)


async def test_unknown_type_and_bad_params(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    await h.open([media(["external"])])
    await h.msg("frobnicate", {})
    assert "not a supported client message" in h.sent[-1]["parameters"]["info"]
    h2 = Harness(tmp_path)
    await h2.msg("open", {"organizationId": ORG})
    assert "Invalid/missing parameters" in h2.sent[-1]["parameters"]["info"]


async def test_audio_before_open_and_partial_frames(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    await h.session.on_binary(b"\x00" * 160)
    assert "Received audio in state PREPARING" in h.sent[-1]["parameters"]["info"]
    h2 = Harness(tmp_path)
    await h2.open([media(["external", "internal"], "L16")])
    await h2.session.on_binary(b"\x00" * 6)
    assert "not a whole number" in h2.sent[-1]["parameters"]["info"]


async def test_org_mismatch_is_unauthorized(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.session.header_org_id = str(uuid.uuid4())
    await h.open([media(["external"])])
    assert h.sent[-1]["parameters"]["reason"] == "unauthorized"


async def test_timeline_counts_samples_and_discards(tmp_path: Path) -> None:
    h = Harness(tmp_path, chunk_mode="audio", chunk_seconds=100)
    await h.open([media(["external"])])
    frame = encode_frame(np.zeros((1600, 1), dtype=np.int16), "PCMU")
    await h.session.on_binary(frame)
    await h.msg("discarded", {"start": "PT0.2S", "discarded": "PT1.5S"})
    await h.msg("paused", {})
    await h.msg("resumed", {"start": "PT1.7S", "discarded": "PT0.3S"})
    await h.session.on_binary(frame)
    assert h.session.timeline == pytest.approx(0.2 + 1.5 + 0.3 + 0.2)
    await h.session.finalize(dropped=True)
    chunk = next(meta for kind, meta in h.sink.items if kind == "chunk")
    assert chunk["segments"] == [
        {"start": 0.0, "duration": 0.2},
        {"start": 2.0, "duration": 0.2},
    ]
    final = next(meta for kind, meta in h.sink.items if kind == "final")
    assert final["closeReason"] == "dropped"
    assert final["end"] == pytest.approx(2.2)


async def test_update_answered_with_updated(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    await h.open([media(["external"])])
    await h.msg("update", {"language": "es-ES"})
    assert h.sent[-1]["type"] == "updated"
    assert h.session.language == "es-ES"
