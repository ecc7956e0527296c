"""Which media URL gets the token, and how: the rule in one pure function.

signed (Signature / X-Amz-Signature / Expires in the query)  -> fetched WITHOUT token,
    even on a Genesys host (recording MediaCache URLs live on api-downloads.{domain};
    S3 refuses a request carrying both a signature and an Authorization header)
Downloads API link /api/v2/downloads/{id} on the API or downloads host
    -> resolved WITH the token (issueRedirect=false), the signed URL then without
other URL on an allow-listed origin -> fetched with the token (first hop only)
anything else -> never gets the token

A URL an event names is trusted far less (``event_download_link``): only a plain
Downloads API link on the region's downloads host is ever used; the pipeline looks
anything else up through the message endpoint, so an event can never make the
bridge run an authenticated GET of its choosing.
"""

from __future__ import annotations

import re
from enum import StrEnum
from urllib.parse import parse_qsl, urlsplit

from yarl import URL

from media_bridge.errors import BadInput
from media_bridge.genesys.regions import GenesysHosts

SIGNATURE_PARAMS = frozenset(
    {"signature", "x-amz-signature", "expires", "x-amz-expires", "key-pair-id", "x-amz-credential"}
)
_DOWNLOADS_PATH = re.compile(r"^/api/v2/downloads/[^/]+/?$")
#: a Downloads link as an event may name it: one plain id, nothing to encode or normalise
_EVENT_DOWNLOADS_PATH = re.compile(r"^/api/v2/downloads/[A-Za-z0-9_-]+$")


class UrlKind(StrEnum):
    SIGNED = "signed"
    DOWNLOADS_LINK = "downloads_link"
    API = "api"
    FOREIGN = "foreign"


def is_signed(url: str) -> bool:
    query = urlsplit(url).query
    return any(key.lower() in SIGNATURE_PARAMS for key, _ in parse_qsl(query, True))


def classify(url: str, hosts: GenesysHosts) -> UrlKind:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise BadInput("media URL must be an absolute http(s) URL")
    if is_signed(url):
        return UrlKind.SIGNED
    if hosts.is_api_origin(url) and _DOWNLOADS_PATH.match(parts.path):
        return UrlKind.DOWNLOADS_LINK
    if hosts.allows_token(url):
        return UrlKind.API
    return UrlKind.FOREIGN


def event_download_link(url: str, hosts: GenesysHosts) -> str | None:
    """An event's media URL, as aiohttp would send it, if it is a Downloads API link on
    the region's downloads host (``/api/v2/downloads/{id}``, no user, query or fragment);
    None for anything else, signed URLs included: those are never fetched.

    Checked with yarl, the parser aiohttp sends with, and again with ``classify``, so
    the two parsers must agree (``http://evil\\@host/`` passes urlsplit, not yarl).
    """
    try:
        parsed = URL(url)
        downloads = URL(hosts.downloads)
    except (TypeError, ValueError):
        return None
    if (
        not parsed.is_absolute()
        or (parsed.scheme, parsed.host, parsed.port)
        != (downloads.scheme, downloads.host, downloads.port)
        or parsed.user is not None
        or parsed.password is not None
        or parsed.raw_query_string
        or parsed.raw_fragment
        or not _EVENT_DOWNLOADS_PATH.match(parsed.raw_path)
    ):
        return None
    canonical = str(parsed)
    try:
        kind = classify(canonical, hosts)
    except BadInput:
        return None
    return canonical if kind is UrlKind.DOWNLOADS_LINK else None


def storable_event_url(url: str | None) -> str | None:
    """What a job payload may keep of an event's media URL: a plain Downloads API link
    (``/api/v2/downloads/{id}``, no user, query or fragment), canonical as yarl sends it;
    None for anything else. Signed URLs are bearer-equivalent and are never used
    (``event_download_link``), so they are never stored. The host is checked again,
    against the region, when the link is used.
    """
    if not url:
        return None
    try:
        parsed = URL(url)
    except (TypeError, ValueError):
        return None
    if (
        not parsed.is_absolute()
        or parsed.scheme not in {"http", "https"}
        or parsed.user is not None
        or parsed.password is not None
        or parsed.raw_query_string
        or parsed.raw_fragment
        or not _EVENT_DOWNLOADS_PATH.match(parsed.raw_path)
    ):
        return None
    return str(parsed)
