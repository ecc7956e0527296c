"""Distinct job outcomes of recordings and transcripts: defined in the one error tree
(``media_bridge.errors``), re-exported here for the voice path."""

from __future__ import annotations

from media_bridge.errors import (
    RecordingArchived,
    RecordingDeleted,
    RecordingFailed,
    RecordingNotReady,
    RecordingUnavailable,
    TranscriptNotFound,
)

__all__ = [
    "RecordingArchived",
    "RecordingDeleted",
    "RecordingFailed",
    "RecordingNotReady",
    "RecordingUnavailable",
    "TranscriptNotFound",
]
