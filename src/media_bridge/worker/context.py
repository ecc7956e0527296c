"""What job handlers share within one worker process: ``HandlerContext``.

The context carries the clients handlers call and ``HandlerSettings``, only the settings
handlers read (not the whole ``Settings``: sink URLs, ledger keys and credentials stay
with the pipeline that builds the clients from them). Each collaborator is typed by what
handlers ask of it (``GenesysApi``, ``Fetcher``, ``HandlerLedger``, the sink protocols), so
a handler runs against small fakes in unit tests as it runs against the real ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from media_bridge.audio import AudioProcessor
from media_bridge.audio.settings import BelowGate
from media_bridge.config import FetchSettings, Settings, WorkerSettings
from media_bridge.consent import ConsentChecker, ConsentSettings
from media_bridge.fetch.media import Fetcher
from media_bridge.genesys.client import GenesysApi
from media_bridge.identity import SpeakerDescriber
from media_bridge.jobs.media_types import wanted_media_types
from media_bridge.ledger.base import HandlerLedger
from media_bridge.sinks.base import MediaSink, TextSink
from media_bridge.voice import VoiceSettings
from media_bridge.worker.handlers.recording_batch import RecordingBatches
from media_bridge.worker.message_reads import MessageReads


@dataclass(frozen=True, slots=True)
class HandlerSettings:
    """The settings job handlers read, taken from ``Settings`` once at start.

    Sections read field by field in many places (``fetch``, ``voice``, ``worker``) and
    ``consent`` (``consent.settle`` takes the section: ``hold_max_s``, ``recheck_s``) are
    carried whole; a section read for one field carries that field alone, so handlers do
    not hold what they must not use (``identity`` has the pseudonymisation secret, which
    the ``SpeakerDescriber`` already owns; ``audio`` configures the ``AudioProcessor``).
    """

    fetch: FetchSettings
    voice: VoiceSettings
    worker: WorkerSettings
    consent: ConsentSettings
    #: ``fetch.media_types`` as the one filter (``media_types.wanted_media_types``): None
    #: for every type
    wanted_media_types: frozenset[str] | None
    #: ``identity.default_region``: national phone numbers in redacted texts
    default_region: str | None
    #: ``nlp.redact``: mask phone, card and e-mail numbers before the NLP sink
    redact_texts: bool
    #: ``audio.below_gate``: what happens to a clip below the speech gate
    below_gate: BelowGate
    #: ``audio.enrolment_min_speech_s``: the net speech a speaker's enrolment needs
    enrolment_min_speech_s: float

    @classmethod
    def from_settings(cls, settings: Settings) -> HandlerSettings:
        return cls(
            fetch=settings.fetch,
            voice=settings.voice,
            worker=settings.worker,
            consent=settings.consent,
            wanted_media_types=wanted_media_types(settings.fetch.media_types),
            default_region=settings.identity.default_region,
            redact_texts=settings.nlp.redact,
            below_gate=settings.audio.below_gate,
            enrolment_min_speech_s=settings.audio.enrolment_min_speech_s,
        )


@dataclass(slots=True)
class HandlerContext:
    settings: HandlerSettings
    ledger: HandlerLedger
    genesys: GenesysApi
    fetcher: Fetcher
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
    #: the batch download coordinator (None with ``voice.recording_batch`` off)
    recording_batches: RecordingBatches | None = None
