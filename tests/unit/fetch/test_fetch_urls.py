import pytest

from media_bridge.errors import BadInput
from media_bridge.fetch.urls import UrlKind, classify, event_download_link, is_signed
from media_bridge.genesys.regions import hosts_for_domain

HOSTS = hosts_for_domain("mypurecloud.ie")


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://api-downloads.mypurecloud.ie/api/v2/downloads/0a1b2c", UrlKind.DOWNLOADS_LINK),
        ("https://api.mypurecloud.ie/api/v2/downloads/0a1b2c", UrlKind.DOWNLOADS_LINK),
        (
            "https://api-downloads.mypurecloud.ie/MediaCache/x.wav?Expires=1&Signature=s&Key-Pair-Id=k",
            UrlKind.SIGNED,
        ),
        (
            "https://bucket.s3.amazonaws.com/x.ogg?X-Amz-Signature=abc&X-Amz-Expires=60",
            UrlKind.SIGNED,
        ),
        ("https://api-downloads.mypurecloud.ie/api/v2/downloads/x?signature=a", UrlKind.SIGNED),
        ("https://api.mypurecloud.ie/api/v2/other/media/1", UrlKind.API),
        ("https://evil.example/api/v2/downloads/0a1b2c", UrlKind.FOREIGN),
        ("http://api-downloads.mypurecloud.ie/api/v2/downloads/0a1b2c", UrlKind.FOREIGN),
        ("https://apps.mypurecloud.ie/api/v2/downloads/0a1b2c", UrlKind.API),
    ],
)
def test_classify(url: str, kind: UrlKind) -> None:
    assert classify(url, HOSTS) is kind


def test_is_signed() -> None:
    assert is_signed("https://x/y?Expires=1")
    assert not is_signed("https://x/y?expiry=1&sig=2")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "/api/v2/downloads/x", "ftp://h/x"])
def test_non_http_urls_are_refused(url: str) -> None:
    with pytest.raises(BadInput):
        classify(url, HOSTS)


@pytest.mark.parametrize(
    "url",
    [
        "https://api-downloads.mypurecloud.ie/api/v2/downloads/0a1b2c",
        "https://API-Downloads.mypurecloud.ie:443/api/v2/downloads/0a1b2c",
    ],
)
def test_an_event_may_name_a_downloads_link(url: str) -> None:
    link = event_download_link(url, HOSTS)
    assert link == "https://api-downloads.mypurecloud.ie/api/v2/downloads/0a1b2c"
    assert classify(link, HOSTS) is UrlKind.DOWNLOADS_LINK


@pytest.mark.parametrize(
    "url",
    [
        # any other Platform API path, on either host: it would get the token
        "https://api.mypurecloud.ie/api/v2/conversations/messages/c1",
        "https://api-downloads.mypurecloud.ie/api/v2/conversations/messages/c1",
        "https://apps.mypurecloud.ie/api/v2/downloads/0a1b2c",
        # the downloads path, but on the API host (links live on the downloads host)
        "https://api.mypurecloud.ie/api/v2/downloads/0a1b2c",
        # signed URLs: fresh ones come from the API
        "https://api-downloads.mypurecloud.ie/MediaCache/x.wav?Expires=1&Signature=s",
        "https://bucket.s3.amazonaws.com/x.ogg?X-Amz-Signature=abc&X-Amz-Expires=60",
        # extras a Downloads link never has
        "https://api-downloads.mypurecloud.ie/api/v2/downloads/0a1b2c?issueRedirect=true",
        "https://api-downloads.mypurecloud.ie/api/v2/downloads/0a1b2c#x",
        "https://u:p@api-downloads.mypurecloud.ie/api/v2/downloads/0a1b2c",
        "https://api-downloads.mypurecloud.ie/api/v2/downloads/0a1b2c/",
        "https://api-downloads.mypurecloud.ie/api/v2/downloads/..%2Fusers%2Fme",
        "https://api-downloads.mypurecloud.ie/api/v2/downloads/x/../../users/me",
        "https://api-downloads.mypurecloud.ie:8443/api/v2/downloads/0a1b2c",
        "http://api-downloads.mypurecloud.ie/api/v2/downloads/0a1b2c",
        # parsers disagree: urlsplit sees the downloads host, aiohttp (yarl) refuses
        "https://evil\\@api-downloads.mypurecloud.ie/api/v2/downloads/0a1b2c",
        "https://api-downloads.mypurecloud.ie\\@evil.example/api/v2/downloads/0a1b2c",
        "https://[api-downloads.mypurecloud.ie/api/v2/downloads/0a1b2c",
        "/api/v2/downloads/0a1b2c",
        "",
    ],
)
def test_an_event_url_that_is_not_a_plain_downloads_link_is_never_used(url: str) -> None:
    assert event_download_link(url, HOSTS) is None
