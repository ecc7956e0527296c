"""The job ledger: ``ledger_from_url`` picks the backend from ``LedgerSettings.url``.

- ``sqlite:///relative/path.db`` and ``sqlite:////absolute/path.db`` (and ``sqlite:///:memory:``
  for tests); query options ``durable_adds=0`` and ``max_attempts=N``.
- ``postgresql://`` / ``postgres://``: the backend lives in ``media_bridge.ledger.postgres``
  and exposes ``ledger_from_url(url: str) -> Ledger`` or a ``PostgresLedger(url)`` class; it is
  imported on first use (asyncpg, the ``postgres`` extra, stays optional), and if it is
  missing the URL is refused with one line naming the extra. Other backends can
  ``register_backend`` a factory.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from urllib.parse import parse_qs, unquote, urlsplit

from media_bridge.errors import ConfigError
from media_bridge.extras import extra_installed, missing_extra_line
from media_bridge.ledger.base import Ledger, LedgerDataError, SpeechTotals
from media_bridge.ledger.sqlite import SqliteLedger

__all__ = [
    "Ledger",
    "LedgerDataError",
    "LedgerUrlError",
    "SpeechTotals",
    "SqliteLedger",
    "known_schemes",
    "ledger_from_url",
    "register_backend",
]


class LedgerUrlError(ConfigError):
    """The ledger URL names no usable backend."""


_BACKENDS: dict[str, Callable[[str], Ledger]] = {}
#: schemes served by a module imported on first use: scheme -> module
_LAZY_BACKENDS = {
    "postgresql": "media_bridge.ledger.postgres",
    "postgres": "media_bridge.ledger.postgres",
}


def register_backend(scheme: str, factory: Callable[[str], Ledger]) -> None:
    _BACKENDS[scheme.lower()] = factory


def known_schemes() -> set[str]:
    """The URL schemes a ledger can be built for (registered and lazily imported)."""
    return set(_BACKENDS) | set(_LAZY_BACKENDS)


def _flag(value: str) -> bool:
    return value.lower() not in {"0", "false", "no", "off"}


def sqlite_ledger_from_url(url: str) -> SqliteLedger:
    parts = urlsplit(url)
    if parts.netloc:
        raise LedgerUrlError(
            f"sqlite ledger URL {url!r}: use sqlite:///relative/path.db or sqlite:////abs/path.db"
        )
    path = unquote(parts.path)
    # sqlite:///x.db -> path "/x.db" (relative x.db); sqlite:////abs.db -> "//abs.db" (/abs.db)
    path = path[1:] if path.startswith("/") else path
    if not path:
        raise LedgerUrlError(f"sqlite ledger URL {url!r} has no file path")
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(options) - {"durable_adds", "max_attempts"}
    if unknown:
        raise LedgerUrlError(f"sqlite ledger URL: unknown option(s) {sorted(unknown)}")
    max_attempts = options.get("max_attempts")
    return SqliteLedger(
        path,
        durable_adds=_flag(options.get("durable_adds", "1")),
        max_attempts=int(max_attempts) if max_attempts else None,
    )


register_backend("sqlite", sqlite_ledger_from_url)


def ledger_from_url(url: str) -> Ledger:
    """A (not yet opened) ledger for ``url``; raises LedgerUrlError naming the problem."""
    scheme = urlsplit(url).scheme.lower().split("+", 1)[0]
    if scheme not in _BACKENDS and scheme in _LAZY_BACKENDS:
        if not extra_installed("postgres"):
            raise LedgerUrlError(
                missing_extra_line(f"the {scheme} ledger (ledger.url)", "postgres")
                + " (or use sqlite:///path/to/ledger.db)"
            )
        try:
            module = importlib.import_module(_LAZY_BACKENDS[scheme])
        except ModuleNotFoundError as exc:
            if exc.name != _LAZY_BACKENDS[scheme]:
                raise
            raise LedgerUrlError(
                f"the {scheme} ledger is not part of this installation: "
                "use sqlite:///path/to/ledger.db"
            ) from None
        factory: Callable[[str], Ledger] | None = getattr(module, "ledger_from_url", None)
        if factory is None:
            factory = getattr(module, "PostgresLedger", None)
        if factory is None:
            raise LedgerUrlError(f"{module.__name__} offers no ledger_from_url or PostgresLedger")
        register_backend(scheme, factory)
        return factory(url)
    if scheme not in _BACKENDS:
        raise LedgerUrlError(
            f"unsupported ledger URL scheme {scheme!r}: use sqlite:///path/to/ledger.db"
        )
    return _BACKENDS[scheme](url)
