"""The client's policy over real sockets against scripted servers."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web
from structlog.testing import capture_logs

from media_bridge.errors import (
    MalformedAnswer,
    MalformedToken,
    NotFound,
    PermissionMissing,
    RateLimited,
    TokenRefused,
    TokenUnreachable,
    Transient,
)
from media_bridge.genesys.auth import CredentialsRejected
from media_bridge.genesys.client import GenesysClient
from media_bridge.genesys.regions import HostNotAllowed
from tests.integration.genesys.genesys_fakes import FakeGenesys, unauthorized

pytestmark = pytest.mark.integration
MESSAGE = "/api/v2/conversations/messages/c1/messages/m{}"


async def test_fifty_concurrent_calls_share_one_token_request(
    fake: FakeGenesys, client: GenesysClient
) -> None:
    fake.token_delay = 0.05  # all fifty arrive while the first token is in flight
    results = await asyncio.gather(*(client.get_message("c1", f"m{i}") for i in range(50)))
    assert [r["id"] for r in results] == [f"m{i}" for i in range(50)]
    assert len(fake.login.seen) == 1
    assert {s.authorization for s in fake.api.seen} == {"Bearer tok-1"}


async def test_fifty_401s_at_once_cause_exactly_one_refresh(
    fake: FakeGenesys, client: GenesysClient
) -> None:
    await client.get_message("c1", "m0")
    fake.revoke_all()  # the token died server-side (expiry, rotation)
    fake.token_delay = 0.05
    results = await asyncio.gather(*(client.get_message("c1", f"m{i}") for i in range(50)))
    assert len(results) == 50
    assert fake.issued == ["tok-1", "tok-2"]
    assert client.stats.unauthorized == 50
    assert client.tokens.refreshes == 2


async def test_token_is_refreshed_before_expiry_clamped_for_short_lifetimes(
    fake: FakeGenesys,
) -> None:
    fake.token_lifetime = 1  # margin 300 s is clamped to 0.5 s
    async with GenesysClient(fake.settings()) as client:
        await client.get_message("c1", "m0")
        await client.get_message("c1", "m1")
        assert fake.issued == ["tok-1"]
        deadline = time.monotonic() + 5
        while len(fake.issued) < 2 and time.monotonic() < deadline:
            await client.get_message("c1", "m2")
            await asyncio.sleep(0.05)
        assert fake.issued == ["tok-1", "tok-2"]
    assert client.stats.unauthorized == 0  # refreshed early, never used a dead token


async def test_bad_credentials_fail_fast_and_are_not_retried(fake: FakeGenesys) -> None:
    async with GenesysClient(fake.settings(client_secret="wrong")) as client:
        results = await asyncio.gather(
            *(client.get_message("c1", f"m{i}") for i in range(10)), return_exceptions=True
        )
        assert all(isinstance(r, CredentialsRejected) for r in results)
        # waited on and retried by the worker, unlike a missing permission (errors.py)
        first = results[0]
        assert isinstance(first, CredentialsRejected)
        assert first.retryable
        assert not isinstance(first, PermissionMissing)
        assert "invalid_client" in str(first)
        with pytest.raises(CredentialsRejected):
            await client.get_message("c1", "m1")
    assert len(fake.login.seen) == 1
    assert fake.api.seen == []


async def test_missing_permission_is_named(fake: FakeGenesys, client: GenesysClient) -> None:
    async def forbidden(_: web.Request) -> web.Response:
        return web.json_response(
            {
                "status": 403,
                "code": "missing.any.permissions",
                "message": "You must have at least one of the following permissions assigned: "
                "[conversation:message:view, conversation:webmessaging:view]",
            },
            status=403,
            headers={"ININ-Correlation-Id": "corr-42"},
        )

    fake.api.on("GET", r"/api/v2/conversations/messages/c9/messages/.*", forbidden)
    with pytest.raises(PermissionMissing) as info:
        await client.get_message("c9", "m1")
    assert info.value.permissions == [
        "conversation:message:view",
        "conversation:webmessaging:view",
    ]
    assert info.value.any_of
    assert "corr-42" in str(info.value)
    assert len([s for s in fake.api.seen if "/c9/" in s.path]) == 1  # not retried


async def test_not_found_and_plain_403_are_not_found(
    fake: FakeGenesys, client: GenesysClient
) -> None:
    async def not_authorized(_: web.Request) -> web.Response:
        return web.json_response({"code": "not.authorized", "status": 403}, status=403)

    fake.api.on("GET", "/api/v2/conversations/c403", not_authorized)
    with pytest.raises(NotFound):
        await client.get_conversation("c404")
    with pytest.raises(NotFound, match=r"not\.authorized"):
        await client.get_conversation("c403")


async def test_429_pauses_the_whole_client(fake: FakeGenesys, client: GenesysClient) -> None:
    state = {"limited_at": 0.0, "count": 0}

    async def limited(request: web.Request) -> web.Response:
        state["count"] += 1
        if state["count"] == 1:
            state["limited_at"] = time.monotonic()
            return web.json_response(
                {"code": "too.many.requests"}, status=429, headers={"Retry-After": "0.4"}
            )
        return web.json_response({"id": request.path.rsplit("/", 1)[-1]})

    fake.api.on("GET", r"/api/v2/conversations/[^/]+", limited)
    first = asyncio.create_task(client.get_conversation("a"))
    deadline = time.monotonic() + 5
    while not state["limited_at"] and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    others = await asyncio.gather(*(client.get_conversation(f"b{i}") for i in range(10)))
    assert (await first)["id"] == "a"
    assert len(others) == 10
    later = [s.at for s in fake.api.seen if s.path.startswith("/api/v2/conversations/")][1:]
    assert len(later) == 11
    # nothing was sent during the pause, by the limited caller or anyone else
    assert min(later) - state["limited_at"] >= 0.35
    assert client.stats.rate_limited == 1


async def test_endless_429_surfaces_rate_limited(fake: FakeGenesys) -> None:
    async def limited(_: web.Request) -> web.Response:
        return web.json_response({}, status=429, headers={"Retry-After": "0.01"})

    fake.api.on("GET", "/api/v2/conversations/x", limited)
    async with GenesysClient(fake.settings(max_attempts=3)) as client:
        with pytest.raises(RateLimited) as info:
            await client.get_conversation("x")
    assert info.value.retry_after == pytest.approx(0.01)
    assert len(fake.api.seen) == 3

    async def long_wait(_: web.Request) -> web.Response:
        return web.json_response({}, status=429, headers={"Retry-After": "120"})

    fake.api.on("GET", "/api/v2/conversations/y", long_wait)
    async with GenesysClient(fake.settings()) as client:
        with pytest.raises(RateLimited) as info:
            await client.get_conversation("y")
        assert info.value.retry_after == 120  # handed to the ledger, not waited out here
        assert client.gate.paused_for > 100


async def test_5xx_and_dropped_connections_are_retried(
    fake: FakeGenesys, client: GenesysClient
) -> None:
    calls = {"n": 0}

    async def flaky(request: web.Request) -> web.StreamResponse:
        calls["n"] += 1
        if calls["n"] == 1:
            return web.json_response({"code": "service.unavailable"}, status=503)
        if calls["n"] == 2:
            assert request.transport is not None
            request.transport.close()  # drop the connection mid-request
            return web.Response()
        if calls["n"] == 3:
            response = web.StreamResponse(headers={"Content-Length": "100"})
            response.content_type = "application/json"
            await response.prepare(request)
            await response.write(b'{"id": "trunc')  # truncated body
            assert request.transport is not None
            request.transport.close()
            return response
        return web.json_response({"id": "ok"})

    fake.api.on("GET", "/api/v2/conversations/f", flaky)
    assert (await client.get_conversation("f"))["id"] == "ok"
    assert calls["n"] == 4
    # aiohttp itself re-sends an idempotent request once when a reused keep-alive
    # connection drops before the answer; the 503 and the truncated body are ours
    assert client.stats.retries >= 2


async def test_persistent_5xx_is_transient(fake: FakeGenesys) -> None:
    async def down(_: web.Request) -> web.Response:
        return web.json_response({"code": "service.unavailable"}, status=503)

    fake.api.on("GET", "/api/v2/conversations/d", down)
    async with GenesysClient(fake.settings(max_attempts=3)) as client:
        with pytest.raises(Transient, match="503"):
            await client.get_conversation("d")
    assert len(fake.api.seen) == 3


async def test_a_login_host_down_says_token_unreachable(fake: FakeGenesys) -> None:
    async def down(_: web.Request) -> web.Response:
        return web.json_response({"error": "temporarily_unavailable"}, status=503)

    fake.login.on("POST", "/oauth/token", down)
    async with GenesysClient(fake.settings()) as client:
        with pytest.raises(TokenUnreachable, match="503") as info:
            await client.get_message("c1", "m1")
        assert (info.value.code, info.value.retryable) == ("token_unreachable", True)
        assert client.tokens.failures == {"token_unreachable": len(fake.login.seen)}
    assert fake.api.seen == []


async def test_a_200_without_a_token_says_token_malformed(fake: FakeGenesys) -> None:
    async def proxy_page(_: web.Request) -> web.Response:
        return web.Response(text="<html>sign in to the proxy</html>", content_type="text/html")

    fake.login.on("POST", "/oauth/token", proxy_page)
    async with GenesysClient(fake.settings()) as client:
        with pytest.raises(MalformedToken) as info:
            await client.get_message("c1", "m1")
        assert (info.value.code, info.value.retryable) == ("token_malformed", True)
        assert set(client.tokens.failures) == {"token_malformed"}


async def test_a_401_right_after_a_refresh_says_token_rejected(
    fake: FakeGenesys, client: GenesysClient
) -> None:
    async def refuses_every_token(_: web.Request) -> web.Response:
        return unauthorized()

    fake.api.on("GET", "/api/v2/conversations/r", refuses_every_token)
    with pytest.raises(TokenRefused) as info:
        await client.get_conversation("r")
    assert (info.value.code, info.value.retryable) == ("token_rejected", True)
    assert fake.issued == ["tok-1", "tok-2"]  # refreshed once, then gave up


async def test_a_2xx_that_is_not_json_says_malformed_answer(fake: FakeGenesys) -> None:
    async def not_json(_: web.Request) -> web.Response:
        return web.Response(text="<html>maintenance</html>", content_type="text/html")

    fake.api.on("GET", "/api/v2/conversations/h", not_json)
    async with GenesysClient(fake.settings(max_attempts=2)) as client:
        with pytest.raises(MalformedAnswer, match="not JSON") as info:
            await client.get_conversation("h")
    assert (info.value.code, info.value.retryable) == ("malformed_answer", True)
    assert len(fake.api.seen) == 2


async def test_token_never_goes_to_a_foreign_host(fake: FakeGenesys, client: GenesysClient) -> None:
    with pytest.raises(HostNotAllowed):
        await client.request_json("GET", f"{fake.foreign.url}/api/v2/conversations/x")
    with pytest.raises(HostNotAllowed):  # the login host takes credentials, never the token
        await client.request_json("GET", f"{fake.login.url}/api/v2/conversations/x")
    assert fake.foreign.seen == []
    assert all(s.path == "/oauth/token" for s in fake.login.seen)


async def test_ids_cannot_add_path_segments(fake: FakeGenesys, client: GenesysClient) -> None:
    with pytest.raises(NotFound):
        await client.get_message("c1/../../x", "m1")
    assert fake.api.seen[-1].raw_path == (
        "/api/v2/conversations/messages/c1%2F..%2F..%2Fx/messages/m1"
    )


async def test_endpoints_send_the_documented_requests(
    fake: FakeGenesys, client: GenesysClient
) -> None:
    async def bulk(request: web.Request) -> web.Response:
        if not fake.bearer_ok(request):
            return unauthorized()
        ids = await request.json()
        return web.json_response({"entities": [{"id": i} for i in ids]})

    transcoding = {"n": 0}

    async def recordings(request: web.Request) -> web.Response:
        transcoding["n"] += 1
        if transcoding["n"] == 1:
            return web.Response(status=202)
        return web.json_response([{"id": "r1", "mediaUris": {"S": {"mediaUri": "u"}}}])

    async def transcript(_: web.Request) -> web.Response:
        return web.json_response({"url": "https://s3.example/t.json?X-Amz-Signature=x"})

    async def query(request: web.Request) -> web.Response:
        return web.json_response({"conversations": [], "echo": await request.json()})

    fake.api.on("POST", "/api/v2/conversations/messages/c1/messages/bulk", bulk)
    fake.api.on("GET", "/api/v2/conversations/c1/recordings", recordings)
    fake.api.on("GET", r"/api/v2/speechandtextanalytics/conversations/c1/.*", transcript)
    fake.api.on("POST", "/api/v2/analytics/conversations/details/query", query)

    listing = await client.get_messages_bulk("c1", ["m1", "m2"])
    assert [e["id"] for e in listing["entities"]] == ["m1", "m2"]
    post = next(s for s in fake.api.seen if s.path.endswith("/bulk"))
    assert post.query == {"useNormalizedMessage": "true"}

    first = await client.get_recordings("c1")
    assert not first.ready
    second = await client.get_recordings("c1", format_id="OGG_OPUS", max_wait_ms=100)
    assert second.ready
    assert second.recordings[0]["id"] == "r1"
    rec_calls = [s for s in fake.api.seen if s.path.endswith("/recordings")]
    assert rec_calls[-1].query == {"formatId": "OGG_OPUS", "maxWaitMs": "100"}

    assert (await client.get_transcript_url("c1", "k1")).startswith("https://s3.example/")
    answer = await client.analytics_conversation_details_query({"interval": "x"})
    assert answer["echo"] == {"interval": "x"}


async def test_logs_carry_no_token_or_signature(fake: FakeGenesys, client: GenesysClient) -> None:
    async def limited(_: web.Request) -> web.Response:
        return web.json_response({}, status=503)

    fake.api.on("GET", "/api/v2/conversations/logme", limited)
    with capture_logs() as logs:
        await client.get_message("c1", "m1")
        with pytest.raises(Transient):
            await client.get_conversation("logme")
    assert logs
    text = repr(logs)
    assert "tok-1" not in text
    assert "s3cret" not in text


async def test_a_cancelled_waiter_does_not_cancel_the_shared_refresh(
    fake: FakeGenesys, client: GenesysClient
) -> None:
    fake.token_delay = 0.2
    first = asyncio.create_task(client.tokens.get_token())
    second = asyncio.create_task(client.tokens.get_token())
    deadline = time.monotonic() + 5
    while not fake.login.seen and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    first.cancel()
    assert await second == "tok-1"
    assert first.cancelled()
    assert len(fake.login.seen) == 1
