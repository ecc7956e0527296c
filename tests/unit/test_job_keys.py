"""``jobs.keys``: one builder and one parser per key shape, byte for byte today's keys.

The fixture test rebuilds every key of the frozen ledger (``tests/fixtures/ledger/v1``)
from its job's payload: a builder that changed one byte would orphan stored jobs and
re-deliver under a new name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from media_bridge.erasure.subject import Subject
from media_bridge.identity import SpeakerDescriber
from media_bridge.identity.settings import IdentitySettings
from media_bridge.jobs import keys
from media_bridge.jobs.keys import (
    AttachmentKey,
    AudioHookChunkKey,
    AudioHookFinalKey,
    AudioHookKey,
    ConversationKey,
    ErasureKey,
    RecordingFileKey,
    RecordingKey,
    TextKey,
    TranscriptKey,
    UtteranceKey,
)
from media_bridge.types import AttachmentRef, TextMessage

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ledger" / "v1"
C, M, A = "c-1", "m-2", "a-3"

#: (built key, its parser, what the parser gives back)
SHAPES: list[tuple[str, Callable[[str], Any], Any]] = [
    (keys.attachment_key(C, M, A), keys.parse_attachment_key, AttachmentKey(C, M, A)),
    (keys.text_key(C, M), keys.parse_text_key, TextKey(C, M)),
    (keys.conversation_key(C), keys.parse_conversation_key, ConversationKey(C)),
    (keys.recording_key(C), keys.parse_recording_key, RecordingKey(C)),
    (keys.recording_file_key(C, "r"), keys.parse_recording_file_key, RecordingFileKey(C, "r")),
    (keys.transcript_key(C, "k"), keys.parse_transcript_key, TranscriptKey(C, "k")),
    (keys.utterance_key(C, "k", "u"), keys.parse_utterance_key, UtteranceKey(C, "k", "u")),
    (keys.utterance_key(C, "k", 7), keys.parse_utterance_key, UtteranceKey(C, "k", "7")),
    (keys.audiohook_key("s", "external"), keys.parse_audiohook_key, AudioHookKey("s", "external")),
    (
        keys.audiohook_chunk_key("s", "internal", 12),
        keys.parse_audiohook_chunk_key,
        AudioHookChunkKey("s", "internal", 12),
    ),
    (
        keys.audiohook_final_key("s", "external"),
        keys.parse_audiohook_final_key,
        AudioHookFinalKey("s", "external"),
    ),
    (
        keys.erasure_key({"conversation": C}),
        keys.parse_erasure_key,
        ErasureKey("f4abab7028f714b534e594ce"),
    ),
]


def test_each_builder_gives_the_shape_the_module_documents() -> None:
    assert [built for built, _, _ in SHAPES] == [
        "attachment:c-1:m-2:a-3",
        "text:c-1:m-2",
        "conversation:c-1",
        "recording:c-1",
        "recording:c-1:r",
        "transcript:c-1:k",
        "transcript:c-1:k:u",
        "transcript:c-1:k:7",
        "audiohook:s:external",
        "audiohook:s:internal:12",
        "audiohook:s:external:full",
        # sha256 of '{"conversation": "c-1"}', as the erasure code of 2026-12-03 gave it
        "erasure:f4abab7028f714b534e594ce",
    ]


@pytest.mark.parametrize(("built", "parse", "expected"), SHAPES)
def test_each_shape_round_trips(built: str, parse: Callable[[str], Any], expected: Any) -> None:
    parsed = parse(built)
    assert parsed == expected
    assert parsed.key == built


MALFORMED = [
    (keys.parse_attachment_key, "text:c:m", "attachment"),
    (keys.parse_attachment_key, "attachment:c:m", "attachment"),
    (keys.parse_attachment_key, "attachment:c:m:a:b", "attachment"),
    (keys.parse_attachment_key, "attachment:c::a", "attachment"),
    (keys.parse_text_key, "text:c", "text"),
    (keys.parse_text_key, "text:c:m:x", "text"),
    (keys.parse_text_key, "attachment:c:m", "text"),
    (keys.parse_conversation_key, "conversation:", "conversation"),
    (keys.parse_conversation_key, "conversation:c:x", "conversation"),
    (keys.parse_recording_key, "recording:c:r", "recording"),
    (keys.parse_recording_file_key, "recording:c", "recording file"),
    (keys.parse_recording_file_key, "recording:c:", "recording file"),
    (keys.parse_transcript_key, "transcript:c:k:u", "transcript"),
    (keys.parse_utterance_key, "transcript:c:k", "utterance"),
    (keys.parse_utterance_key, "text:c:k:u", "utterance"),
    (keys.parse_audiohook_key, "audiohook:s", "audiohook channel"),
    (keys.parse_audiohook_chunk_key, "audiohook:s:external:full", "audiohook chunk"),
    (keys.parse_audiohook_chunk_key, "audiohook:s:external:07", "audiohook chunk"),
    (keys.parse_audiohook_chunk_key, "audiohook:s:external:-1", "audiohook chunk"),
    (keys.parse_audiohook_final_key, "audiohook:s:external:3", "audiohook final"),
    (keys.parse_erasure_key, "erasure:r1", "erasure record"),
    (keys.parse_erasure_key, "erasure:" + "0" * 24 + ":x", "erasure record"),
    (keys.parse_erasure_key, "", "erasure record"),
]


@pytest.mark.parametrize(("parse", "key", "shape"), MALFORMED)
def test_a_malformed_key_is_refused_naming_its_shape(
    parse: Callable[[str], Any], key: str, shape: str
) -> None:
    with pytest.raises(ValueError, match=f"not an? {shape} key"):
        parse(key)


def test_an_id_holding_a_colon_builds_todays_key_which_no_parser_takes_back() -> None:
    built = keys.text_key(C, "m:x")
    assert built == "text:c-1:m:x"
    with pytest.raises(ValueError, match="not a text key"):
        keys.parse_text_key(built)


def test_split_key_takes_any_shape() -> None:
    assert keys.split_key("attachment:c:m:a") == keys.KeyParts("attachment", ("c", "m", "a"))
    assert keys.split_key("text:c:m:x").conversation_id == "c"
    assert keys.split_key("odd").conversation_id is None
    assert keys.split_key("text:").conversation_id == ""


def test_the_domain_types_and_the_erasure_subject_use_the_builders() -> None:
    ref = AttachmentRef(C, M, A, "Audio")
    assert ref.key == keys.attachment_key(C, M, A)
    assert TextMessage(C, M, "hello").key == keys.text_key(C, M)
    subject = Subject.of(SpeakerDescriber(IdentitySettings()), conversation=C)
    assert subject.record_key == keys.erasure_key({"conversation": C})
    assert keys.parse_erasure_key(subject.record_key).key == subject.record_key


def _rebuilt(job: dict[str, Any]) -> str:
    """The job's key, built from its payload by the shape's builder."""
    kind, key, p = job["kind"], job["key"], job["payload"]
    conv = p["conversation_id"]
    parts = key.count(":") + 1
    if kind == "attachment":
        return keys.attachment_key(conv, p["message_id"], p["media_id"])
    if kind == "text" and key.startswith("transcript:"):
        return keys.utterance_key(conv, p["communication_id"], p["utterance_id"])
    if kind == "text":
        return keys.text_key(conv, p["message_id"])
    if kind == "conversation":
        return keys.conversation_key(conv)
    if kind == "recording" and parts == 2:
        return keys.recording_key(conv)
    if kind == "recording":
        return keys.recording_file_key(conv, p["recording_id"])
    assert kind == "transcript", job
    return keys.transcript_key(conv, p["communication_id"])


def test_the_builders_give_exactly_the_keys_of_the_frozen_ledger() -> None:
    jobs = json.loads((FIXTURE / "jobs.json").read_text())["jobs"]
    assert jobs
    for job in jobs:
        assert _rebuilt(job) == job["key"]


PARSERS_BY_SHAPE: dict[tuple[str, int], Callable[[str], Any]] = {
    ("attachment", 4): keys.parse_attachment_key,
    ("text", 3): keys.parse_text_key,
    ("conversation", 2): keys.parse_conversation_key,
    ("recording", 2): keys.parse_recording_key,
    ("recording", 3): keys.parse_recording_file_key,
    ("transcript", 3): keys.parse_transcript_key,
    ("transcript", 4): keys.parse_utterance_key,
}


def test_every_stored_and_delivered_key_parses_back_to_itself() -> None:
    jobs = json.loads((FIXTURE / "jobs.json").read_text())["jobs"]
    deliveries = json.loads((FIXTURE / "deliveries.json").read_text())
    found = [j["key"] for j in jobs] + deliveries["nlp_keys"]
    found += [s["key"] for s in deliveries["sidecars"]]
    for key in found:
        parts = key.split(":")
        assert PARSERS_BY_SHAPE[(parts[0], len(parts))](key).key == key


SRC = Path(__file__).resolve().parents[2] / "src" / "media_bridge"
_PREFIXES = "(attachment|text|conversation|recording|transcript|audiohook|erasure):"
#: a key prefix opening an f-string or tested for, a key extended, or split at its colons
AD_HOC = re.compile(
    rf"""f["']{_PREFIXES}|startswith\(["']{_PREFIXES}"""
    r"""|\{[\w.\[\]'"]*key[\]'"]*\}:(?=[{\w])|key\.split\("""
)
#: speaker keys (``identity``): another namespace that shares the ``conversation:`` prefix
SPEAKER_KEYS = {"identity/keys.py", "identity/describe.py"}


def test_no_module_but_jobs_keys_builds_or_splits_a_key_by_hand() -> None:
    found = [
        f"{path.relative_to(SRC)}:{n}: {line.strip()}"
        for path in sorted(SRC.rglob("*.py"))
        if str(path.relative_to(SRC)) not in SPEAKER_KEYS | {"jobs/keys.py"}
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if AD_HOC.search(line)
    ]
    assert not found, found
