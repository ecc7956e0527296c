"""Which attachment ``mediaType``s the bridge fetches: one decision for every planner.

``fetch.media_types`` lists them; ``all`` or ``*`` (any case), or an empty list, means
every type. The message-event path and the messaging-recording path both ask here, so
``["*"]`` cannot mean everything on one path and nothing on the other.
"""

from __future__ import annotations

from collections.abc import Iterable

#: the settings words for "every media type"
EVERY = frozenset({"all", "*"})


def wanted_media_types(values: Iterable[str]) -> frozenset[str] | None:
    """``fetch.media_types`` as a filter: lower-cased names, or None for every type."""
    wanted = frozenset(v.strip().lower() for v in values if v.strip())
    if not wanted or wanted & EVERY:
        return None
    return wanted


def is_wanted(media_type: str, wanted: frozenset[str] | None) -> bool:
    """Whether an attachment of ``media_type`` is fetched under ``wanted``."""
    return wanted is None or media_type.strip().lower() in wanted
