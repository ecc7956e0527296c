"""Each hand-written piece a maintained library covers says, in its module docstring, why
it is kept and which library it declined (issue 11): a reader must not have to guess."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "media_bridge"

#: module (relative to src/media_bridge) -> the libraries its docstring must weigh
DECLINED: dict[str, tuple[str, ...]] = {
    "audiohook/structured_fields.py": ("http_sfv",),
    "audiohook/signature.py": ("http-message-signatures",),
    "genesys/pacing.py": ("aiolimiter",),
    "retry.py": ("tenacity", "backoff"),
    "config/__init__.py": ("pydantic-settings", "secrets_dir"),
    "ledger/pg_migrate.py": ("Alembic", "yoyo-migrations"),
    "audio/wavio.py": ("wave",),
    "audiohook/codec.py": ("AudioResampler", "soxr"),
}


@pytest.mark.parametrize("module", sorted(DECLINED))
def test_the_module_docstring_says_why_it_is_hand_written(module: str) -> None:
    doc = ast.get_docstring(ast.parse((SRC / module).read_text(encoding="utf-8"))) or ""
    assert "hand-written" in doc.lower(), module
    missing = [name for name in DECLINED[module] if name not in doc]
    assert not missing, f"{module} does not weigh {missing}"
