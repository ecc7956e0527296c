"""Prometheus metrics, and the same counters read back for the demo's summary."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, Metric

# every name starts with media_bridge_; no <name>_created series beside each counter
disable_created_metrics()  # type: ignore[no-untyped-call]

REGISTRY = CollectorRegistry(auto_describe=True)

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
LATENCY = Histogram(
    "media_bridge_event_to_delivery_seconds",
    "From the event's receipt to the delivery of its job",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
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
        stats = self._client.stats
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
        yield CounterMetricFamily(
            "media_bridge_token_refreshes",
            "OAuth tokens obtained",
            value=self._client.tokens.refreshes,
        )
        yield CounterMetricFamily(
            "media_bridge_media_retries",
            "media downloads retried in-call",
            value=self._fetcher.retries,
        )
