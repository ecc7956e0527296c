"""Shared test configuration: quiet logs (warnings and errors only), and ``info_logs``."""

from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
from structlog.testing import capture_logs

from media_bridge.observability import configure_logging

configure_logging("WARNING")


@pytest.fixture
def info_logs() -> Iterator[list[MutableMapping[str, Any]]]:
    """Log lines at INFO and above, captured (the suite runs at WARNING)."""
    configure_logging("INFO")
    try:
        with capture_logs() as logs:
            yield logs
    finally:
        configure_logging("WARNING")
