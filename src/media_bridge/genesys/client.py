"""``GenesysClient``: the one async Genesys Cloud client of a process.

It owns one aiohttp session (a connection pool sized by ``max_connections``, no cookie
jar so nothing leaks between hosts), the token manager and the pacing gate, and gives
the endpoints the bridge uses as methods returning raw parsed JSON: the bridge parses
defensively rather than trusting SDK models (which rename unknown enum values).

    async with GenesysClient(settings) as client:
        message = await client.get_message(conversation_id, message_id)
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp

from media_bridge.errors import BadInput, MalformedAnswer, NotFound, UrlExpired
from media_bridge.genesys.auth import TokenManager
from media_bridge.genesys.pacing import PacingGate
from media_bridge.genesys.regions import GenesysHosts, resolve_hosts
from media_bridge.genesys.settings import GenesysSettings
from media_bridge.genesys.transport import ApiResponse, ApiTransport, ClientStats

USER_AGENT = "genesys-media-bridge/0.1"
CONVERSATIONS = "/api/v2/conversations"
#: the ``platform.api`` limit that bounds a client-credentials token
API_LIMIT_KEY = "client.credentials.token.rate.per.minute"


def _seg(value: str) -> str:
    """One path segment: ids come from events, so they must not be able to add path parts."""
    if not value or value in {".", ".."}:
        raise BadInput(f"invalid id {value!r} in a Genesys API path")
    return quote(value, safe="")


@dataclass(frozen=True, slots=True)
class RecordingsAnswer:
    """``ready`` is False when Genesys answered 202: still transcoding, ask again later."""

    ready: bool
    recordings: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class RecordingAnswer:
    ready: bool
    recording: dict[str, Any] | None


class GenesysApi(Protocol):
    """The endpoints the job side calls (handlers, and the consent checker, message reads
    and batch coordinator they use); ``GenesysClient`` is the one implementation, a unit
    test's fake another. ``hosts`` decides which event links may be fetched."""

    hosts: GenesysHosts

    async def get_message_conversation(self, conversation_id: str) -> dict[str, Any]: ...

    async def get_message(self, conversation_id: str, message_id: str) -> dict[str, Any]: ...

    async def get_messages_bulk(
        self, conversation_id: str, message_ids: list[str]
    ) -> dict[str, Any]: ...

    async def get_external_contact(self, contact_id: str) -> dict[str, Any]: ...

    async def get_conversation(self, conversation_id: str) -> dict[str, Any]: ...

    async def get_recordings(
        self, conversation_id: str, format_id: str = "WAV", max_wait_ms: int = 5000
    ) -> RecordingsAnswer: ...

    async def get_recording(
        self, conversation_id: str, recording_id: str, format_id: str = "WAV"
    ) -> RecordingAnswer: ...

    async def submit_recording_batch(self, entries: list[tuple[str, str | None]]) -> str: ...

    async def get_recording_batch(self, job_id: str) -> dict[str, Any]: ...

    async def get_transcript_url(self, conversation_id: str, communication_id: str) -> str: ...


def make_session(settings: GenesysSettings) -> aiohttp.ClientSession:
    """The process-wide session: pooled connections, TLS verified unless turned off."""
    ssl_setting: ssl.SSLContext | bool = bool(settings.verify_tls)
    connector = aiohttp.TCPConnector(
        limit=settings.max_connections, ssl=ssl_setting, ttl_dns_cache=300
    )
    return aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        headers={"User-Agent": USER_AGENT},
    )


