"""Logs never carry tokens or signed URLs, tracebacks included."""

from __future__ import annotations

import io
import sys

import pytest
from structlog.testing import capture_logs

from media_bridge.observability import configure_logging, get_logger


def test_tracebacks_and_fields_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", json=True)
    try:
        log = get_logger("test")
        try:
            raise ValueError(
                "GET https://s3.example/a.ogg?Signature=SECRETSIG failed: Bearer eyJTOK"
            )
        except ValueError:
            log.exception("boom", url="https://x.example/y?X-Amz-Signature=SIG2", token="t0k")
        err = capsys.readouterr().err
    finally:
        configure_logging("WARNING")
    assert "boom" in err
    assert "ValueError" in err
    for secret in ("SECRETSIG", "eyJTOK", "SIG2", "t0k"):
        assert secret not in err


def test_logging_survives_the_stream_it_was_configured_under_being_closed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stream swapped in at configure time and closed later must not break logging."""
    temporary = io.StringIO()
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stderr", temporary)
        configure_logging("WARNING")
    temporary.close()
    get_logger("test").warning("after the swap", n=1)
    assert "after the swap" in capsys.readouterr().err


def test_a_logger_used_before_reconfiguration_follows_the_new_configuration() -> None:
    """Loggers are module globals used long before a test or a reload changes the processors."""
    configure_logging("WARNING")
    log = get_logger("test")
    log.warning("warm-up")
    configure_logging("WARNING")  # a second configuration: a new processor list
    with capture_logs() as logs:
        log.warning("after", n=2)
    assert [entry["event"] for entry in logs] == ["after"]


def test_standard_library_lines_are_json_with_the_context(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """uvicorn's and other libraries' loggers go through structlog: one JSON object a line,
    with the bound context and the redaction."""
    import json
    import logging

    import structlog

    configure_logging("INFO", json=True)
    try:
        with structlog.contextvars.bound_contextvars(key="text:c1:m1"):
            logging.getLogger("uvicorn.error").warning(
                "GET https://s3.example/a.ogg?Signature=SECRETSIG"
            )
            logging.getLogger("media_bridge.intake.sources.sqs").info("polling")
        lines = capsys.readouterr().err.splitlines()
    finally:
        configure_logging("WARNING")
    parsed = [json.loads(line) for line in lines if line.strip()]
    assert [p["logger"] for p in parsed] == ["uvicorn.error", "media_bridge.intake.sources.sqs"]
    assert all(p["key"] == "text:c1:m1" for p in parsed)
    assert "SECRETSIG" not in lines[0]


def test_uvicorn_lines_still_arrive_after_another_dictconfig_disabled_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The suite failed in one random order: a ``dictConfig`` with
    ``disable_existing_loggers`` elsewhere in the process had disabled ``uvicorn.error``."""
    import json
    import logging
    import logging.config

    logging.getLogger("uvicorn.error")
    existing = [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.disabled
    ]
    logging.config.dictConfig({"version": 1, "disable_existing_loggers": True})
    configure_logging("INFO", json=True)
    try:
        logging.getLogger("uvicorn.error").warning("after a dictConfig")
        lines = capsys.readouterr().err.splitlines()
    finally:
        for logger in existing:  # the other tests' loggers as they were
            logger.disabled = False
        configure_logging("WARNING")
    assert [json.loads(line)["event"] for line in lines if line.strip()] == ["after a dictConfig"]
