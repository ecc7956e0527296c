"""Settings of the HTTP intake (the EventBridge API destination): its address, its auth and
its limits."""

from __future__ import annotations

from pydantic import BaseModel, Field


class IntakeSettings(BaseModel):
    #: address the HTTP intake listens on (behind a TLS proxy: docs/deployment.md)
    host: str = "127.0.0.1"
    #: port of the HTTP intake (``run --source http``)
    port: int = 8080
    #: EventBridge connection auth: an API-key header (name and value) and/or basic auth
    api_key_header: str = "x-api-key"
    #: the API key value EventBridge's connection sends (in ``api_key_header``)
    api_key: str | None = None
    #: basic-auth user name of the EventBridge connection
    basic_user: str | None = None
    #: basic-auth password of the EventBridge connection
    basic_password: str | None = None
    #: a request body larger than this is refused (413)
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    #: a body of more events is refused whole (413, one rejected row), at once
    max_events_per_body: int = Field(default=100, gt=0)
    #: an event naming more media for one message is rejected (any source)
    max_media_per_message: int = Field(default=50, gt=0)
    #: accept unauthenticated posts (local experiments only; refused by default)
    allow_anonymous: bool = False
    #: a connection whose request headers are not all in within this is closed
    header_timeout_s: float = Field(default=10.0, gt=0)
    #: a request whose body is not all in within this is answered 408 and closed
    body_timeout_s: float = Field(default=10.0, gt=0)
    #: at most this many connections and requests at once; more are answered 503
    max_connections: int = Field(default=256, gt=0)

    @property
    def has_auth(self) -> bool:
        return bool(self.api_key) or (
            self.basic_user is not None and self.basic_password is not None
        )
