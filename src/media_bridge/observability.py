"""Logging set-up: structlog with a redaction processor in front of every renderer."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from media_bridge.redact import redact_value


def _redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if key in {"event", "level", "timestamp", "logger"}:
            if key == "event" and isinstance(event_dict[key], str):
                event_dict[key] = redact_value("event", event_dict[key])
            continue
        event_dict[key] = redact_value(key, event_dict[key])
    return event_dict


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at write time.

    Binding the stream of the moment breaks as soon as that stream is swapped and
    closed (pytest's capture, a daemon's redirection): later lines would hit a closed file.
    """

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class _CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler on whatever ``sys.stderr`` is at write time (see ``_CurrentStderr``)."""

    def __init__(self) -> None:
        super().__init__(_CurrentStderr())


def _stdlib_handler(level: int, renderer: Any) -> logging.Handler:
    """Standard-library loggers (uvicorn, aiokafka, botocore, asyncio) rendered by structlog:
    in JSON mode every line is JSON, with the same context and redaction."""
    handler = _CurrentStderrHandler()
    handler.setLevel(level)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.contextvars.merge_contextvars,
                structlog.stdlib.add_logger_name,
                structlog.stdlib.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                _redact,
                renderer,
            ],
        )
    )
    handler._media_bridge = True  # type: ignore[attr-defined]
    return handler


def _route_stdlib(level: int, renderer: Any) -> None:
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_media_bridge", False):
            root.removeHandler(old)
    root.addHandler(_stdlib_handler(level, renderer))
    # other libraries' INFO lines (aiokafka, botocore) are noise: their warnings show;
    # the bridge's own standard-library loggers follow the level
    root.setLevel(max(level, logging.WARNING))
    logging.getLogger("media_bridge").setLevel(level)
    # uvicorn's loggers carry their own handlers (plain text): hand them to the root; a
    # ``dictConfig`` elsewhere in the process (uvicorn's own, a library's) may also have
    # disabled them or raised their level
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.disabled = False
        logger.setLevel(logging.NOTSET)


def configure_logging(level: str = "INFO", json: bool = False) -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    numeric = logging.getLevelName(level.upper())
    _route_stdlib(numeric, renderer)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            # tracebacks are rendered first so that their text is redacted too
            structlog.processors.format_exc_info,
            _redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),  # type: ignore[arg-type]
        # not cached: a cached logger keeps the processors of its first use, so a later
        # ``structlog.configure`` (a new log level) or ``capture_logs`` would miss it
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
