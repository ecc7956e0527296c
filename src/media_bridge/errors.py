"""The bridge's error tree. Every failure a job can meet is one of these.

A class's branch (the child of ``BridgeError`` it descends from) says whether the job
is tried again; no class below a branch changes that (``tests/unit/test_error_tree.py``
walks the tree). ``code`` is what the ledger's ``error_code`` and the
``media_bridge_dead_jobs{code}`` gauge show: one per class, except ``RejectedMedia``,
whose code is its reason. Every refusal of an input for its size says ``too_large``.

    BridgeError                    retried?
     ├── BadInput                  no   the same input fails the same way
     │    ├── TooLarge             no   too_large: an input over its size cap
     │    ├── RejectedMedia        no   a downloaded body refused; code = its reason
     │    ├── HostNotAllowed       no   the token would go to a host off the allow-list
     │    ├── LedgerDataError      no   the database refused a value (NUL, NaN...)
     │    ├── BatchNotAudio        no   a batch result is no audio: read it on its own
     │    ├── RedirectRefused      no   a media link leads off the allow-list or loops
     │    ├── UnusableConversationId no a conversation id no sink can name a folder by
     │    ├── PayloadVersionUnknown no  a job payload of a version this release cannot read
     │    ├── PayloadMalformed     no   a job payload lacks a field its kind needs, or
     │    │                             holds one of the wrong type: names kind and field
     │    └── AudioError           no   the bytes are no usable audio
     │         ├── EmptyAudio, NotAudio, NoAudioStream, CorruptAudio, TruncatedAudio,
     │         │   AudioTooLong, BadSampleRate, OutputTooLarge, DecompressionBomb,
     │         │   DecodeTimeout, NotStereo
     │         └── AudioTooLarge   no   (also a TooLarge: code too_large)
     ├── PermissionMissing         no   the OAuth client's role lacks a permission
     ├── NotFound                  no   the resource is gone
     │    ├── RecordingDeleted
     │    └── TranscriptNotFound
     ├── RecordingUnavailable      no   Genesys has the recording but will not hand it over
     │    ├── RecordingArchived         archived: an operator restores it, then retries
     │    ├── RecordingFailed           fileState ERROR
     │    └── RecordingNotReady         still transcoding after the configured wait
     ├── DeliveryRejected          no   a sink refused the delivery for good
     ├── UrlExpired                yes  re-resolve the media URL through the API first
     ├── RateLimited               yes  after ``retry_after`` seconds
     ├── CredentialsRejected       yes  after ``retry_after`` (the login host refused us)
     ├── Transient                 yes  5xx, dropped connection, truncated body: backoff
     │    ├── MediaUnreachable          the storage host did not answer, or said 5xx
     │    ├── MediaInterrupted          a media body broken off, truncated or too slow
     │    ├── MalformedAnswer           an API answer without its documented shape
     │    ├── TokenUnreachable          the login host did not answer, or said 5xx...
     │    ├── MalformedToken            the login host said 200 without a usable token
     │    ├── TokenRefused              the API said 401 again to a token just obtained
     │    ├── BulkReadShortfall         a last bulk message read came back short
     │    ├── SinkUnavailable           a sink did not answer, or said 5xx / 408
     │    └── SinkCopyMismatch          a sink's copy is not the delivered file
     └── Unexpected                yes  a bug (any other exception): retried, then dead

``StartupError`` (not a ``BridgeError``): the bridge cannot start for a reason the operator
fixes, reported by the CLI in one line; ``ConfigError`` (also a ``ValueError``) is a
configuration mistake (exit code 2), ``LedgerUnreachable`` a ledger that never answered.
"""

from __future__ import annotations

from typing import Literal, get_args

#: the one code of every size refusal (a body, a JSON document, an audio file)
TOO_LARGE = "too_large"

#: why a complete downloaded body is refused; each is also the job's error code
MediaRefusal = Literal[
    "too_large",
    "checksum_mismatch",
    "size_mismatch",
    "empty",
    "error_page",
    "not_media",
    "type_mismatch",
    "not_json",
]
MEDIA_REFUSALS: frozenset[str] = frozenset(get_args(MediaRefusal))


class BridgeError(Exception):
    """Base of every error a job can end with."""

    #: whether the ledger tries the job again; set on branches only
    retryable: bool = False
    #: short stable code, stored in the ledger's ``error_code`` and in metrics labels
    code: str = "bridge_error"


# --- not retried: the input ----------------------------------------------------------
class BadInput(BridgeError):
    """Malformed, oversize or non-audio input: the same bytes fail the same way."""

    code = "bad_input"


class TooLarge(BadInput):
    """An input over its configured size cap."""

    code = TOO_LARGE


