"""Recording batch downloads: POST /api/v2/recording/batchrequests, GET .../{jobId}.

A job takes up to 100 entries (the limit counts entries, not recordings):
``{conversationId, recordingId}`` for one recording, or ``{conversationId}`` alone
(``recordingId`` absent or null: "all recordings on the conversation", as the SDK's
``BatchDownloadRequest`` says), which gives one result per recording of the conversation
(an unknown conversation: one result with an ``errorMsg`` and no ``recordingId``). The
entries are expanded when the job is submitted: ``expectedResultCount`` counts the results
to come. Once complete (after ``batch_delay_s``) each found recording has a ``resultUrl``,
a signed URL fetched without the token, like a recording's mediaUris. Only the submitting
OAuth client may read the job (another: ``batch_foreign_status``). As the SDK docs allow,
some results may be missing (``batch_missing_share``) or carry an ``errorMsg``
(``batch_error_share``, and recordings that are unknown, not available or have no audio);
the draws are stable per pair.
"""

from __future__ import annotations

import time
import uuid
import zlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from genesys_emulator import errors, media
from genesys_emulator.config import OAuthClientConfig
from genesys_emulator.routes.common import api_endpoint, json
from genesys_emulator.state import BatchJob, OrgState

RECORDING_VIEW = ("recording:recording:view",)
MAX_REQUESTS = 100
#: the "original format" the emulator's trunk records in
BATCH_FORMAT = "WAV"


def _share(conversation_id: str, recording_id: str, salt: str) -> float:
    return zlib.crc32(f"{salt}:{conversation_id}:{recording_id}".encode()) / 2**32


async def submit(request: Request, state: OrgState, client: OAuthClientConfig) -> Response:
    try:
        body = await request.json()
    except ValueError as error:
        raise errors.bad_request("The request body is not valid JSON.") from error
    listed = body.get("batchDownloadRequestList") if isinstance(body, dict) else None
    if not isinstance(listed, list) or not listed:
        raise errors.bad_request("batchDownloadRequestList must list at least one recording.")
    if len(listed) > MAX_REQUESTS:
        raise errors.bad_request(
            f"batchDownloadRequestList may list at most {MAX_REQUESTS} recordings."
        )
    pairs: list[tuple[str, str | None]] = []
    for item in listed:
        conversation_id = item.get("conversationId") if isinstance(item, dict) else None
        recording_id = item.get("recordingId") if isinstance(item, dict) else None
        if not isinstance(conversation_id, str) or not (
            recording_id is None or isinstance(recording_id, str)
        ):
            raise errors.bad_request(
                "Each batchDownloadRequestList entry needs a conversationId "
                "(and a recordingId string, or none for all of its recordings)."
            )
        pairs.extend(_expand(state, conversation_id, recording_id))
    job = BatchJob(str(uuid.uuid4()), client.client_id, pairs, time.time())
    with state.lock:
        state.batch_jobs[job.id] = job
    return json({"id": job.id, "selfUri": f"/api/v2/recording/batchrequests/{job.id}"})


def _expand(
    state: OrgState, conversation_id: str, recording_id: str | None
) -> list[tuple[str, str | None]]:
    """The results an entry asks for: its pair, or every recording of its conversation
    (``(conversationId, None)``: the conversation is unknown)."""
    if recording_id is not None:
        return [(conversation_id, recording_id)]
    conversation = state.conversation(conversation_id)
    if conversation is None:
        return [(conversation_id, None)]
    return [(conversation_id, r.id) for r in conversation.recordings]


def _result(
    state: OrgState, conversation_id: str, recording_id: str | None
) -> dict[str, Any] | None:
    config = state.config
    if recording_id is None:  # a conversation entry whose conversation is unknown
        return {"conversationId": conversation_id, "errorMsg": "Conversation not found."}
    result: dict[str, Any] = {"conversationId": conversation_id, "recordingId": recording_id}
    if _share(conversation_id, recording_id, "missing") < config.batch_missing_share:
        return None
    conversation = state.conversation(conversation_id)
    recording = next(
        (r for r in (conversation.recordings if conversation else []) if r.id == recording_id),
        None,
    )
    if recording is None:
        result["errorMsg"] = "Recording not found."
    elif recording.media != "audio" or BATCH_FORMAT not in recording.object_keys:
        result["errorMsg"] = "Recording has no audio to download."
    elif recording.file_state not in ("AVAILABLE", "RESTORED"):
        result["errorMsg"] = f"Recording is {recording.file_state}."
    elif _share(conversation_id, recording_id, "error") < config.batch_error_share:
        result["errorMsg"] = "Failed to retrieve the recording."
    else:
        result["resultUrl"] = state.signed_url(
            recording.object_keys[BATCH_FORMAT], config.recording_uri_host
        )
        result["contentType"] = media.RECORDING_KINDS[BATCH_FORMAT].mime
    return result


async def status(request: Request, state: OrgState, client: OAuthClientConfig) -> Response:
    job_id = request.path_params["jobId"]
    with state.lock:
        job = state.batch_jobs.get(job_id)
    if job is None:
        raise errors.not_found(job_id)
    if job.client_id != client.client_id:
        if state.config.batch_foreign_status == 403:
            raise errors.not_authorized()
        raise errors.not_found(job_id)
    done = time.time() - job.submitted_at >= state.config.batch_delay_s
    results: list[dict[str, Any]] = []
    if done:
        found = (_result(state, c, r) for c, r in job.requests)
        results = [r for r in found if r is not None]
    return json(
        {
            "id": job.id,
            "jobId": job.id,
            "expectedResultCount": len(job.requests),
            "resultCount": len(results),
            "errorCount": sum(1 for r in results if "errorMsg" in r),
            "status": "Completed" if done else "InProgress",
            "results": results,
            "selfUri": f"/api/v2/recording/batchrequests/{job.id}",
        }
    )


routes = [
    Route(
        "/api/v2/recording/batchrequests",
        api_endpoint(submit, all_of=RECORDING_VIEW),
        methods=["POST"],
    ),
    Route(
        "/api/v2/recording/batchrequests/{jobId}",
        api_endpoint(status, all_of=RECORDING_VIEW),
        methods=["GET"],
    ),
]
