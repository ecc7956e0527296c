"""Optional redaction of text bound for NLP: phone numbers, payment card numbers, e-mail
addresses. Off by default (``nlp.redact``); works offline: ``phonenumbers`` carries its
metadata, the rest are patterns (cards only when the Luhn check passes, so order numbers
and dates stay)."""

from __future__ import annotations

import re

import phonenumbers

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
PHONE = "[phone]"
CARD = "[card]"
EMAIL = "[email]"


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _cards(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return CARD if 13 <= len(digits) <= 19 and luhn_ok(digits) else match.group(0)

    return _CARD.sub(replace, text)


def _phones(text: str, region: str | None) -> str:
    spans = [
        (m.start, m.end)
        # ZZ: + numbers only; POSSIBLE rather than VALID: a number in a range the metadata
        # calls unassigned is still somebody's number to a redactor
        for m in phonenumbers.PhoneNumberMatcher(
            text, region or "ZZ", leniency=phonenumbers.Leniency.POSSIBLE
        )
    ]
    for start, end in reversed(spans):
        text = f"{text[:start]}{PHONE}{text[end:]}"
    return text


def redact_personal_text(text: str, region: str | None = None) -> str:
    """Cards first (a card number can look like a phone number), then e-mails and phones."""
    return _phones(_EMAIL.sub(EMAIL, _cards(text)), region)


def redacted_record(record: dict[str, object], region: str | None) -> dict[str, object]:
    """An NLP record with its ``text`` and ``decorated_text`` redacted."""
    out = dict(record)
    for field in ("text", "decorated_text"):
        value = out.get(field)
        if isinstance(value, str):
            out[field] = redact_personal_text(value, region)
    return out