class RejectedMedia(BadInput):
    """A complete body the bridge refuses; ``reason`` (one of ``MediaRefusal``) is its code,
    so the dead-jobs gauge tells a checksum mismatch from an error page."""

    code = "rejected_media"

    def __init__(self, reason: MediaRefusal, detail: str) -> None:
        self.reason = reason
        self.code = reason
        super().__init__(f"{reason}: {detail}")


class HostNotAllowed(BadInput):
    """A call would have carried the bearer token to a host outside the allow-list."""

    code = "host_not_allowed"


class LedgerDataError(BadInput):
    """The database refused a value in the jobs given (a NUL, a lone surrogate, NaN).

    Nothing of that call was written. Not retryable: the same values fail again, so
    the intake writes such a batch event by event and rejects only what fails.
    """

    code = "ledger_data_error"


class BatchNotAudio(BadInput):
    """A batch result whose bytes are not audio: read the recording on its own instead."""

    code = "batch_not_audio"


class RedirectRefused(BadInput):
    """A media link redirects off the allow-list or too often, or resolves to another link."""

    code = "redirect_refused"


class UnusableConversationId(BadInput):
    """A conversation id that is not usable as a folder name (a path, a NUL...)."""

    code = "unusable_conversation_id"


class PayloadVersionUnknown(BadInput):
    """A job payload whose ``v`` this release does not read (a newer release wrote it, or
    it is no payload at all): the job goes dead saying so, rather than failing on a field."""

    code = "payload_version"


class PayloadMalformed(BadInput):
    """A job payload of a known version that lacks a field its kind needs (a
    ``conversation_id``), or holds one of the wrong type (a ``size`` that is no number).
    The same JSON fails the same way, so the job goes dead at once naming the kind and
    the field, instead of retrying a ``KeyError`` as ``Unexpected``."""

    code = "payload_malformed"

    def __init__(self, kind: str, field: str, problem: str) -> None:
        self.kind = kind
        self.field = field
        super().__init__(f"{kind} payload: {field} {problem}")


class AudioError(BadInput):
    """Base of every audio input failure."""

    code = "audio_error"


class EmptyAudio(AudioError):
    """Zero bytes, or a container that decodes to no samples at all."""

    code = "empty_file"


class NotAudio(AudioError):
    """An image, a PDF, text...: bytes that are no audio format (whatever the name says)."""

    code = "not_audio"


class NoAudioStream(AudioError):
    """A valid media container without any audio stream (a video-only file)."""

    code = "no_audio_stream"


class CorruptAudio(AudioError):
    """An audio format is recognised but its header or packets do not decode."""

    code = "corrupt_audio"


class TruncatedAudio(AudioError):
    """The file ends before the audio its header announces."""

    code = "truncated_audio"


class AudioTooLarge(AudioError, TooLarge):
    """More input bytes than ``max_input_bytes``."""

    code = TOO_LARGE


class AudioTooLong(AudioError):
    """Longer than ``max_duration_s``: said by the header or found while decoding."""

    code = "too_long"


class BadSampleRate(AudioError):
    """A sample rate outside ``min_input_rate`` .. ``max_input_rate`` (1 Hz, 2^31 Hz...)."""

    code = "bad_sample_rate"


class OutputTooLarge(AudioError):
    """The output would exceed ``max_output_bytes`` (said by the header or while writing):
    not the input's size, so not ``too_large`` (the operator raises another setting)."""

    code = "output_too_large"


class DecompressionBomb(AudioError):
    """Far more decoded samples per input byte than any speech codec produces."""

    code = "decompression_bomb"


class DecodeTimeout(AudioError):
    """Decoding took longer than ``timeout_s`` of wall-clock time."""

    code = "decode_timeout"


class NotStereo(AudioError):
    """A stereo split was asked of a mono file: its speakers cannot be separated."""

    code = "not_stereo"


# --- not retried: permissions, gone, refused ------------------------------------------
class PermissionMissing(BridgeError):
    """The OAuth client's role lacks a permission; an operator must fix the role."""

    code = "permission_missing"

    def __init__(self, permissions: list[str], *, any_of: bool, detail: str = "") -> None:
        self.permissions = permissions
        self.any_of = any_of
        wanted = " or ".join(permissions) if any_of else " and ".join(permissions)
        message = (
            f"the Genesys Cloud OAuth client is missing permission {wanted}: add a role "
            f"granting {'one of them' if any_of else 'them'} to the client-credentials OAuth "
            "client (Admin > Integrations > OAuth > Roles), covering the conversations' divisions"
        )
        if detail:
            message = f"{message} ({detail})"
        super().__init__(message)


class NotFound(BridgeError):
    """The resource is gone."""

    code = "not_found"


class RecordingDeleted(NotFound):
    code = "recording_deleted"


class TranscriptNotFound(NotFound):
    code = "transcript_not_found"


