"""``VoiceSettings`` (``MEDIA_BRIDGE_VOICE__*``): recordings, channels, transcripts, backfill."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

#: ``formatId`` values the bridge asks for (the API's own default is WEBM)
RecordingFormat = Literal["WAV", "WAV_ULAW", "OGG_OPUS", "MP3", "WEBM"]
CustomerChannel = Literal["left", "right", "auto"]


class VoiceSettings(BaseModel):
    """Defaults suit a real org: WAV, customer on the left, transcripts on."""

    #: plan and run recording jobs at all
    enabled: bool = True
    #: wait this long after customer.end / acw before the first recordings request
    recording_delay_s: float = Field(default=60.0, ge=0.0)
    #: ``formatId`` of the recordings request (the format Genesys transcodes to)
    format_id: RecordingFormat = "WAV"
    #: ``maxWaitMs`` of the recordings request: Genesys holds the answer up to this long
    max_wait_ms: int = Field(default=5000, ge=0, le=60000)
    #: backoff between "still transcoding" polls (202, or empty ``mediaUris``)
    poll_initial_s: float = Field(default=5.0, gt=0.0)
    #: longest wait between those polls
    poll_max_s: float = Field(default=120.0, gt=0.0)
    #: give up (job dead, code ``recording_not_ready``) this long after the job was planned
    transcode_max_wait_s: float = Field(default=2 * 3600.0, gt=0.0)
    #: a RESTORING recording is polled this long (restores can take hours)
    restore_max_wait_s: float = Field(default=48 * 3600.0, gt=0.0)
    #: size cap of one recording file (a 1-hour 8 kHz stereo WAV is about 115 MB)
    max_recording_bytes: int = Field(default=1024 * 1024 * 1024, gt=0)
    #: which stereo channel carries the customer. No Genesys source says; ``left`` is the
    #: emulator's behaviour. ``auto`` compares each channel's speech activity with the
    #: transcript's customer / agent phrase times (falls back to ``auto_fallback``).
    customer_channel: CustomerChannel = "left"
    #: the customer channel when ``auto`` cannot decide
    auto_fallback: Literal["left", "right"] = "left"
    #: ``auto`` keeps its decision only above this confidence (0..1), else ``auto_fallback``
    auto_min_confidence: float = Field(default=0.2, ge=0.0, le=1.0)
    #: put the agent channel in the same delivery (role ``agent``); off: only the customer
    #: channel (and the original) reach the media sink, the agent file is dropped
    deliver_agent: bool = True
    #: also deliver the downloaded original (stereo) file (role ``original``)
    deliver_original: bool = True
    #: plan a Speech & Text Analytics transcript job per call
    transcripts: bool = True
    #: a transcript URL answering 404 is asked again for this long (analytics runs after
    #: the call), then the job is dead with ``transcript_not_found``
    transcript_max_wait_s: float = Field(default=3600.0, ge=0.0)
    #: backfill: the analytics query's interval is split into chunks of at most this many
    #: days (assumed API limit: 31 days per query, not verified)
    backfill_chunk_days: float = Field(default=31.0, gt=0.0, le=31.0)
    #: backfill: analytics ``paging.pageSize`` (the API allows 1..100)
    backfill_page_size: int = Field(default=100, ge=1, le=100)
    #: backfill: read messaging recordings' ``messagingTranscript[]`` as a second source
    #: of attachment jobs (one extra request per missing messaging conversation)
    backfill_messaging_recordings: bool = True
    #: resolve recordings through the batch download API (``POST
    #: /api/v2/recording/batchrequests``, up to 100 entries a request) for backfills and
    #: conversations with several recordings; results it leaves out, fails or gives in an
    #: unexpected format are read one by one. A backfilled call is not listed (one
    #: ``{conversationId}`` entry gives all its recordings) and, unless consent
    #: ``participant_attribute``, ``customer_channel = auto`` or ``transcripts`` need it, not
    #: read either: its participants come from the analytics answer. Off: every call is
    #: listed and read, every recording read on its own
    recording_batch: bool = True
    #: submit a batch only when at least this many recordings are waiting for one; fewer
    #: are read one by one (a batch costs a request to submit and at least one poll)
    recording_batch_min: int = Field(default=2, ge=1)
    #: gather recordings this long before submitting a batch
    recording_batch_linger_s: float = Field(default=1.0, ge=0.0)
    #: a recording waits at most this long for its batch result (counted from when its
    #: job was planned), then it is read on its own
    recording_batch_max_wait_s: float = Field(default=1800.0, gt=0.0)
