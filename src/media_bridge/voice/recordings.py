"""Pure reading of ``Recording`` bodies: which to fetch, their files, what a fileState means.

Genesys documents neither the keys of ``mediaUris`` nor how long a recording takes to
be ready, so everything here reads raw JSON defensively.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

#: fileStates whose media can be downloaded
DOWNLOADABLE = frozenset({"AVAILABLE", "RESTORED"})


class Readiness(StrEnum):
    """What one recording's state means for its job."""

    READY = "ready"  # download mediaUris
    NOT_READY = "not_ready"  # transcoding / uploading: ask again later
    RESTORING = "restoring"  # an archive restore is running: ask again, much later
    ARCHIVED = "archived"  # must be restored by an operator first (dead, recording_archived)
    DELETED = "deleted"  # gone for good (dead, recording_deleted)
    ERROR = "error"  # Genesys failed to make it (dead, recording_error)


@dataclass(frozen=True, slots=True)
class MediaFile:
    """One ``mediaUris`` entry: ``key`` is ``S`` (combined) or a channel index."""

    key: str
    url: str

    @property
    def combined(self) -> bool:
        return self.key == "S"


def is_audio(recording: dict[str, Any]) -> bool:
    """Call audio; screen recordings (and chats, emails, messages) are not."""
    return str(recording.get("media") or "").lower() == "audio"


def is_messaging(recording: dict[str, Any]) -> bool:
    return str(recording.get("media") or "").lower() == "message" or isinstance(
        recording.get("messagingTranscript"), list
    )


def media_files(recording: dict[str, Any]) -> list[MediaFile]:
    """The files to fetch: ``S`` alone when present, else every key in order ("0", "1", ...).

    Keys are not documented: community code reads ``S`` for a combined file and
    ``0``/``1`` for per-channel files; any other key is kept as one more file.
    """
    uris = recording.get("mediaUris")
    if not isinstance(uris, dict):
        return []
    found: dict[str, str] = {}
    for key, value in uris.items():
        url = value.get("mediaUri") if isinstance(value, dict) else None
        if isinstance(url, str) and url:
            found[str(key)] = url
    if "S" in found:
        return [MediaFile("S", found["S"])]
    return [MediaFile(k, found[k]) for k in sorted(found, key=_channel_order)]


def _channel_order(key: str) -> tuple[int, str]:
    return (int(key), key) if key.isdigit() else (1 << 30, key)


def readiness(recording: dict[str, Any]) -> Readiness:
    state = str(recording.get("fileState") or "AVAILABLE").upper()
    if state == "ARCHIVED":
        return Readiness.ARCHIVED
    if state == "DELETED":
        return Readiness.DELETED
    if state == "ERROR":
        return Readiness.ERROR
    if state == "RESTORING":
        return Readiness.RESTORING
    if state in DOWNLOADABLE:
        # a 200 whose mediaUris is empty for available audio also means "not ready"
        return Readiness.READY if media_files(recording) else Readiness.NOT_READY
    return Readiness.NOT_READY  # UPLOADING and states Genesys may add


def recording_summary(recording: dict[str, Any]) -> dict[str, Any]:
    """The fields worth keeping in delivery metadata and job results."""
    keys = ("id", "media", "mediaSubtype", "fileState", "sessionId", "startTime", "endTime")
    summary = {k: recording.get(k) for k in keys}
    summary["outputDurationMs"] = recording.get("outputDurationMs")
    summary["outputSizeInBytes"] = recording.get("outputSizeInBytes")
    summary["recordingFileRole"] = recording.get("recordingFileRole")
    return summary


def archived_message(recording: dict[str, Any]) -> str:
    remaining = recording.get("remainingRestorationsAllowedForOrg")
    archived = recording.get("archiveDate")
    parts = [
        f"recording {recording.get('id')} is archived",
        f"(archiveDate {archived})" if archived else "",
        "and must be restored in Genesys Cloud before it can be downloaded",
        f"(restorations left for the org: {remaining})" if remaining is not None else "",
        "; then retry the job (media-bridge jobs retry KEY)",
    ]
    return " ".join(p for p in parts if p)
