"""How Genesys writes times: ISO 8601 UTC with milliseconds, and epoch milliseconds.

Its own module so that the scenario builder and the event renderers share them without
depending on the REST renderer.
"""

from __future__ import annotations

from datetime import datetime


def iso(moment: datetime) -> str:
    """Genesys timestamps: ISO-8601 UTC with milliseconds and a Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
