"""Recording batch downloads: one request resolves up to 100 recordings' URLs.

A coordinating step, not a job (GENESYS.md section 8). Recording jobs
``recording:{conv}:{rid}`` marked for the batch path ask the process's ``RecordingBatches``
for their URL: it gathers the pairs for ``voice.recording_batch_linger_s``, submits them
(``POST /api/v2/recording/batchrequests``, at most 100 a request), polls the job
(``GET .../{jobId}``) with backoff, paced like every Platform API request, and keeps each
result until its job runs again and takes it. The ledger keys stay the recording keys:
each recording is downloaded and delivered by its own job, once. A result that is missing,
carries an ``errorMsg``, is not audio or comes more than once (the API allows several
results per recording) settles as a fallback: that job reads its recording on its own.
The state is the process's: a job that runs again in another process, or after a restart,
asks again, so nothing is lost.

A backfilled conversation's job asks with ``ask_conversation``: the entry
``{conversationId}`` alone ("all recordings on the conversation", as the SDK's
``BatchDownloadRequest`` says) replaces the recordings listing. Its results become the
pairs' results (taken by the jobs it plans) and a ``ConversationResult`` naming them. A
conversation is trusted as complete only when the job's results match its
``expectedResultCount``: any result missing from the job, a conversation without results
or with an ``errorMsg`` not naming a recording settles as a fallback, and that job lists
the conversation as before (its recordings the batch did serve keep their results).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from media_bridge import metrics
from media_bridge.errors import BridgeError
from media_bridge.genesys import GenesysApi
from media_bridge.observability import get_logger
from media_bridge.voice.polling import next_batch_poll_s

log = get_logger(__name__)

#: the API's limit of ``batchDownloadRequestList`` entries per request
MAX_PER_REQUEST = 100
#: results nobody took (their job ran in another process, or gave up) are dropped after this
KEEP_S = 3600.0

Pair = tuple[str, str]
#: a batch entry: a pair, or ``(conversationId, None)`` for every recording of it
Entry = tuple[str, str | None]
Fallback = Literal[
    "missing",
    "error",
    "several",
    "format",
    "stale",
    "below_min",
    "failed",
    "timeout",
    "incomplete",
]
PENDING: Literal["pending"] = "pending"


@dataclass(frozen=True, slots=True)
class BatchResult:
    """A recording's batch result: a signed ``url`` (fetched without the token), or the
    ``fallback`` reason its job reads the recording on its own."""

    url: str | None
    content_type: str | None = None
    fallback: Fallback | None = None
    detail: str | None = None


def fallback(reason: Fallback, detail: str | None = None) -> BatchResult:
    return BatchResult(None, None, reason, detail)


def planned_fallback(reason: str) -> BatchResult:
    """The fallback a job's payload names (its conversation's batch left it out)."""
    known: tuple[Fallback, ...] = get_args(Fallback)
    return fallback(next((r for r in known if r == reason), "missing"), "planned so")


@dataclass(frozen=True, slots=True)
class ConversationResult:
    """A conversation entry's outcome: the recordings its results name (each one's result
    kept for its job), or the ``fallback`` reason its job lists the conversation instead."""

    recording_ids: tuple[str, ...] = ()
    fallback: Fallback | None = None
    detail: str | None = None


def _audio_type(content_type: str | None) -> bool:
    """The audio path decodes any audio container; an unknown type is tried (sniffed later)."""
    if not content_type:
        return True
    return content_type.split(";", 1)[0].strip().lower().startswith("audio/")


def _items(status: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in status.get("results") or [] if isinstance(i, dict)]


def _recording_id(item: dict[str, Any]) -> str | None:
    value = item.get("recordingId")
    return value if isinstance(value, str) and value else None


def _settle_pair(items: list[dict[str, Any]]) -> BatchResult:
    """One recording's result from the results naming it."""
    urls = [i for i in items if isinstance(i.get("resultUrl"), str) and i["resultUrl"]]
    if not items:
        return fallback("missing")
    if len(urls) > 1:  # several files for one recording: the per-recording read knows
        return fallback("several", f"{len(urls)} results")
    if not urls:
        return fallback("error", _error_message(items))
    if not _audio_type(urls[0].get("contentType")):
        return fallback("format", str(urls[0].get("contentType")))
    return BatchResult(urls[0]["resultUrl"], urls[0].get("contentType"))


def _error_message(items: list[dict[str, Any]]) -> str | None:
    message = next((i.get("errorMsg") for i in items if i.get("errorMsg")), None)
    return str(message)[:200] if message else None