class GenesysClient:
    def __init__(
        self,
        settings: GenesysSettings,
        *,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.settings = settings
        self.hosts: GenesysHosts = resolve_hosts(settings)
        self.stats = ClientStats()
        self.gate = PacingGate(
            per_minute=settings.paced_per_minute,
            burst=settings.rate_limit_burst,
            live_reserve=settings.live_reserve,
        )
        self._session = session
        self._owns_session = session is None
        self._transport: ApiTransport | None = None

    # -- lifecycle ---------------------------------------------------------------
    async def __aenter__(self) -> GenesysClient:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def start(self) -> ApiTransport:
        """Create the session and token manager (idempotent; call inside the event loop)."""
        if self._transport is None:
            if self._session is None:
                self._session = make_session(self.settings)
            tokens = TokenManager(self._session, self.hosts.token_url, self.settings)
            self._transport = ApiTransport(
                self._session, self.hosts, tokens, self.gate, self.settings, stats=self.stats
            )
        return self._transport

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None
        self._transport = None

    @property
    def session(self) -> aiohttp.ClientSession:
        return self.start().session

    @property
    def tokens(self) -> TokenManager:
        return self.start().tokens

    # -- generic -----------------------------------------------------------------
    async def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        what: str | None = None,
    ) -> ApiResponse:
        return await self.start().request(
            method, path_or_url, params=params, json_body=json_body, what=what
        )

    async def request_json(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        what: str | None = None,
    ) -> Any:
        """An API call's parsed JSON body (None for an empty body)."""
        response = await self.request(
            method, path_or_url, params=params, json_body=json_body, what=what
        )
        return response.body

    async def _get_dict(self, path: str, what: str, params: Mapping[str, str] | None = None) -> Any:
        body = await self.request_json("GET", path, params=params, what=what)
        if not isinstance(body, dict):
            raise MalformedAnswer(f"{what}: expected a JSON object, got {type(body).__name__}")
        return body

    # -- messaging -----------------------------------------------------------------
    async def get_message_conversation(self, conversation_id: str) -> dict[str, Any]:
        path = f"{CONVERSATIONS}/messages/{_seg(conversation_id)}"
        result: dict[str, Any] = await self._get_dict(path, "get message conversation")
        return result

    async def get_message(self, conversation_id: str, message_id: str) -> dict[str, Any]:
        """``MessageData``: the message with ``normalizedMessage`` and fresh attachment URLs."""
        path = f"{CONVERSATIONS}/messages/{_seg(conversation_id)}/messages/{_seg(message_id)}"
        result: dict[str, Any] = await self._get_dict(path, "get message")
        return result

    async def get_messages_bulk(
        self, conversation_id: str, message_ids: list[str]
    ) -> dict[str, Any]:
        """``TextMessageListing`` (``entities[]`` of MessageData) for several messages."""
        path = f"{CONVERSATIONS}/messages/{_seg(conversation_id)}/messages/bulk"
        body = await self.request_json(
            "POST",
            path,
            params={"useNormalizedMessage": "true"},
            json_body=list(message_ids),
            what="get messages in bulk",
        )
        if not isinstance(body, dict):
            raise MalformedAnswer("get messages in bulk: expected a JSON object")
        return body

    # -- the API budget ----------------------------------------------------------------
    async def get_api_limit_per_minute(self) -> float | None:
        """The org's requests-per-minute limit per token, or None when not listed.

        ``LimitsEntityListing`` of namespace ``platform.api``; the key name
        (``client.credentials.token.rate.per.minute``) is the one the 429 ErrorBody names,
        not verified against a real org: unknown keys leave the configured budget."""
        body = await self._get_dict(
            "/api/v2/organizations/limits/namespaces/platform.api", "get the org's API limits"
        )
        for entity in body.get("entities") or []:
            if not isinstance(entity, dict):
                continue
            value = entity.get("value")
            if entity.get("key") == API_LIMIT_KEY and isinstance(value, int | float) and value > 0:
                return float(value)
        return None

    # -- external contacts (consent) --------------------------------------------------
    async def get_external_contact(self, contact_id: str) -> dict[str, Any]:
        """``ExternalContact`` with ``customFields``; needs ``externalContacts:contact:view``."""
        result: dict[str, Any] = await self._get_dict(
            f"/api/v2/externalcontacts/contacts/{_seg(contact_id)}", "get external contact"
        )
        return result

    # -- calls, recordings, transcripts --------------------------------------------
    async def get_conversation(self, conversation_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._get_dict(
            f"{CONVERSATIONS}/{_seg(conversation_id)}", "get conversation"
        )
        return result

    async def get_recordings(
        self, conversation_id: str, format_id: str = "WAV", max_wait_ms: int = 5000
    ) -> RecordingsAnswer:
        response = await self.request(
            "GET",
            f"{CONVERSATIONS}/{_seg(conversation_id)}/recordings",
            params={"formatId": format_id, "maxWaitMs": str(max_wait_ms)},
            what="get recordings",
        )
        if response.status == 202:
            items = response.body if isinstance(response.body, list) else []
            dicts = [r for r in items if isinstance(r, dict)]
            return RecordingsAnswer(ready=False, recordings=dicts)
        if response.body is None:
            return RecordingsAnswer(ready=True, recordings=[])
        if not isinstance(response.body, list):
            raise MalformedAnswer("get recordings: expected a JSON list")
        return RecordingsAnswer(
            ready=True, recordings=[r for r in response.body if isinstance(r, dict)]
        )

    async def get_recording(
        self, conversation_id: str, recording_id: str, format_id: str = "WAV"
    ) -> RecordingAnswer:
        response = await self.request(
            "GET",
            f"{CONVERSATIONS}/{_seg(conversation_id)}/recordings/{_seg(recording_id)}",
            params={"formatId": format_id},
            what="get recording",
        )
        body = response.body if isinstance(response.body, dict) else None
        if response.status == 202:
            return RecordingAnswer(ready=False, recording=body)
        if body is None:
            raise MalformedAnswer("get recording: expected a JSON object")
        return RecordingAnswer(ready=True, recording=body)

    async def submit_recording_batch(self, entries: list[tuple[str, str | None]]) -> str:
        """Submit a batch download job (``BatchDownloadJobSubmission``, at most 100 entries:
        ``(conversationId, recordingId)``, or ``(conversationId, None)`` for every recording
        of the conversation); its id. Needs ``recording:recording:view``."""
        body = await self.request_json(
            "POST",
            "/api/v2/recording/batchrequests",
            json_body={
                "batchDownloadRequestList": [
                    {"conversationId": c} if r is None else {"conversationId": c, "recordingId": r}
                    for c, r in entries
                ]
            },
            what="submit recording batch",
        )
        job_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(job_id, str) or not job_id:
            raise MalformedAnswer("submit recording batch: the answer has no id")
        return job_id

    async def get_recording_batch(self, job_id: str) -> dict[str, Any]:
        """``BatchDownloadJobStatusResult``: ``status``, ``expectedResultCount``,
        ``resultCount`` and ``results[]`` (``resultUrl`` or ``errorMsg`` per recording)."""
        result: dict[str, Any] = await self._get_dict(
            f"/api/v2/recording/batchrequests/{_seg(job_id)}", "get recording batch"
        )
        return result

    async def get_transcript_url(self, conversation_id: str, communication_id: str) -> str:
        """The pre-signed URL of a communication's transcript (fetch it without the token)."""
        path = (
            f"/api/v2/speechandtextanalytics/conversations/{_seg(conversation_id)}"
            f"/communications/{_seg(communication_id)}/transcripturl"
        )
        body = await self._get_dict(path, "get transcript url")
        url = body.get("url")
        if not isinstance(url, str) or not url:
            raise NotFound("get transcript url: the answer has no url")
        return url

    async def analytics_conversation_details_query(self, body: dict[str, Any]) -> dict[str, Any]:
        result = await self.request_json(
            "POST",
            "/api/v2/analytics/conversations/details/query",
            json_body=body,
            what="analytics conversation details query",
        )
        return result if isinstance(result, dict) else {}

    # -- downloads -----------------------------------------------------------------
    async def resolve_download(self, download_url: str) -> str:
        """A Downloads API link (``/api/v2/downloads/{id}``) -> its signed URL.

        Asked with ``issueRedirect=false`` so the answer is ``{"url": ...}`` and no
        redirect can carry the token. A gone download (404/410) is ``UrlExpired``: the
        caller re-reads the message for a new link.
        """
        try:
            body = await self._get_dict(
                download_url, "resolve download", params={"issueRedirect": "false"}
            )
        except NotFound as exc:
            raise UrlExpired(f"download link is gone: {exc}") from exc
        url = body.get("url")
        if not isinstance(url, str) or not url:
            raise MalformedAnswer("resolve download: the answer has no url")
        return url
