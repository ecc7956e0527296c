"""An unreachable PostgreSQL ledger: each reconnect attempt is logged, the command ends in
one line (no traceback) naming the ledger without its password."""

from __future__ import annotations

import os

import pytest
from structlog.testing import capture_logs

from media_bridge import cli


def test_unreachable_postgres_logs_each_attempt_and_ends_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in list(os.environ):
        if name.upper().startswith("MEDIA_BRIDGE_"):
            monkeypatch.delenv(name)
    url = "postgresql://bridge:hunter2@127.0.0.1:1/bridge?reconnect_s=1"
    with capture_logs() as logs:
        code = cli.main(["jobs", "--ledger", url, "counts"])
    assert code == 1
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("media-bridge: the PostgreSQL ledger postgresql://")
    assert "did not answer within 1 s" in lines[0]
    assert "hunter2" not in err
    attempts = [e for e in logs if e["event"] == "ledger.reconnect"]
    assert len(attempts) >= 2
    assert [e["attempt"] for e in attempts] == list(range(1, len(attempts) + 1))
    assert all(e["operation"] == "connect" and e["error"] for e in attempts)
