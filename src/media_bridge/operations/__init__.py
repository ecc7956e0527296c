"""The operations port (/healthz, /readyz, /metrics) and what `run` puts on it."""
