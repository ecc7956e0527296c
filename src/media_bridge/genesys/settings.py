"""Genesys Cloud connection settings: region, OAuth client, and host overrides."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class GenesysSettings(BaseModel):
    #: the region's domain, e.g. ``mypurecloud.ie`` (eu-west-1) or ``usw2.pure.cloud``;
    #: AWS region names (``eu-west-1``) are accepted too
    region: str = "mypurecloud.com"
    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    #: overrides for the emulator or a proxy: full base URLs (scheme://host[:port]).
    #: When set, they replace the region's hosts (and so the token allow-list).
    api_url: str | None = None
    login_url: str | None = None
    downloads_url: str | None = None
    #: refresh the token this many seconds before it expires
    token_refresh_margin_s: float = Field(default=300.0, ge=0)
    max_attempts: int = Field(default=6, ge=1)
    backoff_base_s: float = Field(default=0.2, gt=0)
    backoff_max_s: float = Field(default=30.0, gt=0)
    request_timeout_s: float = Field(default=30.0, gt=0)
    max_connections: int = Field(default=64, ge=1)
    #: TLS verification of Genesys hosts; only for a local emulator may it be turned off
    verify_tls: bool = True
