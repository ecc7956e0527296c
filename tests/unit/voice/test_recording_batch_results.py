"""How a completed batch job's ``results[]`` settle each requested recording."""

from __future__ import annotations

from media_bridge.worker.handlers.recording_batch import settle_conversations, settle_results


def test_each_pair_settles_to_a_url_or_a_fallback_reason() -> None:
    pairs = [("c", "ok"), ("c", "gone"), ("c", "err"), ("c", "two"), ("c", "video"), ("c", "bare")]
    status = {
        "status": "Completed",
        "results": [
            {
                "conversationId": "c",
                "recordingId": "ok",
                "resultUrl": "https://s/ok",
                "contentType": "audio/wav",
            },
            {"conversationId": "c", "recordingId": "err", "errorMsg": "Failed to retrieve."},
            {"conversationId": "c", "recordingId": "two", "resultUrl": "https://s/1"},
            {"conversationId": "c", "recordingId": "two", "resultUrl": "https://s/2"},
            {
                "conversationId": "c",
                "recordingId": "video",
                "resultUrl": "https://s/v",
                "contentType": "video/webm",
            },
            {"conversationId": "c", "recordingId": "bare", "resultUrl": "https://s/b"},
            {"conversationId": "other", "recordingId": "ok", "resultUrl": "https://s/x"},
            "not an object",
        ],
    }
    settled = settle_results(pairs, status)
    assert settled[("c", "ok")].url == "https://s/ok"
    assert settled[("c", "gone")].fallback == "missing"
    assert settled[("c", "err")].fallback == "error"
    assert settled[("c", "err")].detail == "Failed to retrieve."
    assert settled[("c", "two")].fallback == "several"
    assert settled[("c", "video")].fallback == "format"
    # no contentType: tried, and the downloaded bytes are sniffed before the audio path
    assert settled[("c", "bare")].url == "https://s/b"
    assert set(settled) == set(pairs)


def _result(conv: str, rid: str | None, **fields: str) -> dict[str, str]:
    found = {"conversationId": conv, **fields}
    if rid is not None:
        found["recordingId"] = rid
    return found


def test_a_conversation_entry_is_complete_only_when_the_job_gave_every_result() -> None:
    results = [
        _result("a", "r1", resultUrl="https://s/1", contentType="audio/wav"),
        _result("a", "r2", errorMsg="Failed to retrieve the recording."),
        _result("b", "r3", resultUrl="https://s/3"),
        _result("gone", None, errorMsg="Conversation not found."),
    ]
    complete = {"status": "Completed", "expectedResultCount": 4, "results": results}
    outcomes, pairs = settle_conversations(["a", "b", "gone", "none"], complete)
    assert outcomes["a"].recording_ids == ("r1", "r2")
    assert outcomes["a"].fallback is None
    assert outcomes["b"].fallback is None
    assert outcomes["gone"].fallback == "error"  # no recording named: list it
    assert outcomes["gone"].detail == "Conversation not found."
    assert outcomes["none"].fallback == "missing"
    assert pairs[("a", "r1")].url == "https://s/1"
    assert pairs[("a", "r2")].fallback == "error"
    assert pairs[("b", "r3")].url == "https://s/3"
    # one result fewer than expected: any conversation may be the short one
    short = {**complete, "expectedResultCount": 5}
    outcomes, pairs = settle_conversations(["a", "b"], short)
    assert {o.fallback for o in outcomes.values()} == {"incomplete"}
    assert outcomes["a"].detail == "the job gave 4 of 5 results"
    assert outcomes["a"].recording_ids == ("r1", "r2")  # served ones keep their results
    assert pairs[("a", "r1")].url == "https://s/1"
    # more results than expected: the count is not of results, nothing proves it complete
    outcomes, _ = settle_conversations(["a"], {**complete, "expectedResultCount": 2})
    assert outcomes["a"].fallback == "incomplete"
    # no count at all: nothing proves it complete
    unknown = {"status": "Completed", "results": results}
    outcomes, _ = settle_conversations(["b"], unknown)
    assert outcomes["b"].fallback == "incomplete"


def test_analytics_participants_give_the_calls_customer_and_agent() -> None:
    from media_bridge.voice.analytics_call import call_facts

    voice = {"mediaType": "voice", "ani": "tel:+447700900123", "dnis": "tel:+18005550100"}
    item = {
        "conversationId": "c",
        "participants": [
            {"participantId": "ivr", "purpose": "ivr", "sessions": [voice]},
            {
                "participantId": "p-cust",
                "purpose": "customer",
                "participantName": "Ana Silva",
                "externalContactId": "ext-1",
                "sessions": [{**voice, "sessionId": "s-1"}],
            },
            {"participantId": "p-agent", "purpose": "agent", "userId": "u-1", "sessions": [voice]},
        ],
    }
    facts = call_facts(item)
    assert facts is not None
    assert facts["customer_participant_id"] == "p-cust"
    assert (facts["ani"], facts["dnis"]) == ("tel:+447700900123", "tel:+18005550100")
    assert facts["communication_id"] is None  # only calls[].id is documented as it
    assert facts["speakers"]["customer"] == {
        "role": "customer",
        "participant_id": "p-cust",
        "platform": "voice",
        "address": "tel:+447700900123",
        "display_name": "Ana Silva",
        "external_contact_id": "ext-1",
    }
    # an agent's session ani is the caller's number: not the agent's address
    assert facts["speakers"]["agent"] == {
        "role": "agent",
        "participant_id": "p-agent",
        "platform": "voice",
        "user_id": "u-1",
    }
    assert call_facts({"participants": [item["participants"][2]]}) is None


def test_the_conversation_read_stays_where_the_analytics_answer_lacks_something() -> None:
    from media_bridge.voice.analytics_call import facts_suffice

    enough = {"consent_attribute": None, "customer_channel": "left", "transcripts": False}
    assert facts_suffice(**enough) is None  # type: ignore[arg-type]
    for change, word in (
        ({"consent_attribute": "biometricsConsent"}, "participant_attribute"),
        ({"customer_channel": "auto"}, "auto"),
        ({"transcripts": True}, "transcripts"),
    ):
        why = facts_suffice(**{**enough, **change})  # type: ignore[arg-type]
        assert why is not None
        assert word in why
