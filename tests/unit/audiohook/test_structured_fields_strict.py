"""RFC 8941 cases the parser once accepted (from the public structured-field test suite)."""

from __future__ import annotations

import pytest

from media_bridge.audiohook.structured_fields import (
    Item,
    StructuredFieldError,
    parse_dictionary,
    serialize_bare_item,
)


@pytest.mark.parametrize(
    "text",
    [
        "\ta=1",  # leading tab
        "a=1\x0b",  # trailing control character
        "\x1fa=1",  # leading control character
        "a=1.5555",  # a decimal with four fractional digits
        "a=1234567890123.0",  # a decimal with thirteen integer digits
        "a=1234567890123456",  # an integer with sixteen digits
        "a=1.",  # a decimal without fractional digits
        "a=-",  # a sign without digits
    ],
)
def test_must_fail_cases_fail(text: str) -> None:
    with pytest.raises(StructuredFieldError):
        parse_dictionary(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [("a=1.5", 1.5), ("a=-0.25", -0.25), ("a=123456789012.123", 123456789012.123), ("a=42", 42)],
)
def test_numbers_parse(text: str, value: float) -> None:
    member = parse_dictionary(text)["a"]
    assert isinstance(member, Item)
    assert member.value == value


def test_surrounding_spaces_are_allowed() -> None:
    assert "a" in parse_dictionary("  a=1, b=2  ")


def test_decimals_serialise_with_at_most_three_digits() -> None:
    assert serialize_bare_item(1.5) == "1.5"
    assert serialize_bare_item(2.0) == "2.0"
    assert serialize_bare_item(0.1236) == "0.124"
