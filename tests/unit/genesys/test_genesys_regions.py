import pytest

from media_bridge.errors import BadInput
from media_bridge.genesys.regions import (
    REGION_DOMAINS,
    hosts_for_domain,
    normalize_domain,
    origin_of,
    resolve_hosts,
)
from media_bridge.genesys.settings import GenesysSettings


def test_every_region_has_seventeen_entries_and_unique_aws_names() -> None:
    assert len(REGION_DOMAINS) == 17
    assert len(set(REGION_DOMAINS.values())) == 17


@pytest.mark.parametrize(
    ("given", "domain"),
    [
        ("eu-west-1", "mypurecloud.ie"),
        ("mypurecloud.ie", "mypurecloud.ie"),
        ("MyPureCloud.IE", "mypurecloud.ie"),
        ("api.mypurecloud.de", "mypurecloud.de"),
        ("https://login.usw2.pure.cloud/", "usw2.pure.cloud"),
        ("ap-southeast-2", "mypurecloud.com.au"),
        ("us-east-2", "use2.us-gov-pure.cloud"),
        ("euc9.pure.cloud", "euc9.pure.cloud"),  # a future region of the known shape
    ],
)
def test_region_names_and_domains_normalise(given: str, domain: str) -> None:
    assert normalize_domain(given) == domain


@pytest.mark.parametrize("bad", ["eu-west-9", "example.com", "mypurecloud.evil.com", ""])
def test_unknown_regions_are_refused_with_the_known_list(bad: str) -> None:
    with pytest.raises(BadInput, match=r"mypurecloud\.ie \(eu-west-1\)"):
        normalize_domain(bad)


def test_region_hosts() -> None:
    hosts = resolve_hosts(GenesysSettings(region="eu-central-1"))
    assert hosts.login == "https://login.mypurecloud.de"
    assert hosts.api == "https://api.mypurecloud.de"
    assert hosts.downloads == "https://api-downloads.mypurecloud.de"
    assert hosts.apps == "https://apps.mypurecloud.de"
    assert hosts.token_url == "https://login.mypurecloud.de/oauth/token"


def test_allow_list_is_exact_origins_of_api_downloads_and_apps() -> None:
    hosts = hosts_for_domain("mypurecloud.ie")
    assert hosts.token_origins == {
        ("https", "api.mypurecloud.ie", 443),
        ("https", "api-downloads.mypurecloud.ie", 443),
        ("https", "apps.mypurecloud.ie", 443),
    }
    assert hosts.allows_token("https://api.mypurecloud.ie/api/v2/x")
    assert hosts.allows_token("https://API.mypurecloud.ie:443/api/v2/x")
    assert hosts.allows_token("https://apps.mypurecloud.ie/platform/api/v2/x")
    for refused in (
        "http://api.mypurecloud.ie/api/v2/x",  # plain http
        "https://api.mypurecloud.ie:8443/api/v2/x",  # other port
        "https://api.mypurecloud.ie.evil.example/api/v2/x",  # suffix trick
        "https://evil.example/?u=https://api.mypurecloud.ie",
        "https://login.mypurecloud.ie/oauth/token",  # login takes credentials, not tokens
        "https://api.mypurecloud.de/api/v2/x",  # another region
    ):
        assert not hosts.allows_token(refused), refused


def test_overrides_replace_the_region_and_default_to_the_api_url() -> None:
    settings = GenesysSettings(region="mypurecloud.ie", api_url="http://127.0.0.1:4001/")
    hosts = resolve_hosts(settings)
    assert hosts.api == hosts.login == hosts.downloads == "http://127.0.0.1:4001"
    assert hosts.apps is None
    assert hosts.token_origins == {("http", "127.0.0.1", 4001)}

    full = resolve_hosts(
        GenesysSettings(
            api_url="http://127.0.0.1:4001",
            login_url="http://127.0.0.1:4002",
            downloads_url="http://127.0.0.1:4003",
        )
    )
    assert full.token_origins == {("http", "127.0.0.1", 4001), ("http", "127.0.0.1", 4003)}
    assert full.token_url == "http://127.0.0.1:4002/oauth/token"
    assert not full.allows_token("http://127.0.0.1:4002/x")


def test_bad_override_is_refused() -> None:
    # by the settings at start, and again when the hosts are resolved
    with pytest.raises(ValueError, match=r"must be an http\(s\) URL"):
        GenesysSettings(api_url="ftp://x")
    with pytest.raises(BadInput):
        resolve_hosts(GenesysSettings.model_construct(api_url="ftp://x"))


def test_origin_fills_default_ports() -> None:
    assert origin_of("http://a.b/x") == ("http", "a.b", 80)
    assert origin_of("https://a.b/x") == ("https", "a.b", 443)
    assert origin_of("https://a.b:8443/x") == ("https", "a.b", 8443)
