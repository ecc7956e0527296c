"""What job handlers share within one worker process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from media_bridge.audio import AudioProcessor
from media_bridge.config import Settings
from media_bridge.consent import ConsentChecker
from media_bridge.fetch import MediaFetcher
from media_bridge.genesys import GenesysClient
from media_bridge.identity import SpeakerDescriber
from media_bridge.ledger.base import Ledger
from media_bridge.message_reads import MessageReads
from media_bridge.sinks.base import MediaSink, TextSink
from media_bridge.voice.recording_batch import RecordingBatches


@dataclass(slots=True)
class BridgeContext:
    settings: Settings
    ledger: Ledger
    genesys: GenesysClient
    fetcher: MediaFetcher
    media_sink: MediaSink
    text_sink: TextSink
    #: where clips below the quality gate go with ``audio.below_gate = hold_local`` when
    #: the media sink is remote (None otherwise)
    keep_sink: MediaSink | None
    #: None when normalisation is off
    audio: AudioProcessor | None
    work_dir: Path
    #: ``metadata.speaker`` and ``speaker_key`` (pseudonymised when configured)
    speakers: SpeakerDescriber
    #: the consent verdict of a job, before its download (``consent.mode``)
    consent: ConsentChecker
    #: message reads shared by a message's text and attachment jobs
    messages: MessageReads
    org_id: str | None = None
    #: the batch download coordinator (None with ``voice.recording_batch`` off)
    recording_batches: RecordingBatches | None = None
