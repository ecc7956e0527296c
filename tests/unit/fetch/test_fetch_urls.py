import pytest

from media_bridge.errors import BadInput
from media_bridge.fetch.urls import UrlKind, classify, is_signed
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
