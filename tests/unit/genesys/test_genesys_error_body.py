import json

import pytest

from media_bridge.errors import BadInput, NotFound, PermissionMissing, Transient
from media_bridge.genesys.error_body import (
    error_for_status,
    parse_error_body,
    permissions_named,
)
from media_bridge.retry import parse_retry_after


def _body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def test_missing_permissions_from_message_text() -> None:
    info = parse_error_body(
        403,
        _body(
            code="missing.permissions",
            status=403,
            message="Unable to perform the requested action. You are missing the following "
            "permission(s): [recording:recording:view, speechAndTextAnalytics:data:view]",
        ),
        "corr-1",
    )
    error = error_for_status(info, "get transcript url")
    assert isinstance(error, PermissionMissing)
    assert error.permissions == ["recording:recording:view", "speechAndTextAnalytics:data:view"]
    assert not error.any_of
    text = str(error)
    assert "recording:recording:view and speechAndTextAnalytics:data:view" in text
    assert "OAuth" in text
    assert "Roles" in text
    assert "corr-1" in text


def test_missing_any_permissions_from_message_params() -> None:
    info = parse_error_body(
        403,
        _body(
            code="missing.any.permissions",
            message="You must have at least one of the following permissions assigned: [{0}]",
            messageParams={"0": "conversation:message:view, conversation:webmessaging:view"},
        ),
    )
    error = error_for_status(info, "get message")
    assert isinstance(error, PermissionMissing)
    assert error.any_of
    assert error.permissions == ["conversation:message:view", "conversation:webmessaging:view"]
    assert "conversation:message:view or conversation:webmessaging:view" in str(error)


def test_permission_code_on_a_404_is_still_a_permission_error() -> None:
    info = parse_error_body(404, _body(code="missing.permissions", message="[a:b:c]"))
    assert isinstance(error_for_status(info, "x"), PermissionMissing)


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (403, _body(code="not.authorized", message="You are not authorized"), NotFound),
        (404, _body(code="not.found"), NotFound),
        (410, b"", NotFound),
        (503, b"<html>down</html>", Transient),
        (504, _body(code="request.timeout"), Transient),
        (400, _body(code="bad.request", message="bad id"), BadInput),
    ],
)
def test_status_mapping(status: int, body: bytes, kind: type[Exception]) -> None:
    error = error_for_status(parse_error_body(status, body), "call")
    assert type(error) is kind
    assert f"HTTP {status}" in str(error)


def test_non_json_body_is_tolerated() -> None:
    info = parse_error_body(403, b"<html>Forbidden</html>")
    assert info.code == ""
    assert info.status == 403
    assert permissions_named(info) == []


def test_signed_urls_in_error_messages_are_redacted() -> None:
    info = parse_error_body(400, _body(message="bad https://s3.x/y?Signature=SECRET"))
    assert "SECRET" not in str(error_for_status(info, "call"))


def test_retry_after_parsing() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-4") == 0.0
    when = parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0)
    assert when == pytest.approx(10.0)