def settle_results(pairs: list[Pair], status: dict[str, Any]) -> dict[Pair, BatchResult]:
    """Each requested pair's result from a completed job's ``results[]``."""
    found: dict[Pair, list[dict[str, Any]]] = {}
    for item in _items(status):
        pair = (str(item.get("conversationId")), str(item.get("recordingId")))
        found.setdefault(pair, []).append(item)
    return {pair: _settle_pair(found.get(pair, [])) for pair in pairs}


def _all_results(status: dict[str, Any]) -> bool:
    """Whether the job gave exactly the results it expected (``expectedResultCount``).
    More results than expected mean the count is not of results (it may count entries,
    or a recording came in several files): nothing proves a conversation complete."""
    expected = status.get("expectedResultCount")
    return isinstance(expected, int) and len(_items(status)) == expected


def settle_conversations(
    conversations: list[str], status: dict[str, Any]
) -> tuple[dict[str, ConversationResult], dict[Pair, BatchResult]]:
    """Each conversation entry's outcome, and the results of the recordings they name."""
    by_conversation: dict[str, list[dict[str, Any]]] = {}
    for item in _items(status):
        by_conversation.setdefault(str(item.get("conversationId")), []).append(item)
    complete = _all_results(status)
    outcomes: dict[str, ConversationResult] = {}
    pairs: dict[Pair, BatchResult] = {}
    for conv in conversations:
        items = by_conversation.get(conv, [])
        named: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            rid = _recording_id(item)
            if rid is not None:
                named.setdefault(rid, []).append(item)
        for rid, found in named.items():
            pairs[(conv, rid)] = _settle_pair(found)
        rids = tuple(sorted(named))
        if not items:
            outcomes[conv] = ConversationResult(fallback="missing")
        elif any(_recording_id(i) is None for i in items):
            unnamed = [i for i in items if _recording_id(i) is None]
            outcomes[conv] = ConversationResult(rids, "error", _error_message(unnamed))
        elif not complete:
            expected, got = status.get("expectedResultCount"), len(_items(status))
            detail = f"the job gave {got} of {expected} results"
            outcomes[conv] = ConversationResult(rids, "incomplete", detail)
        else:
            outcomes[conv] = ConversationResult(rids)
    return outcomes, pairs


def _completed(status: dict[str, Any]) -> bool:
    if str(status.get("status") or "").lower() == "completed":
        return True
    expected, got = status.get("expectedResultCount"), status.get("resultCount")
    return isinstance(expected, int) and isinstance(got, int) and expected > 0 and got >= expected


