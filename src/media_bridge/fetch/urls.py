"""Which media URL gets the token, and how: the rule in one pure function.

signed (Signature / X-Amz-Signature / Expires in the query)  -> fetched WITHOUT token,
    even on a Genesys host (recording MediaCache URLs live on api-downloads.{domain};
    S3 refuses a request carrying both a signature and an Authorization header)
Downloads API link /api/v2/downloads/{id} on the API or downloads host
    -> resolved WITH the token (issueRedirect=false), the signed URL then without
other URL on an allow-listed origin -> fetched with the token (first hop only)
anything else -> never gets the token
"""

from __future__ import annotations

import re
from enum import StrEnum
from urllib.parse import parse_qsl, urlsplit

from media_bridge.errors import BadInput
from media_bridge.genesys.regions import GenesysHosts

SIGNATURE_PARAMS = frozenset(
    {"signature", "x-amz-signature", "expires", "x-amz-expires", "key-pair-id", "x-amz-credential"}
)
_DOWNLOADS_PATH = re.compile(r"^/api/v2/downloads/[^/]+/?$")


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
