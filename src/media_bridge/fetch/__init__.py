"""Streaming media downloads: who gets the token, size cap, sha256, real type."""

from media_bridge.fetch.download import DownloadedFile, RejectedMedia
from media_bridge.fetch.media import Fetcher, MediaFetcher
from media_bridge.fetch.sniff import Sniffed, mismatch_reason, sniff
from media_bridge.fetch.urls import UrlKind, classify, is_signed

__all__ = [
    "DownloadedFile",
    "Fetcher",
    "MediaFetcher",
    "RejectedMedia",
    "Sniffed",
    "UrlKind",
    "classify",
    "is_signed",
    "mismatch_reason",
    "sniff",
]