class RecordingUnavailable(BridgeError):
    """Genesys holds the recording but does not hand it over: parked as dead, for an
    operator to look at and retry."""

    code = "recording_unavailable"


class RecordingArchived(RecordingUnavailable):
    """fileState ARCHIVED: an operator must restore it (counted against the org's
    restoration allowance), then retry the job."""

    code = "recording_archived"


class RecordingFailed(RecordingUnavailable):
    """fileState ERROR: Genesys could not make the recording."""

    code = "recording_error"


class RecordingNotReady(RecordingUnavailable):
    """Still transcoding / restoring after the configured maximum wait."""

    code = "recording_not_ready"


class DeliveryRejected(BridgeError):
    """A sink refused the delivery for good (4xx other than 408/429)."""

    code = "delivery_rejected"


# --- retried -------------------------------------------------------------------------
class UrlExpired(BridgeError):
    """A media URL is stale: re-resolve it through the API, then retry."""

    retryable = True
    code = "url_expired"


class RateLimited(BridgeError):
    """429: wait ``retry_after`` seconds, the whole client slows down."""

    retryable = True
    code = "rate_limited"

    def __init__(self, retry_after: float, message: str = "rate limited") -> None:
        self.retry_after = retry_after
        super().__init__(f"{message} (retry after {retry_after:g}s)")


class CredentialsRejected(BridgeError):
    """The login host refused the client id/secret: nothing works until an operator
    fixes them. Jobs wait ``retry_after`` and try again (a rotated secret or a login-host
    blip must not send the whole backlog to the dead-letter state at once); after the
    ledger's attempts they are parked as dead, to be retried by the operator. Not a
    ``PermissionMissing``: that one is not retried."""

    retryable = True
    code = "credentials_rejected"
    retry_after = 300.0

    def __init__(self, detail: str) -> None:
        super().__init__(
            "the Genesys Cloud login host rejected the OAuth client credentials "
            f"({detail}): check genesys.client_id / client_secret, that the OAuth client "
            "uses the Client Credentials grant, and that it belongs to this region's org",
        )


class Transient(BridgeError):
    """5xx, dropped connection, truncated body: back off with jitter."""

    retryable = True
    code = "transient"


class MediaUnreachable(Transient):
    """The media storage host did not answer, or answered 5xx / 408."""

    code = "media_unreachable"


class MediaInterrupted(Transient):
    """A media or JSON body broke off, came short of its announced size, or too slowly."""

    code = "media_interrupted"


class MalformedAnswer(Transient):
    """A Platform API answer (or a document it links) without the shape it documents."""

    code = "malformed_answer"


class TokenUnreachable(Transient):
    """The login host did not answer, or answered a status that is no verdict on the
    credentials (5xx, an unexpected 3xx or 404): no token, so no API call at all."""

    code = "token_unreachable"


class MalformedToken(Transient):
    """The login host answered 200 without a usable token (no JSON, no ``access_token``,
    an empty or expired one): a proxy's page in its place, or a login host fault."""

    code = "token_malformed"


class TokenRefused(Transient):
    """The API answered 401 again right after a token refresh: the login host hands out
    tokens the API refuses (another region's org, a clock far off)."""

    code = "token_rejected"


class BulkReadShortfall(Transient):
    """The bulk message read of a conversation's last poll returned fewer messages than
    asked: tried again rather than finish without one."""

    code = "bulk_read_shortfall"


class SinkUnavailable(Transient):
    """A sink did not answer, or answered 5xx / 408 (or its broker failed transiently)."""

    code = "sink_unavailable"


class SinkCopyMismatch(Transient):
    """A sink's copy could not be checked against the delivered file: the file vanished
    before the copy, or the copy's sha256 differs (the copy is removed)."""

    code = "sink_copy_mismatch"


class Unexpected(BridgeError):
    """Any other exception out of a handler (a bug): retried, then parked as dead."""

    retryable = True
    code = "unexpected"


# --- not job failures: the bridge cannot start ----------------------------------------
class StartupError(Exception):
    """The bridge cannot start, for a reason the operator must fix (not a bug): the CLI
    prints the message as one line, ``media-bridge: <message>``, and exits ``exit_code``."""

    exit_code: int = 1


class ConfigError(StartupError, ValueError):
    """A user's configuration mistake (setting, URL, command-line value).

    Not a job failure: the CLI prints its message as one line, without a traceback, and
    exits 2. The message names what the user set (the env var, the TOML path or the flag).
    """

    exit_code = 2


class ErasureRecordNotSent(StartupError):
    """``forget`` removed what the bridge holds, but a sink refused or could not take the
    erasure record: the operator runs the same ``forget`` again (the record is idempotent
    by its key, and the local part finds nothing more to remove)."""


class LedgerUnreachable(StartupError):
    """The ledger's database could not be reached (or refused the login) at start."""
