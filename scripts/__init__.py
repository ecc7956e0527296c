"""Helper scripts: infrastructure for tests and benchmarks (``python -m scripts.infra``)."""
