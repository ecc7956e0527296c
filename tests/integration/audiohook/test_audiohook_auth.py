"""Upgrade-request checks and RFC 9421 signatures over real sockets."""

from __future__ import annotations

import asyncio
import time

import pytest

from media_bridge.audiohook.client import ClientConfig, run_session
from tests.integration.audiohook.audiohook_it_helpers import (
    API_KEY,
    SECRET,
    ServerFactory,
    wait_for,
)

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


async def test_a_replayed_signature_is_refused_within_its_window(
    audiohook_server: ServerFactory,
) -> None:
    # the same signed upgrade (same nonce) was accepted three times within its window
    nonce = "n" * 32
    sign = {"created": NOW, "expires": NOW + 60, "nonce": nonce}
    async with audiohook_server(auth_failure_delay_s=0.0, clock=lambda: NOW + 1) as (
        server,
        uri,
        _sink,
    ):
        first = await run_session(cfg(uri, sign=sign))
        replayed = await run_session(cfg(uri, sign=sign))
        fresh = await run_session(cfg(uri, sign={**sign, "nonce": "m" * 32}))
    assert first.ok, (first.violations, first.http_status)
    assert replayed.http_status == 401
    assert fresh.ok, (fresh.violations, fresh.http_status)
    assert server.stats["rejected"] == 1


async def test_a_second_connection_for_a_live_session_id_is_refused(
    audiohook_server: ServerFactory,
) -> None:
    # two live connections with one session id had their audio mixed into one file
    async with audiohook_server() as (server, uri, sink):
        live = cfg(uri, realtime=True, duration_s=3.0)
        task = asyncio.create_task(run_session(live))
        await wait_for(lambda: live.session_id in server.sessions)
        second = await run_session(cfg(uri, session_id=live.session_id))
        first = await task
    assert second.http_status == 409
    assert first.ok, (first.violations, first.http_status)
    assert len(sink.of(live.session_id, "final")) == 1
