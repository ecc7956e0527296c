"""Whom an erasure is for, and whether a delivery, an NLP record or a job is theirs.

A speaker key or external contact id is matched both as given and as its pseudonym, so
an operator can name a person the way they know them even when deliveries carry HMACs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from media_bridge.identity import SpeakerDescriber, SpeakerFacts
from media_bridge.jobs.keys import erasure_key


@dataclass(frozen=True, slots=True)
class Subject:
    #: conversations to erase whole: the one asked for, and a person's own conversations
    conversations: frozenset[str]
    #: speaker keys to match (raw and pseudonymised forms)
    keys: frozenset[str]
    #: external contact ids to match (raw and pseudonymised forms)
    contacts: frozenset[str]
    #: what the operator asked for, as the erasure record states it
    request: dict[str, str]

    @classmethod
    def of(
        cls,
        describer: SpeakerDescriber,
        *,
        speaker: str | None = None,
        conversation: str | None = None,
        external_contact: str | None = None,
    ) -> Subject:
        keys: set[str] = set()
        contacts: set[str] = set()
        request: dict[str, str] = {}
        if speaker:
            keys |= {speaker, describer.pseudonym(speaker)}
            request["speaker"] = describer.pseudonym(speaker)
        if external_contact:
            key = f"ext:{external_contact}"
            keys |= {key, describer.pseudonym(key)}
            contacts |= {external_contact, describer.pseudonym(key)}
            request["external_contact"] = describer.pseudonym(key)
        if conversation:
            request["conversation"] = conversation
        if not request:
            raise ValueError("name a speaker key, a conversation id or an external contact id")
        found = frozenset({conversation} if conversation else ())
        return cls(found, frozenset(keys), frozenset(contacts), request)

    def with_conversations(self, ids: set[str]) -> Subject:
        """The same request, also erasing these conversations whole (the person's own:
        their transcripts hold the agent's side of the dialogue too)."""
        return replace(self, conversations=self.conversations | ids)

    @property
    def record_key(self) -> str:
        """The erasure record's idempotency key: the same request gives the same key."""
        return erasure_key(self.request)

    def speaker_matches(self, speaker: Any) -> bool:
        if not isinstance(speaker, dict):
            return False
        if speaker.get("key") in self.keys:
            return True
        aliases = speaker.get("aliases")
        if isinstance(aliases, list) and self.keys.intersection(
            a for a in aliases if isinstance(a, str)
        ):
            return True
        return speaker.get("external_contact_id") in self.contacts

    def metadata_matches(self, metadata: Any) -> bool:
        """A delivery's metadata (sidecar ``metadata``)."""
        if not isinstance(metadata, dict):
            return False
        if metadata.get("conversation_id") in self.conversations:
            return True
        speakers = metadata.get("speakers")
        others = list(speakers.values()) if isinstance(speakers, dict) else []
        return any(self.speaker_matches(s) for s in [metadata.get("speaker"), *others])

    def record_matches(self, record: Any) -> bool:
        """An NLP record."""
        if not isinstance(record, dict):
            return False
        if record.get("conversation_id") in self.conversations:
            return True
        return record.get("speaker_key") in self.keys

    def payload_matches(self, payload: dict[str, Any], describer: SpeakerDescriber) -> bool:
        """A job's payload: its conversation, or the speaker facts it holds.

        Reads the stored JSON, not a ``jobs.payloads`` type: erasure scans every job in
        the ledger, of any kind and any version (one this release would refuse to run
        may still hold the subject's data)."""
        conversation = str(payload.get("conversation_id") or "")
        if conversation in self.conversations:
            return True
        if not self.keys:
            return False
        found: list[Any] = [payload.get("speaker_facts")]
        call = payload.get("call")
        for holder in (payload, call if isinstance(call, dict) else {}):
            speakers = holder.get("speakers")
            if isinstance(speakers, dict):
                found.extend(speakers.values())
        for value in found:
            facts = SpeakerFacts.from_payload(value)
            if facts is not None and self.speaker_matches(describer.describe(facts, conversation)):
                return True
        return False
