"""Seeded org content: messaging conversations with real attachments, calls with recordings.

Ids and content are deterministic in the seed; timestamps are anchored to "now" (or a given
anchor) so that analytics interval queries find them. Media bytes are produced lazily.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from genesys_emulator import media
from genesys_emulator.config import ScenarioConfig
from genesys_emulator.state import Attachment, Conversation, Message, OrgState, Recording
from genesys_emulator.times import epoch_ms

#: what each channel's customers send, cycled per conversation
CHANNEL_MEDIA: dict[str, tuple[str, ...]] = {
    "whatsapp": ("ogg_opus", "jpeg", "amr", "pdf", "m4a", "ogg_opus"),
    "webmessaging": ("webm_opus", "png", "mp3", "pdf", "wav_pcm"),
    "open": ("wav_pcm", "mp3", "png", "wav_ulaw", "pdf", "amr"),
    "facebook": ("m4a", "jpeg", "mp3", "pdf"),
    "instagram": ("m4a", "jpeg"),
    "line": ("m4a", "png"),
}
TEXTS = (
    "Hi, I need help with my account.",
    "Here is the voice note I mentioned.",
    "Can you confirm my identity with this?",
    "Thanks, that works for me.",
    "I sent the document you asked for.",
    "Is anyone there?",
)
#: customers' display names, picked by external contact id
NAMES = ("Alex Morgan", "Sam Patel", "Jo Okafor", "Kim Larsen", "Ana Silva", "Lee Chen")
WORDS = ("hello", "thanks", "account", "verify", "please", "number", "yes", "help", "today", "card")


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def call_words(
    rng: random.Random, seed: int, seconds: float
) -> list[tuple[media.Turn, list[tuple[str, float]]]]:
    """The words (and confidences) spoken in each turn of a call: the transcript document
    and the real-time transcription events say the same thing."""
    spoken = []
    for turn in media.dialogue_turns(seed, seconds):
        n_words = max(1, int((turn.end_s - turn.start_s) * 2.5))
        spoken.append(
            (turn, [(rng.choice(WORDS), round(rng.uniform(0.6, 0.99), 2)) for _ in range(n_words)])
        )
    return spoken


def _phrase(base_ms: int, turn: media.Turn, drawn: list[tuple[str, float]]) -> dict[str, Any]:
    """One turn of a call as a transcript phrase, its words spread evenly over the turn."""
    start_ms = base_ms + int(turn.start_s * 1000)
    duration = int((turn.end_s - turn.start_s) * 1000)
    step = duration // len(drawn)
    words = [
        {
            "word": word,
            "confidence": confidence,
            "startTimeMs": start_ms + i * step,
            "duration": {"milliseconds": step},
        }
        for i, (word, confidence) in enumerate(drawn)
    ]
    return {
        "text": " ".join(w["word"] for w in words),  # type: ignore[misc]
        "stability": 1,
        "startTimeMs": start_ms,
        "duration": {"milliseconds": duration},
        "participantPurpose": "external" if turn.speaker == "customer" else "internal",
        "words": words,
        "alternatives": [],
    }


def new_message_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


class ScenarioBuilder:
    """Adds conversations to an org; one per call, deterministic in (seed, call order)."""

    def __init__(self, state: OrgState, config: ScenarioConfig, anchor: datetime | None = None):
        self.state = state
        self.config = config
        self.rng = random.Random(config.seed)
        self.anchor = anchor or datetime.now(UTC).replace(microsecond=0)
        self.audio = media.AudioFactory(variants=8, seconds=config.voice_note_seconds)
        self.queue_id = new_uuid(self.rng)
        state.queues[self.queue_id] = "Support"
        for index in range(state.config.extra_queues):
            queue = str(uuid.uuid5(uuid.NAMESPACE_URL, f"emulator/queue/{index}"))
            state.queues[queue] = f"Queue {index + 1:04d}"
        #: (number, external contact id) of the first WhatsApp customer, for a returning caller
        self._whatsapp_customer: tuple[str, str] | None = None
        self._calls = 0
        self.user_id = new_uuid(self.rng)
        self.division_id = new_uuid(self.rng)
        self._count = 0

    # --- building blocks -----------------------------------------------------------------
    def _skeleton(self, kind: str, channel: str, start: datetime) -> Conversation:
        rng = self.rng
        address = (
            f"+44770090{rng.randrange(10**4):04d}"
            if channel in ("whatsapp", "voice")
            else (new_uuid(rng))
        )
        ids = [new_uuid(rng) for _ in range(7)]  # drawn in the order of earlier releases
        external_contact_id = ids[6]
        if channel == "whatsapp" and self._whatsapp_customer is None:
            self._whatsapp_customer = (address, external_contact_id)
        if channel == "voice":
            self._calls += 1
            if self._calls == 1 and self.config.returning_caller and self._whatsapp_customer:
                # the same person calls: same number, same external contact
                address, external_contact_id = self._whatsapp_customer
            address = f"tel:{address}"
        return Conversation(
            id=ids[0],
            kind="voice" if kind == "voice" else "message",
            channel=channel,
            start=start,
            end=None,
            queue_id=self.queue_id,
            user_id=self.user_id,
            division_id=self.division_id,
            customer_participant_id=ids[1],
            acd_participant_id=ids[2],
            agent_participant_id=ids[3],
            customer_session_id=ids[4],
            agent_session_id=ids[5],
            customer_address=address,
            external_contact_id=external_contact_id,
            customer_name=NAMES[uuid.UUID(external_contact_id).int % len(NAMES)],
            consent=self._consent(external_contact_id),
        )

    def _consent(self, external_contact_id: str) -> str:
        """The person's answer, the same on every conversation (it follows the contact)."""
        granted, refused, late = self.config.consent_shares
        share = (uuid.UUID(external_contact_id).int % 1000) / 1000
        for answer, bound in (
            ("granted", granted),
            ("refused", granted + refused),
            ("late", granted + refused + late),
        ):
            if share < bound:
                return answer
        return "none"

    def _attachment(self, conversation: Conversation, kind: str, index: int) -> Attachment:
        rng = self.rng
        attachment_id = new_uuid(rng)
        variant = rng.randrange(8)
        producer: Callable[[], bytes]
        if kind in media.AUDIO_KINDS:
            audio_kind = media.AUDIO_KINDS[kind]
            producer = partial(self.audio.unique, audio_kind, variant, attachment_id)
            mime, ext, media_type = audio_kind.mime, audio_kind.extension, "Audio"
            name = "voice-note" if kind == "ogg_opus" else "audio"
        elif kind in ("png", "jpeg"):
            producer = partial(media.image_bytes, rng.getrandbits(32), kind)
            mime, ext, media_type, name = (
                f"image/{kind}",
                "png" if kind == "png" else "jpg",
                "Image",
                "photo",
            )
        else:
            producer = partial(media.pdf_bytes, f"Emulator document {attachment_id}")
            mime, ext, media_type, name = "application/pdf", "pdf", "File", "document"
        filename = f"{name}-{index + 1}.{ext}"
        key = f"attachments/{conversation.id}/{attachment_id}/{filename}"
        self.state.store.put(key, mime, filename, producer)
        return Attachment(
            id=attachment_id,
            media_type=media_type,  # type: ignore[arg-type]
            mime=mime,
            filename=filename,
            object_key=key,
            audio_kind=kind if kind in media.AUDIO_KINDS else None,
        )

    # --- conversations -------------------------------------------------------------------
    def messaging_conversation(
        self,
        channel: str,
        start: datetime,
        kinds: tuple[str, ...] | None = None,
        texts: int | None = None,
    ) -> Conversation:
        """A customer on ``channel`` sending texts and attachments; an agent answering."""
        conversation = self._skeleton("message", channel, start)
        cycle = CHANNEL_MEDIA.get(channel, CHANNEL_MEDIA["open"])
        if kinds is None:
            offset = self._count
            kinds = tuple(
                cycle[(offset + i) % len(cycle)]
                for i in range(self.config.attachments_per_conversation)
            )
        n_texts = self.config.text_messages_per_conversation if texts is None else texts
        moment = start + timedelta(seconds=5)
        for i in range(max(n_texts, len(kinds))):
            text = TEXTS[(self._count + i) % len(TEXTS)] if i < n_texts else None
            message = Message(
                new_message_id(self.rng),
                conversation.customer_participant_id,
                "inbound",
                moment,
                text,
            )
            if i < len(kinds):
                message.attachments.append(self._attachment(conversation, kinds[i], i))
            conversation.messages.append(message)
            moment += timedelta(seconds=self.rng.randint(10, 60))
            if i == 0:
                reply = Message(
                    new_message_id(self.rng),
                    conversation.agent_participant_id,
                    "outbound",
                    moment,
                    "Hello! Thanks for contacting us.",
                )
                conversation.messages.append(reply)
                moment += timedelta(seconds=self.rng.randint(5, 20))
        conversation.end = moment + timedelta(seconds=60)
        conversation.recordings.append(
            Recording(
                new_uuid(self.rng),
                conversation.id,
                conversation.customer_session_id,
                start,
                conversation.end,
                self.rng.getrandbits(31),
                media="message",
                media_subtype="Trunk",
            )
        )
        self._count += 1
        self.state.add_conversation(conversation)
        return conversation

    def voice_conversation(self, start: datetime, file_state: str = "AVAILABLE") -> Conversation:
        """A call with a stereo recording (customer on one channel) and a transcript."""
        conversation = self._skeleton("voice", "voice", start)
        seconds = self.config.call_seconds
        conversation.end = start + timedelta(seconds=seconds + 2)
        recording = Recording(
            new_uuid(self.rng),
            conversation.id,
            conversation.customer_session_id,
            start + timedelta(seconds=1),
            start + timedelta(seconds=1 + seconds),
            self.rng.getrandbits(31),
            file_state=file_state,
        )
        conversation.recordings.append(recording)
        self._register_recording_files(conversation, recording, seconds)
        key = f"transcripts/{conversation.id}/{conversation.customer_session_id}.json"
        conversation.transcript_key = key
        self.state.store.put(
            key,
            "application/json",
            "transcript.json",
            partial(self._transcript, conversation, recording, seconds),
        )
        self._count += 1
        self.state.add_conversation(conversation)
        return conversation

    def _register_recording_files(
        self, conversation: Conversation, recording: Recording, seconds: float
    ) -> None:
        left_is_customer = self.state.config.customer_channel == "left"
        for format_id, kind in media.RECORDING_KINDS.items():

            def stereo(kind: media.AudioKind = kind) -> bytes:
                customer, agent = media.dialogue_signals(recording.seed, seconds, kind.sample_rate)
                channels = [customer, agent] if left_is_customer else [agent, customer]
                return media.encode_audio(
                    channels, kind, comment=f"genesys-emulator {recording.id}"
                )

            def mono(index: int, kind: media.AudioKind = kind) -> bytes:
                customer, agent = media.dialogue_signals(recording.seed, seconds, kind.sample_rate)
                channels = [customer, agent] if left_is_customer else [agent, customer]
                return media.encode_audio(
                    [channels[index]], kind, comment=f"{recording.id}/{index}"
                )

            base = f"recordings/{conversation.id}/{recording.id}"
            key = f"{base}.{kind.extension}"
            self.state.store.put(key, kind.mime, f"{recording.id}.{kind.extension}", stereo)
            recording.object_keys[format_id] = key
            for index in (0, 1):
                channel_key = f"{base}-{index}.{kind.extension}"
                self.state.store.put(
                    channel_key,
                    kind.mime,
                    f"{recording.id}-{index}.{kind.extension}",
                    partial(mono, index),
                )
                recording.object_keys[f"{format_id}/{index}"] = channel_key

    def _transcript(
        self, conversation: Conversation, recording: Recording, seconds: float
    ) -> bytes:
        """The Speech & Text Analytics transcript document for the call (VOICE.md shape)."""
        rng = random.Random(recording.seed)
        base_ms = epoch_ms(recording.start)
        phrases = [
            _phrase(base_ms, turn, drawn)
            for turn, drawn in call_words(rng, recording.seed, seconds)
        ]
        duration_ms = int(seconds * 1000)
        document = {
            "organizationId": self.state.config.org_id,
            "conversationId": conversation.id,
            "communicationId": conversation.customer_session_id,
            "mediaType": "call",
            "conversationStartTime": epoch_ms(conversation.start),
            "startTime": base_ms,
            "duration": {"milliseconds": duration_ms},
            "transcripts": [
                {
                    "transcriptId": new_uuid(rng),
                    "language": "en-US",
                    "programId": "",
                    "startTime": base_ms,
                    "duration": {"milliseconds": duration_ms},
                    "phrases": phrases,
                    "analytics": {"sentiment": []},
                }
            ],
            "participants": [
                {
                    "participantPurpose": "customer",
                    "initialDirection": "inbound",
                    "ani": conversation.customer_address,
                    "dnis": "tel:+18005550100",
                    "startTimeMs": epoch_ms(conversation.start),
                    "endTimeMs": epoch_ms(conversation.end or conversation.start),
                },
                {"participantPurpose": "agent", "userId": conversation.user_id},
            ],
        }
        return json.dumps(document).encode()

    # --- whole scenarios -----------------------------------------------------------------
    def populate(self) -> list[Conversation]:
        """The configured mix: messaging conversations over the channels, then calls."""
        created: list[Conversation] = []
        total = self.config.messaging_conversations + self.config.voice_conversations
        start = self.anchor - timedelta(hours=2)
        step = timedelta(seconds=max(60, 3600 // max(total, 1)))
        for i in range(self.config.messaging_conversations):
            channel = self.config.channels[i % len(self.config.channels)]
            created.append(self.messaging_conversation(channel, start))
            start += step
        states = self.config.recording_file_states
        for i in range(self.config.voice_conversations):
            file_state = states[i] if i < len(states) else "AVAILABLE"
            created.append(self.voice_conversation(start, file_state))
            start += step
        return created

    def voice_note_load(
        self, count: int, channel: str = "whatsapp", kind: str = "ogg_opus"
    ) -> list[Conversation]:
        """``count`` conversations with one voice note each, for load tests."""
        start = self.anchor - timedelta(hours=1)
        return [
            self.messaging_conversation(
                channel, start + timedelta(seconds=i), kinds=(kind,), texts=0
            )
            for i in range(count)
        ]
