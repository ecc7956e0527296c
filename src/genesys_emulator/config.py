"""Every knob of the emulator in one place, with defaults that behave like a real org."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: permissions the default local OAuth client holds (enough for everything the bridge does)
DEFAULT_PERMISSIONS: tuple[str, ...] = (
    "conversation:message:view",
    "conversation:webmessaging:view",
    "recording:recording:view",
    "speechAndTextAnalytics:data:view",
    "analytics:conversationDetail:view",
    "externalContacts:contact:view",
    "routing:queue:view",
)
DEFAULT_CLIENT_ID = "emulator-client"
DEFAULT_CLIENT_SECRET = "emulator-secret"  # noqa: S105 - documented local credential
NO_MESSAGE_PERMS_CLIENT_ID = "no-message-perms"
NO_MESSAGE_PERMS_CLIENT_SECRET = "no-message-perms-secret"  # noqa: S105

MessagingChannel = Literal["whatsapp", "webmessaging", "open", "facebook", "instagram", "line"]
EventPath = Literal["message", "detail", "both"]
ALL_CHANNELS: tuple[MessagingChannel, ...] = ("whatsapp", "webmessaging", "open", "facebook")


@dataclass
class OAuthClientConfig:
    """A client-credentials OAuth client and the permissions its roles grant."""

    client_id: str
    client_secret: str
    permissions: frozenset[str]
    #: seconds; None means the emulator-wide token lifetime
    token_lifetime_s: float | None = None


def default_clients() -> list[OAuthClientConfig]:
    return [
        OAuthClientConfig(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, frozenset(DEFAULT_PERMISSIONS)),
        OAuthClientConfig(
            NO_MESSAGE_PERMS_CLIENT_ID,
            NO_MESSAGE_PERMS_CLIENT_SECRET,
            frozenset(
                {
                    "recording:recording:view",
                    "speechAndTextAnalytics:data:view",
                    "analytics:conversationDetail:view",
                }
            ),
        ),
    ]


@dataclass
class FaultConfig:
    """Injected misbehaviour; shares are probabilities in [0, 1] drawn from a seeded RNG."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0  # share answered 500 or 503
    drop_rate: float = 0.0  # share closed without any response
    truncate_rate: float = 0.0  # share whose body is cut short after the headers
    seed: int = 0
    #: which hosts faults apply to (the login host is spared unless listed)
    hosts: frozenset[str] = frozenset({"api", "downloads", "storage"})

    def to_json(self) -> dict[str, object]:
        return {
            "latencyMs": self.latency_ms,
            "jitterMs": self.jitter_ms,
            "errorRate": self.error_rate,
            "dropRate": self.drop_rate,
            "truncateRate": self.truncate_rate,
            "seed": self.seed,
            "hosts": sorted(self.hosts),
        }


@dataclass
class ScenarioConfig:
    """What the seeded org contains at start."""

    seed: int = 1
    messaging_conversations: int = 6
    voice_conversations: int = 2
    channels: tuple[MessagingChannel, ...] = ALL_CHANNELS
    #: attachments per messaging conversation (cycled through the channel's media kinds)
    attachments_per_conversation: int = 3
    text_messages_per_conversation: int = 2
    #: length of a voice note in seconds (short keeps generation fast)
    voice_note_seconds: float = 4.0
    #: length of a call recording in seconds
    call_seconds: float = 20.0
    event_path: EventPath = "both"
    #: list attachments in message-topic events (``messages[].media[]``); False gives message
    #: ids and ``messageMetadata`` only, as a topic may once its deprecated media[] empties
    topic_media: bool = True
    #: fileState of the voice conversations' recordings, in order (the rest AVAILABLE)
    recording_file_states: tuple[str, ...] = ()
    #: the first call comes from the first WhatsApp customer (same number, same external
    #: contact): one person on two channels, as speaker-key tests need
    returning_caller: bool = True
    #: shares of customers whose biometrics consent is granted, refused, and granted late
    #: (visible only after ``consent_late_reads`` reads); the rest never record an answer.
    #: The answer is set both as participant data and as an external-contact custom field.
    consent_shares: tuple[float, float, float] = (0.5, 0.25, 0.125)
    consent_late_reads: int = 1
    #: the participant data key and the contact's custom field (an Architect flow's choice)
    consent_attribute: str = "biometricsConsent"
    consent_field: str = "biometricsConsent"


