"""Shared test configuration: quiet logs (warnings and errors only)."""

from media_bridge.observability import configure_logging

configure_logging("WARNING")
