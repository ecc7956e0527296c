"""The Genesys Cloud client: regions, OAuth token, API calls under one retry policy."""

from media_bridge.genesys.attachments import attachment_from_message
from media_bridge.genesys.auth import CredentialsRejected, TokenManager
from media_bridge.genesys.client import (
    GenesysApi,
    GenesysClient,
    RecordingAnswer,
    RecordingsAnswer,
)
from media_bridge.genesys.regions import (
    REGION_DOMAINS,
    GenesysHosts,
    HostNotAllowed,
    normalize_domain,
    resolve_hosts,
)
from media_bridge.genesys.settings import GenesysSettings
from media_bridge.genesys.transport import ApiResponse, ClientStats

__all__ = [
    "REGION_DOMAINS",
    "ApiResponse",
    "ClientStats",
    "CredentialsRejected",
    "GenesysApi",
    "GenesysClient",
    "GenesysHosts",
    "GenesysSettings",
    "HostNotAllowed",
    "RecordingAnswer",
    "RecordingsAnswer",
    "TokenManager",
    "attachment_from_message",
    "normalize_domain",
    "resolve_hosts",
]
