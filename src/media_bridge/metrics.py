"""Prometheus metrics, and the same counters read back for the demo's summary."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS_IN = Counter(
    "bridge_events_total", "Events received, by outcome", ["outcome"], registry=REGISTRY
)
TOPICS = Counter(
    "bridge_topics_total", "Parsed events by topic family", ["family"], registry=REGISTRY
)
JOBS_PLANNED = Counter(
    "bridge_jobs_planned_total", "Jobs newly recorded", ["kind"], registry=REGISTRY
)
JOBS_FINISHED = Counter(
    "bridge_jobs_finished_total",
    "Job runs by kind and outcome",
    ["kind", "outcome"],
    registry=REGISTRY,
)
JOBS_IN_FLIGHT = Gauge("bridge_jobs_in_flight", "Jobs running in this process", registry=REGISTRY)
DELIVERED = Counter(
    "bridge_delivered_total", "Deliveries to sinks", ["kind", "media_type"], registry=REGISTRY
)
URL_REFRESHES = Counter(
    "bridge_url_refreshes_total", "Stale media URLs re-resolved through the API", registry=REGISTRY
)
BYTES = Counter("bridge_downloaded_bytes_total", "Media bytes downloaded", registry=REGISTRY)
LATENCY = Histogram(
    "bridge_event_to_delivery_seconds",
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
