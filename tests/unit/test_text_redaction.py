"""Redaction of text bound for NLP: what is masked, and what is left alone."""

from __future__ import annotations

from media_bridge.worker.handlers.text_redaction import luhn_ok, redact_personal_text


def test_phone_card_and_email_are_masked() -> None:
    text = "Call me on +44 7700 900123 or mail alex@example.com, card 4111 1111 1111 1111."
    assert redact_personal_text(text) == "Call me on [phone] or mail [email], card [card]."


def test_national_numbers_need_a_region() -> None:
    assert redact_personal_text("ring 07700 900123") == "ring 07700 900123"
    assert redact_personal_text("ring 07700 900123", "GB") == "ring [phone]"


def test_numbers_failing_the_luhn_check_stay() -> None:
    assert not luhn_ok("4111111111111112")
    assert redact_personal_text("order 4111 1111 1111 1112 shipped") == (
        "order 4111 1111 1111 1112 shipped"
    )
    assert redact_personal_text("on 2026-12-02 at 10:30") == "on 2026-12-02 at 10:30"
