"""Media downloads over real sockets: who gets the token, expiry, integrity, cleanup."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from aiohttp import web

from media_bridge.errors import Transient, UrlExpired
from media_bridge.fetch.download import RejectedMedia
from media_bridge.fetch.media import MediaFetcher
from media_bridge.genesys.client import GenesysClient
from tests.integration.genesys.genesys_fakes import VOICE, FakeGenesys

pytestmark = pytest.mark.integration


def leftovers(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir())


async def test_downloads_link_is_resolved_with_token_and_fetched_without(
    fake: FakeGenesys, client: GenesysClient, tmp_path: Path
) -> None:
    digest = fake.add_media("v1", VOICE)
    fetcher = MediaFetcher(client)
    done = await fetcher.fetch_media(
        f"{fake.api.url}/api/v2/downloads/v1",
        tmp_path,
        max_bytes=1 << 20,
        expected_sha256=digest,
        expected_size=len(VOICE),
        declared_mime="audio/ogg",
    )
    assert done.path.parent == tmp_path
    assert done.path.read_bytes() == VOICE
    assert (done.size, done.sha256) == (len(VOICE), digest)
    assert (done.sniffed_mime, done.sniffed_codec) == ("audio/ogg", "opus")
    resolve = next(s for s in fake.api.seen if s.path == "/api/v2/downloads/v1")
    assert resolve.authorization == "Bearer tok-1"
    assert resolve.query == {"issueRedirect": "false"}
    assert fake.storage.authorized() == [None]


async def test_signed_url_on_a_genesys_host_gets_no_token(
    fake: FakeGenesys, client: GenesysClient, tmp_path: Path
) -> None:
    async def media_cache(_: web.Request) -> web.Response:
        return web.Response(body=VOICE)

    fake.api.on("GET", "/MediaCache/.*", media_cache)
    url = f"{fake.api.url}/MediaCache/r1.ogg?Expires=99&Signature=s&Key-Pair-Id=k"
    done = await MediaFetcher(client).fetch_media(url, tmp_path, max_bytes=1 << 20)
    assert done.size == len(VOICE)
    assert [s.authorization for s in fake.api.seen if s.path.startswith("/MediaCache")] == [None]


async def test_redirect_never_carries_the_token(
    fake: FakeGenesys, client: GenesysClient, tmp_path: Path
) -> None:
    async def to_foreign(_: web.Request) -> web.Response:
        raise web.HTTPFound(f"{fake.foreign.url}/file.ogg")

    async def foreign_file(_: web.Request) -> web.Response:
        return web.Response(body=VOICE)

    fake.api.on("GET", "/api/v2/media/redirecting", to_foreign)
    fake.foreign.on("GET", "/file.ogg", foreign_file)
    done = await MediaFetcher(client).fetch_media(
        f"{fake.api.url}/api/v2/media/redirecting", tmp_path, max_bytes=1 << 20
    )
    assert done.size == len(VOICE)
    first = next(s for s in fake.api.seen if s.path == "/api/v2/media/redirecting")
    assert first.authorization == "Bearer tok-1"  # an API-host URL: token on the first hop
    assert fake.foreign.authorized() == [None]


async def test_foreign_url_never_gets_the_token(
    fake: FakeGenesys, client: GenesysClient, tmp_path: Path
) -> None:
    async def foreign_file(_: web.Request) -> web.Response:
        return web.Response(body=VOICE)

    fake.foreign.on("GET", "/api/v2/downloads/x", foreign_file)
    await client.get_message("c1", "m1")  # a token exists and is cached
    await MediaFetcher(client).fetch_media(
        f"{fake.foreign.url}/api/v2/downloads/x", tmp_path, max_bytes=1 << 20
    )
    assert fake.foreign.authorized() == [None]


async def test_expired_signed_url_is_url_expired(
    fake: FakeGenesys, client: GenesysClient, tmp_path: Path
) -> None:
    fake.add_media("old", VOICE)
    fake.expired_media.add("old")
    with pytest.raises(UrlExpired):
        await MediaFetcher(client).fetch_media(fake.signed_url("old"), tmp_path, max_bytes=1 << 20)
    assert leftovers(tmp_path) == []


async def test_gone_download_link_is_url_expired(
    fake: FakeGenesys, client: GenesysClient, tmp_path: Path
) -> None:
    with pytest.raises(UrlExpired):
        await MediaFetcher(client).fetch_media(
            f"{fake.api.url}/api/v2/downloads/missing", tmp_path, max_bytes=1 << 20
        )


async def test_download_link_is_resolved_again_once_when_its_signed_url_went_stale(
    fake: FakeGenesys, client: GenesysClient, tmp_path: Path
) -> None:
    fake.add_media("v2", VOICE)
    served = {"n": 0}

    async def expiring(request: web.Request) -> web.Response:
        served["n"] += 1
        if served["n"] == 1:
            return web.Response(status=403, text="<Error>Request has expired</Error>")
        return web.Response(body=VOICE)

    fake.storage.on("GET", "/media/v2", expiring)
    done = await MediaFetcher(client).fetch_media(
        f"{fake.api.url}/api/v2/downloads/v2", tmp_path, max_bytes=1 << 20
    )
    assert done.size == len(VOICE)
    assert len([s for s in fake.api.seen if s.path == "/api/v2/downloads/v2"]) == 2


async def test_truncated_body_is_retried_then_transient(fake: FakeGenesys, tmp_path: Path) -> None:
    attempts = {"n": 0}

    async def truncated(request: web.Request) -> web.StreamResponse:
        attempts["n"] += 1
        response = web.StreamResponse(headers={"Content-Length": str(len(VOICE))})
        await response.prepare(request)
        await response.write(VOICE[:1000])
        assert request.transport is not None
        request.transport.close()
        return response

    async def whole(_: web.Request) -> web.Response:
        return web.Response(body=VOICE)

    fake.storage.on("GET", "/media/t1", truncated)
    async with GenesysClient(fake.settings(download_attempts=3)) as client:
        fetcher = MediaFetcher(client)
        with pytest.raises(Transient, match=r"truncated|broken off"):
            await fetcher.fetch_media(fake.signed_url("t1"), tmp_path, max_bytes=1 << 20)
        assert attempts["n"] == 3
        assert leftovers(tmp_path) == []

        flips = {"n": 0}

        async def once_truncated(request: web.Request) -> web.StreamResponse:
            flips["n"] += 1
            return await (truncated(request) if flips["n"] == 1 else whole(request))

        fake.storage.on("GET", "/media/t2", once_truncated)
        done = await fetcher.fetch_media(fake.signed_url("t2"), tmp_path, max_bytes=1 << 20)
        assert done.path.read_bytes() == VOICE
        assert fetcher.retries == 3  # two for t1, one for t2


async def test_size_cap_aborts_early_with_and_without_content_length(
    fake: FakeGenesys, client: GenesysClient, tmp_path: Path
) -> None:
    big = VOICE * 50

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for i in range(0, len(big), 8192):
            await response.write(big[i : i + 8192])
        return response

    fake.add_media("big", big)
    fake.storage.on("GET", "/media/chunked", chunked)
    fetcher = MediaFetcher(client)
    for name in ("big", "chunked"):
        with pytest.raises(RejectedMedia) as info:
            await fetcher.fetch_media(fake.signed_url(name), tmp_path, max_bytes=100_000)
        assert info.value.reason == "too_large"
    assert leftovers(tmp_path) == []


async def test_html_page_as_audio_and_wrong_hash_are_rejected(
    fake: FakeGenesys, client: GenesysClient, tmp_path: Path
) -> None:
    fake.add_media("page", b"<!DOCTYPE html><html><body>Session expired</body></html>")
    fake.add_media("v3", VOICE)
    fetcher = MediaFetcher(client)
    with pytest.raises(RejectedMedia) as page:
        await fetcher.fetch_media(
            fake.signed_url("page"), tmp_path, max_bytes=1 << 20, declared_mime="audio/ogg"
        )
    assert page.value.reason == "error_page"
    with pytest.raises(RejectedMedia) as wrong:
        await fetcher.fetch_media(
            fake.signed_url("v3"),
            tmp_path,
            max_bytes=1 << 20,
            expected_sha256=hashlib.sha256(b"other").hexdigest(),
            expected_size=len(VOICE),
        )
    assert wrong.value.reason == "checksum_mismatch"
    assert leftovers(tmp_path) == []


async def test_download_attachment_uses_the_api_description(
    fake: FakeGenesys, client: GenesysClient, tmp_path: Path
) -> None:
    digest = fake.add_media("v4", VOICE)
    attachment = {
        "id": "a1",
        "url": f"{fake.api.url}/api/v2/downloads/v4",
        "mime": "audio/ogg",
        "sha256": digest,
        "contentSizeBytes": len(VOICE),
    }
    done = await MediaFetcher(client).download_attachment(attachment, tmp_path, max_bytes=1 << 20)
    assert done.sha256 == digest
    assert done.declared_mime == "audio/ogg"
    with pytest.raises(UrlExpired):
        await MediaFetcher(client).download_attachment({"id": "a2"}, tmp_path, max_bytes=10)


async def test_presigned_json_without_token(fake: FakeGenesys, client: GenesysClient) -> None:
    async def transcript(_: web.Request) -> web.Response:
        return web.json_response({"transcripts": [{"phrases": []}]})

    fake.foreign.on("GET", "/t.json", transcript)
    fetcher = MediaFetcher(client)
    await client.get_message("c1", "m1")
    doc = await fetcher.fetch_json_unauthenticated(f"{fake.foreign.url}/t.json?X-Amz-Signature=x")
    assert doc == {"transcripts": [{"phrases": []}]}
    assert fake.foreign.authorized() == [None]
    with pytest.raises(UrlExpired):
        await fetcher.fetch_json_unauthenticated(f"{fake.foreign.url}/gone.json?Expires=1")
