"""Optional parts of the bridge and the extras that install them.

A runtime-only install (``pip install genesys-media-bridge``) reads files and HTTP, keeps a
SQLite ledger and delivers to a folder or over HTTP. S3 and SQS need ``[aws]``, Kafka needs
``[kafka]``, a PostgreSQL ledger needs ``[postgres]``. ``require_extra`` is called before a
module that imports one of them is imported, so a missing extra is one line at start (a
``ConfigError`` naming the extra), not a traceback from deep inside a sink.
"""

from __future__ import annotations

import importlib.util

from media_bridge.errors import ConfigError

DISTRIBUTION = "genesys-media-bridge"

#: extra -> the top-level modules it installs (what ``require_extra`` looks for)
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "aws": ("aioboto3", "botocore"),
    "kafka": ("confluent_kafka",),
    "postgres": ("asyncpg",),
}


class MissingExtra(ConfigError):
    """A setting names an optional part whose extra is not installed."""


def missing_extra_line(what: str, extra: str) -> str:
    return f"{what} needs the {extra} extra: pip install '{DISTRIBUTION}[{extra}]'"


def extra_installed(extra: str) -> bool:
    return all(importlib.util.find_spec(module) is not None for module in EXTRA_MODULES[extra])


def require_extra(extra: str, what: str) -> None:
    """Raise ``MissingExtra`` (one line: ``what`` needs the extra, and how to install it)
    when a module of ``extra`` is not importable; looks, does not import."""
    if not extra_installed(extra):
        raise MissingExtra(missing_extra_line(what, extra))
