"""Checks every server message the way Genesys' client does, field by field.

Each problem becomes a violation string prefixed with the error code a Genesys client
would answer (400 malformed, 409 unexpected in this state, 415 binary, 408 late).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from media_bridge.audiohook import protocol as p


@dataclass
class ClientState:
    session_id: str
    offered: list[dict[str, Any]]
    probe: bool = False
    state: str = "CONNECTING"  # OPENING, OPEN, CLOSING, CLOSED
    seq: int = 0  # last seq we sent
    serverseq: int = 0  # last server seq we saw
    last_clientseq: int = 0
    open_seq: int | None = None
    close_seq: int | None = None
    pending_ping: tuple[int, float] | None = None
    pending_updates: list[int] = field(default_factory=list)
    opened_media: list[dict[str, Any]] | None = None
    disconnect: dict[str, Any] | None = None
    violations: list[str] = field(default_factory=list)
    pong_latencies_ms: list[float] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)

    def violation(self, text: str) -> None:
        self.violations.append(text)

    def check_message(self, raw: str | bytes) -> dict[str, Any] | None:
        """Validate one server message; returns it when it is well-formed."""
        if isinstance(raw, bytes):
            self.violation("415 server sent a binary frame")
            return None
        try:
            msg = json.loads(raw)
        except ValueError:
            self.violation("400 server message is not valid JSON")
            return None
        if not p.is_server_message_base(msg):
            self.violation(f"400 malformed server message: {raw[:200]}")
            return None
        self.received.append(
            {k: msg.get(k) for k in ("type", "seq", "clientseq")}
            | {"parameters": msg["parameters"]}
        )
        if msg["id"] != self.session_id:
            self.violation(f"400 {msg['type']}: id {msg['id']} != session id {self.session_id}")
        if msg["seq"] != self.serverseq + 1:
            self.violation(f"400 {msg['type']}: seq {msg['seq']} != expected {self.serverseq + 1}")
        self.serverseq = int(msg["seq"])
        clientseq = int(msg["clientseq"])
        if clientseq > self.seq:
            self.violation(f"400 {msg['type']}: clientseq {clientseq} > last sent seq {self.seq}")
        if clientseq < self.last_clientseq:
            self.violation(f"400 {msg['type']}: clientseq went backwards ({clientseq})")
        self.last_clientseq = max(self.last_clientseq, clientseq)
        check = p.SERVER_PARAMS.get(msg["type"])
        if check is None:
            self.violation(f"400 unknown server message type {msg['type']!r}")
            return None
        if not check(msg["parameters"]):
            self.violation(f"400 {msg['type']}: invalid parameters {msg['parameters']}")
            return None
        getattr(self, f"_on_{msg['type']}")(msg)
        result: dict[str, Any] = msg
        return result

    def _expect_reply(self, msg: dict[str, Any], request_seq: int | None) -> None:
        if request_seq is not None and msg["clientseq"] != request_seq:
            self.violation(
                f"400 {msg['type']}: clientseq {msg['clientseq']} != request seq {request_seq}"
            )

    def _on_opened(self, msg: dict[str, Any]) -> None:
        if self.state != "OPENING":
            self.violation(f"409 unexpected 'opened' in state {self.state}")
            return
        self._expect_reply(msg, self.open_seq)
        media = msg["parameters"]["media"]
        if len(media) > 1:
            self.violation(f"400 opened: more than one media entry chosen: {media}")
        elif media and media[0] not in self.offered:
            self.violation(f"400 opened: media {media[0]} was not offered (or was altered)")
        self.opened_media = media
        self.state = "OPEN"

    def _on_pong(self, msg: dict[str, Any]) -> None:
        if self.pending_ping is None:
            self.violation("409 'pong' without a pending ping")
            return
        seq, sent = self.pending_ping
        self._expect_reply(msg, seq)
        self.pong_latencies_ms.append((time.monotonic() - sent) * 1000)
        self.pending_ping = None

    def _on_updated(self, msg: dict[str, Any]) -> None:
        if not self.pending_updates:
            self.violation("409 'updated' without an update")
            return
        self._expect_reply(msg, self.pending_updates.pop(0))

    def _on_closed(self, msg: dict[str, Any]) -> None:
        if self.state != "CLOSING":
            self.violation(f"409 unexpected 'closed' in state {self.state}")
        self._expect_reply(msg, self.close_seq)
        self.state = "CLOSED"

    def _crossed_our_close(self, msg: dict[str, Any]) -> bool:
        """Sent before the server read our ``close`` (its ``clientseq`` is older).

        Such a message crossed the ``close`` on the wire: the server was right to send
        it, so it does not fit the state only from our side. A message whose
        ``clientseq`` covers the ``close`` does not fit.
        """
        return (
            self.state == "CLOSING"
            and self.close_seq is not None
            and int(msg["clientseq"]) < self.close_seq
        )

    def _fits_open(self, msg: dict[str, Any]) -> bool:
        return self.state == "OPEN" or self._crossed_our_close(msg)

    def _on_pause(self, msg: dict[str, Any]) -> None:
        if not self._fits_open(msg):
            self.violation(f"409 unexpected 'pause' in state {self.state}")

    def _on_resume(self, msg: dict[str, Any]) -> None:
        if not self._fits_open(msg):
            self.violation(f"409 unexpected 'resume' in state {self.state}")

    def _on_disconnect(self, msg: dict[str, Any]) -> None:
        if self.state == "CLOSED" or (self.state == "CLOSING" and not self._crossed_our_close(msg)):
            self.violation(f"409 unexpected 'disconnect' in state {self.state}")
        self.disconnect = msg["parameters"]

    def _on_event(self, msg: dict[str, Any]) -> None:
        return None  # Monitor ignores events

    def _on_reconnect(self, msg: dict[str, Any]) -> None:
        self.violation("409 'reconnect' is not part of AudioHook Monitor")
