# One way to run each task. Everything below installs what it needs into
# .uv/ (the uv tool) and .venv/ (the project), from the committed uv.lock.
PYTHON ?= python3
UV_VERSION ?= 0.13.9
UV := .uv/bin/uv
VENV := .venv
RUN := $(UV) run --frozen

.PHONY: env demo test fuzz lint typecheck fmt bench schema config-docs promtool check-alerts clean container-tools container-test

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) pyproject.toml src/genesys_emulator/pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

env: $(VENV)/.synced

demo: env
	$(RUN) media-bridge demo

# In a fresh random order each run (pytest-randomly prints the seed; repeat an order with
# TEST_ARGS=--randomly-seed=N, or TEST_ARGS=--reverse for reversed order), with coverage
# and its floor (pyproject's [tool.coverage.report] fail_under).
test: env
	$(RUN) pytest --cov --cov-report=term $(TEST_ARGS)
	# the 1,000-attachment fleet runs (SQS and Kafka, 10 kills each) and every benchmark at its
	# smallest size: a few minutes more
	$(RUN) pytest -m slow tests/integration/scale tests/unit/test_bench_runner.py

# the long fuzz run: some 70,000 mutated events, stored by SQLite and PostgreSQL
fuzz: env
	$(RUN) pytest -m slow tests/unit/events/test_event_fuzz.py

lint: env
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: env
	$(RUN) mypy

fmt: env
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

bench: env
	$(RUN) python -m bench $(BENCH)

# podman and debootstrap (Debian's packages, as root) for the container image test, which
# `make test` skips without them
container-tools:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y podman debootstrap

# the container image built with podman from a local Debian root (tests/integration/deploy)
container-test: env
	$(RUN) pytest -p no:randomly -m container -s tests/integration/deploy/test_container_image.py

# the published JSON Schema of delivery metadata (a test keeps it current)
schema: env
	$(RUN) python -m scripts.delivery_schema

# docs/configuration.md from the settings models (a test keeps it current)
config-docs: env
	$(RUN) python -m media_bridge.config.reference > docs/configuration.md

# promtool (Debian's prometheus package, root needed): the alert-rules test then also runs
# `promtool check rules` (without it the test checks the rules' structure only)
promtool:
	command -v promtool >/dev/null || (apt-get update && apt-get install -y --no-install-recommends prometheus)

check-alerts: promtool
	promtool check rules deploy/prometheus/alerts.yml

clean:
	rm -rf .uv $(VENV) .mypy_cache .ruff_cache .pytest_cache