class RecordingBatches:
    """The process's batch coordinator (``HandlerContext.recording_batches``)."""

    def __init__(
        self,
        genesys: GenesysApi,
        *,
        linger_s: float,
        min_count: int,
        poll_initial_s: float,
        poll_max_s: float,
        max_wait_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.genesys = genesys
        self.linger_s = linger_s
        self.min_count = min_count
        self.poll_initial_s = poll_initial_s
        self.poll_max_s = poll_max_s
        self.max_wait_s = max_wait_s
        self._clock = clock
        self._queued: dict[Entry, None] = {}
        self._in_flight: set[Entry] = set()
        self._results: dict[Pair, tuple[float, BatchResult]] = {}
        self._conversations: dict[str, tuple[float, ConversationResult]] = {}
        self._noted: set[str] = set()
        self._flush: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        #: ``served``, ``fallback_<reason>``, ``submits``, ``polls``: for the summary
        self.counts: Counter[str] = Counter()

    def take(
        self, conversation_id: str, recording_id: str
    ) -> BatchResult | Literal["pending"] | None:
        """The pair's result (taken: once), ``PENDING`` while its batch runs, None if unasked."""
        pair = (conversation_id, recording_id)
        kept = self._results.pop(pair, None)
        if kept is not None:
            return kept[1]
        if pair in self._queued or pair in self._in_flight:
            return PENDING
        return None

    def ask(self, conversation_id: str, recording_id: str) -> None:
        """Queue the pair for the next batch (call inside the event loop)."""
        self._queue((conversation_id, recording_id))

    def take_conversation(
        self, conversation_id: str
    ) -> ConversationResult | Literal["pending"] | None:
        """The conversation entry's outcome (taken: once), ``PENDING``, or None if unasked."""
        kept = self._conversations.pop(conversation_id, None)
        if kept is not None:
            return kept[1]
        entry = (conversation_id, None)
        if entry in self._queued or entry in self._in_flight:
            return PENDING
        return None

    def ask_conversation(self, conversation_id: str) -> None:
        """Queue ``{conversationId}`` (every recording of it) for the next batch."""
        self._queue((conversation_id, None))

    def holds(self, conversation_id: str, recording_id: str) -> bool:
        """Whether a result waits for the pair (its job will take it)."""
        return (conversation_id, recording_id) in self._results

    def _queue(self, entry: Entry) -> None:
        self._queued[entry] = None
        if self._flush is None:
            self._flush = asyncio.create_task(self._flush_later())

    def note_once(self, event: str, **fields: Any) -> None:
        """Log a decision the first time this process makes it (later ones are counted)."""
        key = f"{event}:{sorted(fields.items())}"
        if key not in self._noted:
            self._noted.add(key)
            log.info(event, **fields)

    def count(self, outcome: str) -> None:
        """One recording settled (``served`` or ``fallback_<reason>``): summary and metric."""
        self.counts[outcome] += 1
        metrics.RECORDING_BATCH.labels(outcome=outcome).inc()

    async def close(self) -> None:
        """Cancel what is waiting (at shutdown the jobs are handed back and ask again)."""
        tasks = [*self._tasks, *([self._flush] if self._flush else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._queued.clear()
        self._in_flight.clear()

    async def _flush_later(self) -> None:
        try:
            await asyncio.sleep(self.linger_s)
        finally:
            self._flush = None
        entries = list(self._queued)
        self._queued.clear()
        self._prune()
        if len(entries) < self.min_count:
            log.info(
                "recording_batch.below_min",
                entries=len(entries),
                min_count=self.min_count,
                outcome="read one by one",
            )
            self._keep(
                {e: fallback("below_min") for e in _pairs(entries)},
                {c: ConversationResult(fallback="below_min") for c in _conversations(entries)},
            )
            return
        for start in range(0, len(entries), MAX_PER_REQUEST):
            chunk = entries[start : start + MAX_PER_REQUEST]
            self._in_flight.update(chunk)
            task = asyncio.create_task(self._run(chunk))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, chunk: list[Entry]) -> None:
        pairs, conversations = _pairs(chunk), _conversations(chunk)
        outcomes: dict[str, ConversationResult] = {}
        try:
            status = await self._resolve(chunk)
            if status is None:
                detail = "the batch job did not complete in time"
                settled = {p: fallback("timeout", detail) for p in pairs}
                outcomes = {c: ConversationResult(fallback="timeout") for c in conversations}
            else:
                settled = settle_results(pairs, status)
                outcomes, named = settle_conversations(conversations, status)
                settled.update(named)
        except BridgeError as exc:
            log.warning(
                "recording_batch.failed",
                entries=len(chunk),
                code=exc.code,
                outcome="read one by one",
            )
            settled = {p: fallback("failed", exc.code) for p in pairs}
            outcomes = {
                c: ConversationResult(fallback="failed", detail=exc.code) for c in conversations
            }
        finally:
            self._in_flight.difference_update(chunk)
        self._keep(settled, outcomes)
        reasons = Counter(r.fallback or "url" for r in settled.values())
        listed = Counter(o.fallback or "resolved" for o in outcomes.values())
        log.info(
            "recording_batch.completed",
            entries=len(chunk),
            results=dict(reasons),
            conversations=dict(listed),
        )

    async def _resolve(self, chunk: list[Entry]) -> dict[str, Any] | None:
        """The completed job's status, or None when it did not complete in time."""
        job_id = await self.genesys.submit_recording_batch(chunk)
        self.counts["submits"] += 1
        metrics.RECORDING_BATCH_REQUESTS.labels(request="submit").inc()
        deadline = self._clock() + self.max_wait_s
        delay = self.poll_initial_s
        while True:
            await asyncio.sleep(delay)
            status = await self.genesys.get_recording_batch(job_id)
            self.counts["polls"] += 1
            metrics.RECORDING_BATCH_REQUESTS.labels(request="poll").inc()
            if _completed(status):
                return status
            if self._clock() + delay > deadline:
                log.warning("recording_batch.timeout", job_id=job_id, outcome="read one by one")
                return None
            delay = next_batch_poll_s(delay, self.poll_max_s)

    def _keep(
        self,
        settled: dict[Pair, BatchResult],
        outcomes: dict[str, ConversationResult] | None = None,
    ) -> None:
        now = self._clock()
        for pair, result in settled.items():
            self._results[pair] = (now, result)
        for conv, outcome in (outcomes or {}).items():
            self._conversations[conv] = (now, outcome)

    def _prune(self) -> None:
        old = self._clock() - KEEP_S
        for pair in [p for p, (at, _) in self._results.items() if at < old]:
            del self._results[pair]
        for conv in [c for c, (at, _) in self._conversations.items() if at < old]:
            del self._conversations[conv]


def _pairs(entries: list[Entry]) -> list[Pair]:
    return [(c, r) for c, r in entries if r is not None]


def _conversations(entries: list[Entry]) -> list[str]:
    return [c for c, r in entries if r is None]
