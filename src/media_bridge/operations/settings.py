"""Settings of an operations port (``/healthz``, ``/readyz``, ``/metrics``): its own module
so that both ``config`` and ``audiohook.settings`` use it without importing each other."""

from __future__ import annotations

from pydantic import BaseModel, Field


class OperationsSettings(BaseModel):
    """The operations port of ``media-bridge run``: ``/healthz``, ``/readyz`` and
    ``/metrics``, kept off the intake port (which may face the internet for an
    EventBridge destination)."""

    #: address of the operations port (``/healthz``, ``/readyz``, ``/metrics``); 0.0.0.0
    #: in a container, so that probes reach it
    host: str = "127.0.0.1"
    #: 0 = no operations port
    port: int = Field(default=9108, ge=0, le=65535)
    #: a readiness check (ledger, token) that has not answered within this is failed
    check_timeout_s: float = Field(default=3.0, gt=0)


class AudioHookOperationsSettings(OperationsSettings):
    """The operations port of ``media-bridge audiohook``."""

    #: address of the AudioHook server's operations port (``/healthz``, ``/readyz``,
    #: ``/metrics``); 0.0.0.0 in a container
    host: str = "127.0.0.1"
    #: 0 = no operations port (``/healthz`` stays on the WebSocket port)
    port: int = Field(default=9109, ge=0, le=65535)
    #: a readiness check (listening, spool) that has not answered within this is failed
    check_timeout_s: float = Field(default=3.0, gt=0)