@dataclass
class EmulatorConfig:
    """The whole configuration of one emulated org in one region."""

    bind_host: str = "127.0.0.1"
    #: 0 = a free port chosen by the OS
    login_port: int = 0
    api_port: int = 0
    downloads_port: int = 0
    storage_port: int = 0
    #: serve all hosts on one port, told apart by the Host header (login.<domain>, ...)
    single_port: int | None = None
    domain: str = "emulator.local"
    #: port of /healthz, /readyz and /metrics (0 = a free port; None = none)
    operations_port: int | None = None
    #: the real region this org pretends to live in (event envelope, recording metadata)
    aws_region: str = "eu-west-1"
    org_id: str = "7b5a3c1e-2d4f-4a6b-8c9d-0e1f2a3b4c5d"
    event_bus_name: str = "genesys-emulator-bus"
    aws_account: str = "123456789012"
    clients: list[OAuthClientConfig] = field(default_factory=default_clients)
    token_lifetime_s: float = 86399.0
    #: lifetime of a downloads-API link (api-downloads.../api/v2/downloads/{id}); 404 after
    download_link_ttl_s: float = 600.0
    #: lifetime of a signed storage URL (Expires=); refused after
    signed_url_ttl_s: float = 300.0
    #: status of an expired signed URL: S3 answers 403, some CDNs 404
    expired_url_status: int = 403
    #: status of the downloads API redirect (issueRedirect=true)
    download_redirect_status: int = 303
    #: refuse a signed-URL request that also carries an Authorization header (S3: 400)
    refuse_authorization_on_signed: bool = True
    #: the Platform API limit: at most this many requests in any rolling window, per access
    #: token (as Genesys: 300 per 60 s); 0 = unlimited
    rate_limit_requests: int = 300
    #: the window's length (60 s in Genesys; shorter for demos and tests)
    rate_limit_window_s: float = 60.0
    #: whether api-downloads requests (GET /api/v2/downloads/{id}) count against the limit
    rate_limit_downloads: bool = True
    faults: FaultConfig = field(default_factory=FaultConfig)
    scenario: ScenarioConfig = field(default_factory=ScenarioConfig)
    #: a recording answers 202 for this long after its first request
    transcoding_delay_s: float = 0.0
    #: body of a 202 while transcoding: "empty" (reported) or "partial" (Recording without media)
    transcoding_body: Literal["empty", "partial"] = "empty"
    #: recording batch requests: seconds a job stays InProgress (no results) after submission
    batch_delay_s: float = 0.0
    #: shares of requested recordings whose result is missing from a completed job, and
    #: answered with an ``errorMsg`` instead of a URL (the SDK docs allow both)
    batch_missing_share: float = 0.0
    batch_error_share: float = 0.0
    #: status for a job read by another OAuth client than the one that submitted it
    batch_foreign_status: Literal[403, 404] = 404
    #: which stereo channel carries the customer in call recordings
    customer_channel: Literal["left", "right"] = "left"
    #: mediaUris keys: "S" = one stereo file; "channels" = "0" and "1", one mono file each
    media_uri_keys: Literal["S", "channels"] = "S"
    #: where recording mediaUris point: the api-downloads host (/MediaCache/..., like the real
    #: API) or the separate storage host
    recording_uri_host: Literal["downloads", "storage"] = "downloads"
    #: HMAC key for signed URLs; random per run when empty
    signing_secret: str = ""
    #: directory for generated media; a temporary directory when empty
    cache_dir: str = ""
    #: event sink URLs (file://, stdout:, http(s)://) the emulator emits scenario events to
    event_sinks: list[str] = field(default_factory=list)
    #: Notifications API: a channel's lifetime unless re-subscribed (Genesys: 24 h)
    notification_channel_lifetime_s: float = 86400.0
    #: seconds between ``channel.metadata`` heartbeats on a channel's WebSocket
    notification_heartbeat_s: float = 30.0
    #: channels per OAuth client (Genesys: 20; a 21st replaces the oldest)
    notification_max_channels: int = 20
    #: topics per channel (Genesys: 1,000; more answers 400)
    notification_max_topics: int = 1000
    #: whether availabletopics offers the analytics detail topics over the WebSocket
    #: (unknown per org; off: EventBridge only)
    notification_detail_topics_over_websocket: bool = False
    #: queues beyond the scenario's one (GET /api/v2/routing/queues), for subscription tests
    extra_queues: int = 0
