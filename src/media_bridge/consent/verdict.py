"""A consent verdict: ``granted``, ``refused``, ``unknown`` (not recorded yet), or
``not_checked`` (``consent.mode=off``), with where it came from and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from media_bridge.consent.settings import ConsentSettings

VerdictName = Literal["granted", "refused", "unknown", "not_checked"]


@dataclass(frozen=True, slots=True)
class Verdict:
    verdict: VerdictName
    #: event | conversation | external_contact | audiohook | hold_timeout | setting
    source: str
    checked_at: str

    @property
    def allows_delivery(self) -> bool:
        return self.verdict in ("granted", "not_checked")

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "source": self.source, "checked_at": self.checked_at}

    @classmethod
    def of(cls, verdict: VerdictName, source: str) -> Verdict:
        return cls(verdict, source, datetime.now(UTC).isoformat())


NOT_CHECKED_SOURCE = "setting"


def not_checked() -> Verdict:
    return Verdict.of("not_checked", NOT_CHECKED_SOURCE)


def from_value(value: Any, settings: ConsentSettings, source: str) -> Verdict:
    """A recorded answer -> a verdict; a missing or unexpected value is ``unknown``."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str | int | float):
        text = str(value).strip().lower()
    else:
        return Verdict.of("unknown", source)
    if text in settings.granted_values:
        return Verdict.of("granted", source)
    if text in settings.refused_values:
        return Verdict.of("refused", source)
    return Verdict.of("unknown", source)
