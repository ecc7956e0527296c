"""Recording batch downloads and the org limits endpoint, checked against the SDK models."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from genesys_emulator.config import (
    NO_MESSAGE_PERMS_CLIENT_ID,
    NO_MESSAGE_PERMS_CLIENT_SECRET,
    OAuthClientConfig,
    default_clients,
)
from genesys_emulator.state import Recording
from genesys_emulator.testing import EmulatorHandle, running_emulator
from tests.integration.emulator.emulator_helpers import get_token, small_config
from tests.integration.emulator.emulator_sdk_check import assert_conforms

pytestmark = pytest.mark.integration

BATCH = "/api/v2/recording/batchrequests"


def _pairs(emu: EmulatorHandle) -> list[dict[str, str]]:
    return [
        {"conversationId": c.id, "recordingId": r.id}
        for c in emu.conversations()
        if c.kind == "voice"
        for r in c.recordings
    ]


async def _submit(
    session: aiohttp.ClientSession, emu: EmulatorHandle, auth: dict[str, str], pairs: Any
) -> tuple[int, Any]:
    async with session.post(
        f"{emu.api_url}{BATCH}", json={"batchDownloadRequestList": pairs}, headers=auth
    ) as response:
        return response.status, await response.json()


async def _status(
    session: aiohttp.ClientSession, emu: EmulatorHandle, auth: dict[str, str], job_id: str
) -> tuple[int, Any]:
    async with session.get(f"{emu.api_url}{BATCH}/{job_id}", headers=auth) as response:
        return response.status, await response.json()


async def test_batch_download_results_are_fetched_without_the_token(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    pairs = _pairs(emu)
    unknown = {"conversationId": pairs[0]["conversationId"], "recordingId": "0" * 8}
    messaging = next(c for c in emu.conversations() if c.kind == "message")
    chat = {"conversationId": messaging.id, "recordingId": messaging.recordings[0].id}
    status, submitted = await _submit(session, emu, auth, [*pairs, unknown, chat])
    assert status == 200
    assert_conforms(submitted, "BatchDownloadJobSubmissionResult")
    status, job = await _status(session, emu, auth, submitted["id"])
    assert status == 200
    assert_conforms(job, "BatchDownloadJobStatusResult")
    assert job["status"] == "Completed"
    assert job["expectedResultCount"] == len(pairs) + 2
    assert job["resultCount"] == len(job["results"]) == len(pairs) + 2
    assert job["errorCount"] == 2
    fetched = [r for r in job["results"] if "resultUrl" in r]
    assert [(r["conversationId"], r["recordingId"]) for r in fetched] == [
        (p["conversationId"], p["recordingId"]) for p in pairs
    ]
    for result in fetched:
        assert result["contentType"] == "audio/wav"
        async with session.get(result["resultUrl"]) as response:  # no token
            assert response.status == 200
            assert (await response.read())[:4] == b"RIFF"
        async with session.get(result["resultUrl"], headers=auth) as response:
            assert response.status == 400  # a signed URL refuses the bearer token
    errored = [r for r in job["results"] if "errorMsg" in r]
    assert {r["recordingId"] for r in errored} == {"0" * 8, chat["recordingId"]}


async def test_batch_jobs_belong_to_the_submitting_client(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    _, submitted = await _submit(session, emu, auth, _pairs(emu))
    # another token of the same client may read it
    other_token = {"Authorization": f"Bearer {await get_token(session, emu)}"}
    status, _ = await _status(session, emu, other_token, submitted["id"])
    assert status == 200
    stranger = {
        "Authorization": "Bearer "
        + await get_token(session, emu, NO_MESSAGE_PERMS_CLIENT_ID, NO_MESSAGE_PERMS_CLIENT_SECRET)
    }
    status, body = await _status(session, emu, stranger, submitted["id"])
    assert status == 404
    assert_conforms(body, "ErrorBody")
    emu.config.batch_foreign_status = 403
    status, body = await _status(session, emu, stranger, submitted["id"])
    assert status == 403
    assert body["code"] == "not.authorized"
    status, body = await _status(session, emu, auth, "no-such-job")
    assert status == 404


async def test_batch_request_validation_and_permission(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    pair = _pairs(emu)[0]
    conversation = {"conversationId": pair["conversationId"]}
    for bad in (
        [],
        [pair] * 101,
        [conversation] * 101,  # the limit counts entries, whatever they expand to
        [{"recordingId": pair["recordingId"]}],
        [{**conversation, "recordingId": 7}],
    ):
        status, body = await _submit(session, emu, auth, bad)
        assert status == 400, bad
        assert_conforms(body, "ErrorBody")
    for good in ([pair] * 100, [conversation] * 100, [{**conversation, "recordingId": None}]):
        status, _ = await _submit(session, emu, auth, good)
        assert status == 200


async def test_a_conversation_entry_gives_every_recording_of_its_conversation() -> None:
    """``recordingId`` left out or null: "all recordings on the conversation" (the SDK's
    ``BatchDownloadRequest``); an unknown conversation gives one result with ``errorMsg``;
    missing and errored shares are drawn per pair, as for pair entries."""
    config = small_config(batch_missing_share=0.3, batch_error_share=0.3)
    config.scenario.voice_conversations = 12
    config.scenario.messaging_conversations = 0
    with running_emulator(config) as emu:
        calls = emu.conversations()
        second = Recording(**{**vars(calls[0].recordings[0]), "id": "f" * 32})
        calls[0].recordings.append(second)  # a conversation with two recordings
        entries: list[dict[str, Any]] = [{"conversationId": c.id} for c in calls[1:]]
        entries[0]["recordingId"] = None
        entries += [{"conversationId": calls[0].id}, {"conversationId": "0" * 36}]
        async with aiohttp.ClientSession() as session:
            auth = {"Authorization": f"Bearer {await get_token(session, emu)}"}
            _, submitted = await _submit(session, emu, auth, entries)
            _, job = await _status(session, emu, auth, submitted["id"])
            _, again = await _status(session, emu, auth, submitted["id"])
            by_pairs = [
                {"conversationId": c.id, "recordingId": r.id} for c in calls for r in c.recordings
            ]
            _, pair_job = await _submit(session, emu, auth, by_pairs)
            _, paired = await _status(session, emu, auth, pair_job["id"])
    assert_conforms(job, "BatchDownloadJobStatusResult")
    assert job["status"] == "Completed"
    # one result per recording of each conversation, plus the unknown conversation's
    assert job["expectedResultCount"] == 13 + 1
    assert job == {**again, "id": job["id"], "jobId": job["jobId"], "selfUri": job["selfUri"]}
    unknown = [r for r in job["results"] if r["conversationId"] == "0" * 36]
    assert unknown == [{"conversationId": "0" * 36, "errorMsg": "Conversation not found."}]
    known = [r for r in job["results"] if r not in unknown]
    # the same draws as asking pair by pair: stable per (conversation, recording)
    assert sorted(known, key=str) == sorted(paired["results"], key=str)
    assert 0 < len(known) < 13  # some missing
    assert any("resultUrl" in r for r in known)
    assert any("errorMsg" in r for r in known)
    two = {r["recordingId"] for r in paired["results"] if r["conversationId"] == calls[0].id}
    assert two <= {calls[0].recordings[0].id, "f" * 32}


async def test_batch_permission_is_recording_view() -> None:
    config = small_config(
        clients=[
            *default_clients(),
            OAuthClientConfig("no-recordings", "secret", frozenset({"conversation:message:view"})),
        ]
    )
    with running_emulator(config) as emu:
        async with aiohttp.ClientSession() as session:
            token = await get_token(session, emu, "no-recordings", "secret")
            auth = {"Authorization": f"Bearer {token}"}
            status, body = await _submit(session, emu, auth, _pairs(emu))
    assert status == 403
    assert "recording:recording:view" in body["message"]


async def test_batch_in_progress_then_some_results_missing_or_errored() -> None:
    config = small_config(batch_delay_s=0.3)
    config.scenario.voice_conversations = 8
    config.batch_missing_share = 0.3
    config.batch_error_share = 0.3
    with running_emulator(config) as emu:
        async with aiohttp.ClientSession() as session:
            auth = {"Authorization": f"Bearer {await get_token(session, emu)}"}
            pairs = _pairs(emu)
            _, submitted = await _submit(session, emu, auth, pairs)
            _, early = await _status(session, emu, auth, submitted["id"])
            await asyncio.sleep(0.35)
            _, done = await _status(session, emu, auth, submitted["id"])
    assert_conforms(early, "BatchDownloadJobStatusResult")
    assert (early["status"], early["resultCount"], early["results"]) == ("InProgress", 0, [])
    assert done["status"] == "Completed"
    assert done["expectedResultCount"] == 8
    assert 0 < done["resultCount"] < 8  # some missing
    assert 0 < done["errorCount"] < done["resultCount"]  # some errored, some fetched
    assert done["errorCount"] == sum("errorMsg" in r for r in done["results"])


async def test_limits_answer_the_configured_rate_limit(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    url = f"{emu.api_url}/api/v2/organizations/limits/namespaces/platform.api"
    async with session.get(url, headers=auth) as response:
        assert response.status == 200
        body = await response.json()
    assert_conforms(body, "LimitsEntityListing")
    assert body["entities"] == [
        {
            "key": "client.credentials.token.rate.per.minute",
            "namespace": "platform.api",
            "value": emu.config.rate_limit_requests,
        }
    ]
    emu.set_rate_limit(42, 60.0)
    auth = {"Authorization": f"Bearer {await get_token(session, emu)}"}
    async with session.get(url, headers=auth) as response:
        assert (await response.json())["entities"][0]["value"] == 42
    other = f"{emu.api_url}/api/v2/organizations/limits/namespaces/recording"
    async with session.get(other, headers=auth) as response:
        body = await response.json()
    assert_conforms(body, "LimitsEntityListing")
    assert body == {"entities": []}
    async with session.get(url) as response:
        assert response.status == 401
