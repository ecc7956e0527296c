"""Distinct job outcomes of recordings and transcripts (stable ledger error codes)."""

from __future__ import annotations

from media_bridge.errors import BridgeError, NotFound, Transient


class RecordingArchived(BridgeError):
    """fileState ARCHIVED: an operator must restore it (counted against the org's
    restoration allowance), then retry the job. Not retried by itself."""

    code = "recording_archived"


class RecordingDeleted(NotFound):
    code = "recording_deleted"


class RecordingFailed(BridgeError):
    """fileState ERROR: Genesys could not make the recording."""

    code = "recording_error"


class RecordingNotReady(Transient):
    """Still transcoding / restoring after the configured maximum wait: parked as dead
    (the worker gives up on it because ``retryable`` is False here)."""

    retryable = False
    code = "recording_not_ready"


class TranscriptNotFound(NotFound):
    code = "transcript_not_found"
