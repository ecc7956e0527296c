"""Prometheus metrics, and the same counters read back for the demo's summary."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

# every name starts with media_bridge_ (the standard process_* and python_* collectors
# aside); no <name>_created series beside each counter
disable_created_metrics()  # type: ignore[no-untyped-call]

#: the names of the standard collectors (process CPU, memory, open files; Python; GC)
STANDARD_PREFIXES = ("process_", "python_")


def new_registry() -> CollectorRegistry:
    """A registry with the standard process and Python collectors on it."""
    registry = CollectorRegistry(auto_describe=True)
    for standard in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        registry.register(standard)
    return registry


#: the bridge's metrics (``run``, ``replay``, ``demo``)
REGISTRY = new_registry()

EVENTS_IN = Counter(
    "media_bridge_events_total", "Events received, by outcome", ["outcome"], registry=REGISTRY
)
TOPICS = Counter(
    "media_bridge_topics_total", "Parsed events by topic family", ["family"], registry=REGISTRY
)
JOBS_PLANNED = Counter(
    "media_bridge_jobs_planned_total", "Jobs newly recorded", ["kind"], registry=REGISTRY
)
JOBS_FINISHED = Counter(
    "media_bridge_jobs_finished_total",
    "Job runs by kind and outcome",
    ["kind", "outcome"],
    registry=REGISTRY,
)
JOBS_CLAIMED = Counter(
    "media_bridge_jobs_claimed_total",
    "Job runs started, by priority class (live, deferred, backfill): live jobs are claimed first",
    ["priority"],
    registry=REGISTRY,
)
JOBS_PROMOTED = Counter(
    "media_bridge_jobs_promoted_total",
    "Waiting backfill or deferred jobs that a live event (or a live job) named again: now live",
    registry=REGISTRY,
)
JOBS_IN_FLIGHT = Gauge(
    "media_bridge_jobs_in_flight", "Jobs running in this process", registry=REGISTRY
)
DELIVERED = Counter(
    "media_bridge_delivered_total", "Deliveries to sinks", ["kind", "media_type"], registry=REGISTRY
)
CLIP_VERDICTS = Counter(
    "media_bridge_clip_verdicts_total",
    "Normalised clips by job kind, quality verdict and action "
    "(delivered, or diverted by audio.below_gate: hold_local, drop)",
    ["kind", "quality", "action"],
    registry=REGISTRY,
)
CONSENT_VERDICTS = Counter(
    "media_bridge_consent_verdicts_total",
    "Consent checks by job kind and verdict (granted, not_checked, refused, held)",
    ["kind", "verdict"],
    registry=REGISTRY,
)
CONSENT_READS = Counter(
    "media_bridge_consent_reads_total",
    "Platform API reads made to find a consent verdict, by source",
    ["source"],
    registry=REGISTRY,
)
PURGED = Counter(
    "media_bridge_ledger_purged_total",
    "Ledger rows shrunk to tombstones or deleted by retention (what: tombstoned, "
    "done_deleted, rejected_deleted)",
    ["what"],
    registry=REGISTRY,
)
FORGOTTEN = Counter(
    "media_bridge_forgotten_total",
    "What an erasure removed (what: jobs, speech_rows, files, nlp_lines)",
    ["what"],
    registry=REGISTRY,
)
INTAKE_UNAUTHORIZED = Counter(
    "media_bridge_intake_unauthorized_total",
    "Intake requests refused with 401 (a misconfigured EventBridge connection)",
    registry=REGISTRY,
)
URL_REFRESHES = Counter(
    "media_bridge_url_refreshes_total",
    "Stale media URLs re-resolved through the API",
    registry=REGISTRY,
)
RECORDING_BATCH = Counter(
    "media_bridge_recording_batch_total",
    "Recordings by how the batch download path settled them: served (delivered from a batch "
    "resultUrl) or fallback_<reason> (read one by one: missing, error, several, format, "
    "stale, below_min, failed, timeout); backfilled calls: conversations_resolved (one "
    "{conversationId} entry, no listing) or conversations_listed_<reason> (incomplete, "
    "missing, error, below_min, failed, timeout), calls_from_analytics or calls_read",
    ["outcome"],
    registry=REGISTRY,
)
RECORDING_BATCH_REQUESTS = Counter(
    "media_bridge_recording_batch_requests_total",
    "Platform API requests of the recording batch path (submit, poll)",
    ["request"],
    registry=REGISTRY,
)
BYTES = Counter("media_bridge_downloaded_bytes_total", "Media bytes downloaded", registry=REGISTRY)
NOTIFICATION_FRAMES = Counter(
    "media_bridge_notification_frames_total",
    "Notifications WebSocket frames by kind (event, heartbeat, socket_closing, junk)",
    ["kind"],
    registry=REGISTRY,
)
NOTIFICATION_GAPS = Counter(
    "media_bridge_notification_gaps_total",
    "Intervals without a connected Notifications socket, by reason (start, reconnect, "
    "renewal, sweep)",
    ["reason"],
    registry=REGISTRY,
)
NOTIFICATION_GAP_BACKFILLS = Counter(
    "media_bridge_notification_gap_backfills_total",
    "Gap backfills run, by reason and outcome (ok, failed: retried)",
    ["reason", "outcome"],
    registry=REGISTRY,
)
NOTIFICATION_GAP_JOBS = Counter(
    "media_bridge_notification_gap_jobs_total",
    "Jobs a gap backfill planned that the ledger did not hold",
    registry=REGISTRY,
)
NOTIFICATION_RECONNECTS = Counter(
    "media_bridge_notification_reconnects_total",
    "Notifications sockets reopened, by cause (closed, socket_closing, silence, error, "
    "channel_gone)",
    ["cause"],
    registry=REGISTRY,
)
NOTIFICATION_TOPICS = Counter(
    "media_bridge_notification_topic_changes_total",
    "Notifications topics subscribed, dropped, or left out for want of room "
    "(action: subscribed, dropped, unplaced)",
    ["action"],
    registry=REGISTRY,
)
DETAIL_TYPE_MISMATCH = Counter(
    "media_bridge_detail_type_mismatch_total",
    "EventBridge envelopes whose detail-type does not match detail.topicName",
    registry=REGISTRY,
)
LATENCY = Histogram(
    "media_bridge_event_to_delivery_seconds",
    "From the event's receipt to the delivery of its job",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
    registry=REGISTRY,
)

INTAKE_REFUSED = Counter(
    "media_bridge_intake_refused_total",
    "Intake requests refused other than 401 (too_large, too_many_events, slow_body, "
    "unparseable, ledger_unavailable); 401s are media_bridge_intake_unauthorized_total",
    ["reason"],
    registry=REGISTRY,
)
#: read from the ledger at scrape time (media_bridge.operations.bridge)
JOBS = Gauge("media_bridge_jobs", "Jobs in the ledger by state", ["state"], registry=REGISTRY)
OLDEST_DUE = Gauge(
    "media_bridge_oldest_due_job_age_seconds",
    "How long the oldest pending or retry job has been due (0 when none is)",
    registry=REGISTRY,
)
DEAD_JOBS = Gauge(
    "media_bridge_dead_jobs", "Dead jobs in the ledger by error code", ["code"], registry=REGISTRY
)
LEDGER_UP = Gauge(
    "media_bridge_ledger_up",
    "1 when the last scrape-time read of the ledger answered, else 0",
    registry=REGISTRY,
)
READINESS = Gauge(
    "media_bridge_readiness_check",
    "1 when the readiness check passed at the last /readyz, else 0",
    ["check"],
    registry=REGISTRY,
)
AUDIO_SECONDS = Histogram(
    "media_bridge_audio_processing_seconds",
    "Audio normalisation (normalize) and stereo splits (split), by step",
    ["step"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
SINK_SECONDS = Histogram(
    "media_bridge_sink_delivery_seconds",
    "One delivery to a sink, by sink name and outcome (ok, error)",
    ["sink", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)


def counter_value(counter: Counter, **labels: str) -> float:
    """Current value of a counter (summed over label sets not given)."""
    total = 0.0
    for metric in counter.collect():
        for sample in metric.samples:
            if not sample.name.endswith("_total"):
                continue
            if all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


class GenesysClientCollector:
    """Exports a Genesys client's plain counters (kept as ints on its hot path) at scrape time."""

    def __init__(self, client: Any, fetcher: Any) -> None:
        self._client = client
        self._fetcher = fetcher

    def collect(self) -> Iterator[Metric]:
        yield from _request_metrics(self._client.stats)
        yield from _pacing_metrics(self._client.gate)
        yield from _token_metrics(self._client.tokens)
        yield from _budget_metrics(self._client.gate)
        yield CounterMetricFamily(
            "media_bridge_media_retries",
            "media downloads retried in-call",
            value=self._fetcher.retries,
        )


