"""The simulator's own checks: messages that crossed our ``close``, exact positions."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from media_bridge.audiohook import protocol as p
from media_bridge.audiohook.client import ClientConfig, _Runner
from media_bridge.audiohook.client_checks import ClientState

SID = str(uuid.uuid4())


def server_msg(type_: str, seq: int, clientseq: int, params: dict[str, Any]) -> str:
    return json.dumps(p.server_message(SID, seq, clientseq, type_, params))


def closing_state() -> ClientState:
    """Open (seq 1 answered by opened), then our close went out as seq 2."""
    st = ClientState(SID, [])
    st.state, st.seq, st.open_seq = "OPENING", 1, 1
    st.check_message(server_msg("opened", 1, 1, {"media": []}))
    st.state, st.seq, st.close_seq = "CLOSING", 2, 2
    return st


@pytest.mark.parametrize("type_", ["disconnect", "pause", "resume"])
def test_message_that_crossed_our_close_is_no_violation(type_: str) -> None:
    st = closing_state()
    params = {"reason": "error", "info": "Client Error: x"} if type_ == "disconnect" else {}
    st.check_message(server_msg(type_, 2, 1, params))  # the server had seen only `open`
    st.check_message(server_msg("closed", 3, 2, {}))
    assert st.violations == []
    assert st.state == "CLOSED"


@pytest.mark.parametrize("type_", ["disconnect", "pause", "resume"])
def test_message_sent_after_the_server_read_our_close_is_a_violation(type_: str) -> None:
    st = closing_state()
    params = {"reason": "completed"} if type_ == "disconnect" else {}
    st.check_message(server_msg(type_, 2, 2, params))  # clientseq covers the close
    assert st.violations == [f"409 unexpected '{type_}' in state CLOSING"]


def test_disconnect_after_closed_is_a_violation() -> None:
    st = closing_state()
    st.check_message(server_msg("closed", 2, 2, {}))
    st.check_message(server_msg("disconnect", 3, 2, {"reason": "completed"}))
    assert st.violations == ["409 unexpected 'disconnect' in state CLOSED"]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(13.71875, "PT13.71875S"), (0.000125, "PT0.000125S"), (2.0, "PT2S"), (0.0, "PT0S")],
)
def test_duration_is_not_rounded_to_milliseconds(seconds: float, text: str) -> None:
    assert p.format_duration(seconds) == text
    assert p.is_duration(text)


def test_simulator_position_is_the_exact_sample_time() -> None:
    runner = _Runner(ClientConfig(uri="ws://127.0.0.1:1/x", api_key="k"), ws=None)
    runner.sent_samples = 109_750  # 13.71875 s at 8 kHz
    msg = p.client_message(SID, 1, 0, runner.position, "ping", {})
    assert msg["position"] == "PT13.71875S"
    runner.skipped_samples = 1  # paused/discarded time is kept in samples too
    assert p.client_message(SID, 1, 0, runner.position, "ping", {})["position"] == ("PT13.718875S")
