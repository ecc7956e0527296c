# The bridge's container image: runtime dependencies only (no development tools, no
# emulator), a non-root user, a health check on the operations port.
#
#   podman build -t media-bridge .                         # or docker build
#   podman build --build-arg EXTRAS=aws -t media-bridge .  # only the extras you use
#   podman build --build-arg BASE_IMAGE=localhost/debian-python:bookworm ...  # a local base
#   podman build --target emulator -t genesys-emulator .   # the emulator (a local trial)
#
# BASE_IMAGE must have python3 (3.11+) with venv; both stages use it, so the venv built in
# the first runs unchanged in the second. EXTRAS: aws (S3, SQS), kafka, postgres (empty for
# the dir/HTTP sinks and a SQLite ledger only). Secrets: mount files and point the
# settings' *_FILE variants at them (MEDIA_BRIDGE_GENESYS__CLIENT_SECRET_FILE,
# MEDIA_BRIDGE_INTAKE__API_KEY_FILE, ...); never bake them into the image.
ARG BASE_IMAGE=docker.io/library/python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
LABEL genesys-media-bridge.stage="build"
ARG EXTRAS=aws,kafka,postgres
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src/media_bridge ./src/media_bridge
# pip's cache outlives the build (a rebuild downloads nothing new) and stays out of the image
RUN --mount=type=cache,target=/root/.cache/pip \
    python3 -m venv /opt/media-bridge \
    && /opt/media-bridge/bin/pip install --quiet ".${EXTRAS:+[$EXTRAS]}" \
    && /opt/media-bridge/bin/pip uninstall --quiet --yes pip setuptools \
    && find /opt/media-bridge -name __pycache__ -prune -exec rm -rf {} + \
    && /opt/media-bridge/bin/python -m compileall -q /opt/media-bridge/lib

# The Genesys Cloud emulator, for a local trial (deploy/compose.yaml): --target emulator
FROM ${BASE_IMAGE} AS emulator
LABEL genesys-media-bridge.stage="emulator"
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
COPY src/genesys_emulator /src/genesys_emulator
RUN --mount=type=cache,target=/root/.cache/pip \
    python3 -m venv /opt/genesys-emulator \
    && /opt/genesys-emulator/bin/pip install --quiet /src/genesys_emulator \
    && rm -rf /src
ENV PATH=/opt/genesys-emulator/bin:$PATH PYTHONUNBUFFERED=1
USER 65534:65534
ENTRYPOINT ["genesys-emulator"]
CMD ["--host", "0.0.0.0"]

# The bridge (the default target)
FROM ${BASE_IMAGE} AS runtime
LABEL genesys-media-bridge.stage="runtime"
RUN groupadd --system --gid 10001 bridge \
    && useradd --system --uid 10001 --gid bridge --home-dir /data --no-create-home bridge \
    && mkdir -p /data \
    && chown bridge:bridge /data \
    && chmod 0750 /data
COPY --from=build /opt/media-bridge /opt/media-bridge
ENV PATH=/opt/media-bridge/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MEDIA_BRIDGE_INTAKE__HOST=0.0.0.0 \
    MEDIA_BRIDGE_INTAKE__PORT=8080 \
    MEDIA_BRIDGE_OPERATIONS__HOST=0.0.0.0 \
    MEDIA_BRIDGE_OPERATIONS__PORT=9108 \
    MEDIA_BRIDGE_LEDGER__URL=sqlite:////data/ledger.db \
    MEDIA_BRIDGE_SINKS__DIR_PATH=/data/out \
    MEDIA_BRIDGE_SINKS__TEXT_PATH=/data/nlp.jsonl \
    MEDIA_BRIDGE_LOG_JSON=true
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
# 8080: the intake (EventBridge API destination; put TLS in front, docs/deployment.md)
# 9108: the operations port (/healthz, /readyz, /metrics; keep it private)
EXPOSE 8080 9108
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9108/healthz', timeout=4)"]
ENTRYPOINT ["media-bridge"]
CMD ["run", "--source", "http"]