def _request_metrics(stats: Any) -> Iterator[Metric]:
    """API answers by status, requests by endpoint family, 429s and in-call retries."""
    by_status = CounterMetricFamily(
        "media_bridge_genesys_responses",
        "Genesys API answers by HTTP status",
        labels=["status"],
    )
    for status, count in sorted(stats.by_status.items()):
        by_status.add_metric([str(status)], count)
    yield by_status
    by_family = CounterMetricFamily(
        "media_bridge_genesys_requests",
        "Platform API requests sent (retries included), by endpoint family",
        labels=["family"],
    )
    for name, count in sorted(stats.by_family.items()):
        by_family.add_metric([name], count)
    yield by_family
    yield CounterMetricFamily(
        "media_bridge_genesys_rate_limited",
        "429 answers from the Genesys API",
        value=stats.rate_limited,
    )
    yield CounterMetricFamily(
        "media_bridge_genesys_retries", "Genesys API calls retried in-call", value=stats.retries
    )


def _token_metrics(tokens: Any) -> Iterator[Metric]:
    yield CounterMetricFamily(
        "media_bridge_token_refreshes", "OAuth tokens obtained", value=tokens.refreshes
    )
    failures = CounterMetricFamily(
        "media_bridge_token_failures",
        "Token requests that failed, by error code "
        "(credentials_rejected, rate_limited, token_unreachable, token_malformed)",
        labels=["code"],
    )
    for code, count in sorted(tokens.failures.items()):
        failures.add_metric([code], count)
    yield failures


