"""Genesys Cloud regions, the hosts of one region, and the bearer-token allow-list.

The token is bearer-equivalent: it may only ever travel to the region's API hosts.
``GenesysHosts.allows_token(url)`` is the single place that decides, by exact origin
(scheme, host, port): no suffix matching, so ``api.mypurecloud.ie.evil.example`` and
``http://api.mypurecloud.ie`` (plain http) are both refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from media_bridge.errors import BadInput
from media_bridge.errors import HostNotAllowed as HostNotAllowed
from media_bridge.genesys.settings import GenesysSettings

#: domain -> AWS region (GENESYS.md section 5, from the official SDK's region table)
REGION_DOMAINS: dict[str, str] = {
    "mypurecloud.com": "us-east-1",
    "use2.us-gov-pure.cloud": "us-east-2",
    "usw2.pure.cloud": "us-west-2",
    "cac1.pure.cloud": "ca-central-1",
    "sae1.pure.cloud": "sa-east-1",
    "mxc1.pure.cloud": "mx-central-1",
    "mypurecloud.ie": "eu-west-1",
    "euw2.pure.cloud": "eu-west-2",
    "mypurecloud.de": "eu-central-1",
    "euc2.pure.cloud": "eu-central-2",
    "mec1.pure.cloud": "me-central-1",
    "aps1.pure.cloud": "ap-south-1",
    "apse1.pure.cloud": "ap-southeast-1",
    "mypurecloud.com.au": "ap-southeast-2",
    "mypurecloud.jp": "ap-northeast-1",
    "apne2.pure.cloud": "ap-northeast-2",
    "apne3.pure.cloud": "ap-northeast-3",
}
AWS_REGIONS: dict[str, str] = {aws: domain for domain, aws in REGION_DOMAINS.items()}

#: regions Genesys opens after this table was written still follow these shapes
_GENESYS_DOMAIN = re.compile(r"^[a-z0-9-]+\.(?:us-gov-)?pure\.cloud$")
_HOST_PREFIXES = ("api-downloads.", "api.", "login.", "apps.")


Origin = tuple[str, str, int]


def origin_of(url: str) -> Origin:
    """(scheme, lower-case host, port with the scheme's default filled in)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError as exc:
        raise BadInput(f"invalid port in URL {parts.scheme}://{parts.hostname}") from exc
    if port is None:
        port = 443 if scheme == "https" else 80 if scheme == "http" else 0
    return scheme, host, port


def normalize_domain(region: str) -> str:
    """``eu-west-1``, ``mypurecloud.ie``, ``api.mypurecloud.ie`` or a URL -> ``mypurecloud.ie``."""
    text = region.strip().lower()
    if "://" in text:
        text = urlsplit(text).hostname or ""
    text = text.rstrip("/.")
    if text in AWS_REGIONS:
        return AWS_REGIONS[text]
    for prefix in _HOST_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    if text in REGION_DOMAINS or _GENESYS_DOMAIN.search(text):
        return text
    known = ", ".join(f"{d} ({a})" for d, a in REGION_DOMAINS.items())
    raise BadInput(f"unknown Genesys Cloud region {region!r}; known regions: {known}")


def _base_url(url: str, what: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise BadInput(f"genesys.{what} must be an http(s) URL with a host, got {url!r}")
    return f"{parts.scheme}://{parts.netloc}".rstrip("/")


@dataclass(frozen=True, slots=True)
class GenesysHosts:
    """Base URLs (scheme://host[:port], no trailing slash) of one Genesys Cloud org."""

    login: str
    api: str
    downloads: str
    #: ``apps.{domain}`` serves ``/platform/api/...``; None behind an override
    apps: str | None = None

    @property
    def token_origins(self) -> frozenset[Origin]:
        """The only origins that may receive the bearer token (never the login host:
        it takes the client credentials, not the token)."""
        urls = [self.api, self.downloads] + ([self.apps] if self.apps else [])
        return frozenset(origin_of(u) for u in urls)

    def allows_token(self, url: str) -> bool:
        return origin_of(url) in self.token_origins

    def is_api_origin(self, url: str) -> bool:
        """True for the API and downloads hosts (where Downloads API links live)."""
        return origin_of(url) in {origin_of(self.api), origin_of(self.downloads)}

    def api_url(self, path_or_url: str) -> str:
        """An absolute URL for an API path (``/api/v2/...``); absolute URLs pass through."""
        if "://" in path_or_url:
            return path_or_url
        return self.api + ("" if path_or_url.startswith("/") else "/") + path_or_url

    @property
    def token_url(self) -> str:
        return f"{self.login}/oauth/token"


def hosts_for_domain(domain: str) -> GenesysHosts:
    return GenesysHosts(
        login=f"https://login.{domain}",
        api=f"https://api.{domain}",
        downloads=f"https://api-downloads.{domain}",
        apps=f"https://apps.{domain}",
    )


def resolve_hosts(settings: GenesysSettings) -> GenesysHosts:
    """The hosts for the settings: the region's, or the overrides (emulator, proxy)."""
    if settings.api_url is None:
        region = hosts_for_domain(normalize_domain(settings.region))
        if settings.login_url is None and settings.downloads_url is None:
            return region
        return GenesysHosts(
            login=(
                _base_url(settings.login_url, "login_url") if settings.login_url else region.login
            ),
            api=region.api,
            downloads=(
                _base_url(settings.downloads_url, "downloads_url")
                if settings.downloads_url
                else region.downloads
            ),
            apps=region.apps,
        )
    api = _base_url(settings.api_url, "api_url")
    return GenesysHosts(
        login=_base_url(settings.login_url, "login_url") if settings.login_url else api,
        api=api,
        downloads=_base_url(settings.downloads_url, "downloads_url")
        if settings.downloads_url
        else api,
        apps=None,
    )
