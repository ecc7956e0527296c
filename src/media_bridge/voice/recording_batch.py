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
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from media_bridge import metrics
from media_bridge.errors import BridgeError
from media_bridge.genesys import GenesysClient
from media_bridge.observability import get_logger

log = get_logger(__name__)

#: the API's limit of ``batchDownloadRequestList`` entries per request
MAX_PER_REQUEST = 100
#: results nobody took (their job ran in another process, or gave up) are dropped after this
KEEP_S = 3600.0

Pair = tuple[str, str]
Fallback = Literal[
    "missing", "error", "several", "format", "stale", "below_min", "failed", "timeout"
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


def _audio_type(content_type: str | None) -> bool:
    """The audio path decodes any audio container; an unknown type is tried (sniffed later)."""
    if not content_type:
        return True
    return content_type.split(";", 1)[0].strip().lower().startswith("audio/")


def settle_results(pairs: list[Pair], status: dict[str, Any]) -> dict[Pair, BatchResult]:
    """Each requested pair's result from a completed job's ``results[]``."""
    found: dict[Pair, list[dict[str, Any]]] = {}
    for item in status.get("results") or []:
        if not isinstance(item, dict):
            continue
        pair = (str(item.get("conversationId")), str(item.get("recordingId")))
        found.setdefault(pair, []).append(item)
    settled: dict[Pair, BatchResult] = {}
    for pair in pairs:
        items = found.get(pair, [])
        urls = [i for i in items if isinstance(i.get("resultUrl"), str) and i["resultUrl"]]
        if not items:
            settled[pair] = fallback("missing")
        elif len(urls) > 1:  # several files for one recording: the per-recording read knows
            settled[pair] = fallback("several", f"{len(urls)} results")
        elif not urls:
            message = next((i.get("errorMsg") for i in items if i.get("errorMsg")), None)
            settled[pair] = fallback("error", str(message)[:200] if message else None)
        elif not _audio_type(urls[0].get("contentType")):
            settled[pair] = fallback("format", str(urls[0].get("contentType")))
        else:
            settled[pair] = BatchResult(urls[0]["resultUrl"], urls[0].get("contentType"))
    return settled


def _completed(status: dict[str, Any]) -> bool:
    if str(status.get("status") or "").lower() == "completed":
        return True
    expected, got = status.get("expectedResultCount"), status.get("resultCount")
    return isinstance(expected, int) and isinstance(got, int) and expected > 0 and got >= expected


class RecordingBatches:
    """The process's batch coordinator (``BridgeContext.recording_batches``)."""

    def __init__(
        self,
        genesys: GenesysClient,
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
        self._queued: dict[Pair, None] = {}
        self._in_flight: set[Pair] = set()
        self._results: dict[Pair, tuple[float, BatchResult]] = {}
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
        self._queued[(conversation_id, recording_id)] = None
        if self._flush is None:
            self._flush = asyncio.create_task(self._flush_later())

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
        pairs = list(self._queued)
        self._queued.clear()
        self._prune()
        if len(pairs) < self.min_count:
            log.info(
                "recording_batch.below_min",
                recordings=len(pairs),
                min_count=self.min_count,
                outcome="read one by one",
            )
            self._keep({p: fallback("below_min") for p in pairs})
            return
        for start in range(0, len(pairs), MAX_PER_REQUEST):
            chunk = pairs[start : start + MAX_PER_REQUEST]
            self._in_flight.update(chunk)
            task = asyncio.create_task(self._run(chunk))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, chunk: list[Pair]) -> None:
        try:
            settled = await self._resolve(chunk)
        except BridgeError as exc:
            log.warning(
                "recording_batch.failed",
                recordings=len(chunk),
                code=exc.code,
                outcome="read one by one",
            )
            settled = {p: fallback("failed", exc.code) for p in chunk}
        finally:
            self._in_flight.difference_update(chunk)
        self._keep(settled)
        reasons = Counter(r.fallback or "url" for r in settled.values())
        log.info("recording_batch.completed", recordings=len(chunk), results=dict(reasons))

    async def _resolve(self, chunk: list[Pair]) -> dict[Pair, BatchResult]:
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
                return settle_results(chunk, status)
            if self._clock() + delay > deadline:
                return {p: fallback("timeout", f"job {job_id} not complete") for p in chunk}
            delay = min(self.poll_max_s, delay * 2)

    def _keep(self, settled: dict[Pair, BatchResult]) -> None:
        now = self._clock()
        for pair, result in settled.items():
            self._results[pair] = (now, result)

    def _prune(self) -> None:
        old = self._clock() - KEEP_S
        for pair in [p for p, (at, _) in self._results.items() if at < old]:
            del self._results[pair]