def _budget_metrics(gate: Any) -> Iterator[Metric]:
    """The pacing gate's budget and what it cost: waits, their time, 429 pauses."""
    yield GaugeMetricFamily(
        "media_bridge_api_budget_per_minute",
        "Platform API requests per minute the pacing gate allows (0 = not paced)",
        value=gate.per_minute or 0,
    )
    yield CounterMetricFamily(
        "media_bridge_api_budget_paced",
        "Requests that waited for the API budget",
        value=gate.paced,
    )
    yield CounterMetricFamily(
        "media_bridge_api_budget_wait_seconds",
        "Time requests spent waiting for the API budget",
        value=gate.waited_s,
    )
    yield CounterMetricFamily(
        "media_bridge_api_budget_pauses",
        "Times a 429 paused the pacing gate",
        value=gate.pauses,
    )


def _pacing_metrics(gate: Any) -> Iterator[Metric]:
    """What the pacer decided: waits by priority class, live requests sent first, and
    requests the live reserve held (``genesys.live_reserve``)."""
    from media_bridge.jobs.priority import label

    paced = CounterMetricFamily(
        "media_bridge_genesys_paced_requests",
        "Platform API requests that waited for the client's budget, by priority class",
        labels=["priority"],
    )
    waited = CounterMetricFamily(
        "media_bridge_genesys_paced_seconds",
        "Time those requests waited for the budget, summed, by priority class",
        labels=["priority"],
    )
    for level, count in sorted(gate.paced_by_class.items()):
        paced.add_metric([label(level)], count)
        waited.add_metric([label(level)], gate.waited_s_by_class.get(level, 0.0))
    yield paced
    yield waited
    yield CounterMetricFamily(
        "media_bridge_genesys_live_first",
        "Live requests sent ahead of waiting backfill or deferred ones",
        value=gate.live_first,
    )
    yield CounterMetricFamily(
        "media_bridge_genesys_held_by_live_reserve",
        "Backfill or deferred requests held longer than the budget alone would "
        "(genesys.live_reserve)",
        value=gate.held_by_reserve,
    )
