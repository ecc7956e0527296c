"""Run the whole emulator in-process for tests: free ports, a background thread, a handle.

    with running_emulator() as emu:
        settings = GenesysSettings(**emu.genesys_settings())
        ...
        emu.set_faults(error_rate=0.2)
        emu.expire_links()

Start-up takes a few tens of milliseconds: media is generated when first asked for.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from genesys_emulator.config import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, EmulatorConfig
from genesys_emulator.emulator import Emulator
from genesys_emulator.scenario import ScenarioBuilder
from genesys_emulator.server import EmulatorServers
from genesys_emulator.state import Attachment, Conversation, Message, OrgState, StoredObject


@dataclass
class EmulatorHandle:
    """A running emulator: its URLs, its org state and helpers to steer it."""

    emulator: Emulator
    login_url: str
    api_url: str
    downloads_url: str
    storage_url: str
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    _servers: EmulatorServers | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def state(self) -> OrgState:
        return self.emulator.state

    @property
    def config(self) -> EmulatorConfig:
        return self.emulator.config

    @property
    def builder(self) -> ScenarioBuilder:
        """Adds conversations to the running org (as the admin API does)."""
        return self.emulator.builder

    # --- configuration for a client --------------------------------------------------------
    @property
    def operations_url(self) -> str | None:
        """``/healthz``, ``/readyz`` and ``/metrics`` (``config.operations_port``), or None."""
        return self._servers.operations_url if self._servers is not None else None

    def genesys_settings(self) -> dict[str, Any]:
        """Keyword arguments for media_bridge.genesys.settings.GenesysSettings."""
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "login_url": self.login_url,
            "api_url": self.api_url,
            "downloads_url": self.downloads_url,
            "verify_tls": False,
            # tests exercise the emulator's own limit: the bridge's pacer is off unless a
            # test (or the demo) turns it on
            "pacing": "off",
        }

    def env(self) -> dict[str, str]:
        """Environment variables a bridge process needs to talk to this emulator."""
        return {
            "MEDIA_BRIDGE_GENESYS__CLIENT_ID": self.client_id,
            "MEDIA_BRIDGE_GENESYS__CLIENT_SECRET": self.client_secret,
            "MEDIA_BRIDGE_GENESYS__LOGIN_URL": self.login_url,
            "MEDIA_BRIDGE_GENESYS__API_URL": self.api_url,
            "MEDIA_BRIDGE_GENESYS__DOWNLOADS_URL": self.downloads_url,
            "MEDIA_BRIDGE_GENESYS__PACING": "off",
        }

    # --- what the org holds ---------------------------------------------------------------
    def conversations(self) -> list[Conversation]:
        with self.state.lock:
            return list(self.state.conversations.values())

    def attachments(self) -> list[tuple[Conversation, Message, Attachment]]:
        return self.state.attachments()

    def expected_object(self, attachment: Attachment) -> StoredObject:
        """The attachment's bytes as served (path, size, sha256): what a client must get."""
        return self.state.attachment_object(attachment)

    def add_messaging_conversation(
        self, channel: str = "whatsapp", kinds: tuple[str, ...] = ("ogg_opus",), texts: int = 1
    ) -> Conversation:
        builder = self.builder
        return builder.messaging_conversation(channel, builder.anchor, kinds=kinds, texts=texts)

    def add_voice_conversation(self, file_state: str = "AVAILABLE") -> Conversation:
        return self.builder.voice_conversation(self.builder.anchor, file_state)

    # --- steering -------------------------------------------------------------------------
    def set_faults(self, **changes: Any) -> None:
        """Change faults at runtime, e.g. ``set_faults(error_rate=0.3, seed=7)``."""
        self.state.set_faults(replace(self.state.faults, **changes))

    def clear_faults(self) -> None:
        self.set_faults(
            latency_ms=0.0, jitter_ms=0.0, error_rate=0.0, drop_rate=0.0, truncate_rate=0.0
        )

    def set_rate_limit(
        self, requests: int, window_s: float, *, count_downloads: bool | None = None
    ) -> None:
        """At most ``requests`` in any rolling ``window_s`` seconds per token (windows reset)."""
        self.state.limiter.configure(requests, window_s, count_downloads=count_downloads)

    def expire_links(self) -> None:
        """Make every download link and signed URL issued so far stale."""
        self.state.expire_links()

    def redirect_links(self, status: int = 307) -> None:
        """Make every download link issued so far answer a redirect, even to issueRedirect=false."""
        self.state.redirect_links(status)

    def expire_tokens(self) -> None:
        self.state.expire_tokens()

    def stats(self) -> dict[str, Any]:
        from genesys_emulator.routes.admin import stats_body

        return stats_body(self.state)

    # --- lifecycle ------------------------------------------------------------------------
    def stop(self) -> None:
        if self._servers is not None:
            self._servers.request_stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._servers is not None:
            self._servers.close_sockets()
        self.state.close()


def start_emulator(config: EmulatorConfig | None = None, timeout_s: float = 10.0) -> EmulatorHandle:
    """Start every host on free ports (unless the config names ports) in a background thread."""
    emulator = Emulator(config or EmulatorConfig())
    servers = EmulatorServers(emulator.state, emulator.builder)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(servers.serve())
        except BaseException as exc:  # reported to the starting thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="genesys-emulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not servers.started():
        if failure or not thread.is_alive():
            raise RuntimeError(f"emulator failed to start: {failure[:1]}")
        if time.monotonic() > deadline:
            servers.request_stop()
            raise TimeoutError("emulator did not start in time")
        time.sleep(0.005)
    urls = emulator.state.public_urls
    return EmulatorHandle(
        emulator,
        login_url=urls["login"],
        api_url=urls["api"],
        downloads_url=urls["downloads"],
        storage_url=urls["storage"],
        _servers=servers,
        _thread=thread,
    )


@contextmanager
def running_emulator(config: EmulatorConfig | None = None) -> Iterator[EmulatorHandle]:
    """``with running_emulator() as emu:`` - stopped (ports freed) on exit."""
    handle = start_emulator(config)
    try:
        yield handle
    finally:
        handle.stop()
