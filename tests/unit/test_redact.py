from media_bridge.redact import redact_text, redact_url


def test_signed_url_loses_its_query() -> None:
    url = "https://api-downloads.mypurecloud.ie/MediaCache/x.ogg?Expires=1&Signature=abc&Key-Pair-Id=K"
    assert redact_url(url) == "https://api-downloads.mypurecloud.ie/MediaCache/x.ogg?[redacted]"


def test_bearer_token_in_text_is_redacted() -> None:
    text = "GET failed: Authorization: Bearer eyJhbGciOi.abc-def"
    assert "eyJhbGciOi" not in redact_text(text)
