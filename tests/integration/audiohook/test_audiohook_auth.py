"""Upgrade-request checks and RFC 9421 signatures over real sockets."""

from __future__ import annotations

import time

import pytest

from media_bridge.audiohook.client import ClientConfig, run_session
from tests.integration.audiohook.audiohook_it_helpers import API_KEY, SECRET, ServerFactory

pytestmark = pytest.mark.integration
NOW = 1_700_000_000


def cfg(uri: str, **kw: object) -> ClientConfig:
    c = ClientConfig(
        uri=uri,
        api_key=API_KEY,
        client_secret=SECRET,
        realtime=False,
        duration_s=0.4,
        initial_ping_delay_s=0.0,
        ping_interval_s=60,
    )
    for key, value in kw.items():
        setattr(c, key, value)
    return c


@pytest.mark.parametrize(
    ("changes", "label"),
    [
        ({"sign": {"created": NOW - 60, "expires": NOW + 60}}, "replayed-old"),
        ({"sign": {"created": NOW - 5, "expires": NOW - 1}}, "expired"),
        ({"sign": {"created": NOW + 60, "expires": NOW + 120}}, "future"),
        ({"client_secret": "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA=="}, "wrong-key"),
        ({"api_key": "unknown-key"}, "unknown-api-key"),
        ({"client_secret": None}, "unsigned-with-secret"),
        ({"sign": {"created": NOW, "expires": NOW + 60, "nonce": "too-short"}}, "short-nonce"),
        (
            {"extra_headers": {"Audiohook-Correlation-Id": "11111111-2222-4333-8444-555555555555"}},
            "tampered",
        ),
    ],
)
async def test_bad_requests_get_401_no_sooner_than_the_delay(
    audiohook_server: ServerFactory, changes: dict[str, object], label: str
) -> None:
    async with audiohook_server(auth_failure_delay_s=0.3, clock=lambda: NOW) as (server, uri, _):
        c = cfg(uri, **changes)
        if "sign" not in changes:
            c.sign = {"created": NOW, "expires": NOW + 60}
        started = time.monotonic()
        report = await run_session(c)
        elapsed = time.monotonic() - started
        assert report.http_status == 401, label
        assert elapsed >= 0.3
        assert server.stats["rejected"] == 1


async def test_good_signature_with_injected_clock_passes(audiohook_server: ServerFactory) -> None:
    async with audiohook_server(clock=lambda: NOW + 2) as (_, uri, _sink):
        report = await run_session(cfg(uri, sign={"created": NOW, "expires": NOW + 60}))
    assert report.ok, (report.violations, report.notes, report.http_status)


async def test_unsigned_key_without_secret_passes(audiohook_server: ServerFactory) -> None:
    async with audiohook_server() as (_, uri, _sink):
        report = await run_session(cfg(uri, api_key="unsigned-key", client_secret=None))
    assert report.ok, (report.violations, report.notes, report.http_status)


async def test_disconnect_mode_answers_unauthorized_after_upgrade(
    audiohook_server: ServerFactory,
) -> None:
    async with audiohook_server(auth_failure_mode="disconnect") as (_, uri, sink):
        report = await run_session(
            cfg(
                uri,
                client_secret="d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA==",
                expect_disconnect="unauthorized",
            )
        )
    assert report.ok, (report.violations, report.notes)
    assert [m["type"] for m in report.messages] == ["disconnect", "closed"]
    assert sink.items == []


async def test_org_header_must_match_open(audiohook_server: ServerFactory) -> None:
    async with audiohook_server() as (_, uri, _sink):
        report = await run_session(cfg(uri))
        assert report.ok  # the matching org passes
        c2 = cfg(uri, expect_disconnect="unauthorized", client_secret=None, api_key="unsigned-key")
        c2.extra_headers = {"Audiohook-Organization-Id": "11111111-2222-4333-8444-555555555555"}
        report2 = await run_session(c2)
    assert report2.disconnect == {
        "reason": "unauthorized",
        "info": 'Mismatch between "organizationId" open parameter and '
        '"audiohook-organization-id" header field',
    }


async def test_missing_headers_and_wrong_path(audiohook_server: ServerFactory) -> None:
    async with audiohook_server() as (_, uri, _sink):
        bad_session = await run_session(cfg(uri, extra_headers={"Audiohook-Session-Id": "nope"}))
        wrong_path = await run_session(cfg(uri.replace("/ws", "/other")))
    assert bad_session.http_status == 400
    assert wrong_path.http_status == 404
