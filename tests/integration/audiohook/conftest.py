"""Fixtures for the AudioHook integration tests (helpers live in audiohook_it_helpers)."""

from tests.integration.audiohook.audiohook_it_helpers import audiohook_server

__all__ = ["audiohook_server"]
