"""The org: OAuth clients, tokens, conversations, stored media objects, links and stats.

Media bytes are produced lazily (first time something needs their size, hash or content)
and written to a cache directory, so start-up is instant and memory stays small.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from genesys_emulator import signing
from genesys_emulator.config import EmulatorConfig, FaultConfig, OAuthClientConfig
from genesys_emulator.ratelimit import RateLimiter


@dataclass
class StoredObject:
    """A blob on the emulated storage (S3/CloudFront); produced on first use."""

    key: str
    content_type: str
    filename: str
    produce: Callable[[], bytes]
    path: Path | None = None
    size: int = 0
    sha256: str = ""


class ObjectStore:
    """Object key -> file on disk, materialised once, thread-safe."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._objects: dict[str, StoredObject] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}

    def put(self, key: str, content_type: str, filename: str, produce: Callable[[], bytes]) -> None:
        with self._lock:
            self._objects[key] = StoredObject(key, content_type, filename, produce)
            self._key_locks.setdefault(key, threading.Lock())

    def get(self, key: str) -> StoredObject | None:
        with self._lock:
            return self._objects.get(key)

    def materialize(self, key: str) -> StoredObject:
        """Produce the object's bytes (once), write them to disk and fill size and sha256."""
        with self._lock:
            obj = self._objects[key]
            key_lock = self._key_locks[key]
        with key_lock:
            if obj.path is None:
                data = obj.produce()
                path = (
                    self.directory / hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()
                )
                path.write_bytes(data)
                obj.size = len(data)
                obj.sha256 = hashlib.sha256(data).hexdigest()
                obj.path = path
        return obj


@dataclass
class Attachment:
    id: str
    media_type: Literal["Audio", "Image", "Video", "File"]
    mime: str
    filename: str
    object_key: str
    audio_kind: str | None = None


@dataclass
class Message:
    id: str
    participant_id: str
    direction: Literal["inbound", "outbound"]
    timestamp: datetime
    text: str | None = None
    attachments: list[Attachment] = field(default_factory=list)


@dataclass
class Recording:
    id: str
    conversation_id: str
    session_id: str
    start: datetime
    end: datetime
    seed: int
    media: str = "audio"
    media_subtype: str = "Trunk"
    file_state: str = "AVAILABLE"
    first_requested_at: float | None = None
    #: formatId -> object key of the stereo file (or per-channel keys "<fmt>/0", "<fmt>/1")
    object_keys: dict[str, str] = field(default_factory=dict)


@dataclass
class Conversation:
    """A messaging or voice conversation with its participants' ids."""

    id: str
    kind: Literal["message", "voice"]
    channel: str  # whatsapp|webmessaging|open|facebook|instagram|line|voice
    start: datetime
    end: datetime | None
    queue_id: str
    user_id: str
    division_id: str
    customer_participant_id: str
    acd_participant_id: str
    agent_participant_id: str
    customer_session_id: str
    agent_session_id: str
    customer_address: str
    external_contact_id: str
    #: the customer's display name (the contact's name, a messenger nickname)
    customer_name: str = ""
    #: the customer's biometrics consent: granted | refused | none (never recorded) |
    #: late (recorded as granted, but visible only after a few reads)
    consent: str = "none"
    messages: list[Message] = field(default_factory=list)
    recordings: list[Recording] = field(default_factory=list)
    transcript_key: str | None = None


@dataclass
class BatchJob:
    """A recording batch download job (POST /api/v2/recording/batchrequests)."""

    id: str
    client_id: str
    #: the results it gives: (conversationId, recordingId) pairs, a conversation entry
    #: expanded to its recordings when submitted (recordingId None: unknown conversation)
    requests: list[tuple[str, str | None]]
    submitted_at: float


@dataclass
class Token:
    value: str
    client_id: str
    expires_at: float


@dataclass
class DownloadLink:
    id: str
    object_key: str
    expires_at: float
    #: answer this redirect status even when asked ``issueRedirect=false`` (a misbehaving
    #: link, for clients that must not follow it); None: behave
    redirect_status: int | None = None


class OrgState:
    """All mutable state of one emulated org; shared by every host's app."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if config.cache_dir:
            cache = Path(config.cache_dir)
            cache.mkdir(parents=True, exist_ok=True)
        else:
            self._tmp = tempfile.TemporaryDirectory(prefix="genesys-emulator-")
            cache = Path(self._tmp.name)
        self.store = ObjectStore(cache)
        self.signing_key = (config.signing_secret or secrets.token_hex(32)).encode()
        self.clients: dict[str, OAuthClientConfig] = {c.client_id: c for c in config.clients}
        self.tokens: dict[str, Token] = {}
        self.conversations: dict[str, Conversation] = {}
        self.downloads: dict[str, DownloadLink] = {}
        self.batch_jobs: dict[str, BatchJob] = {}
        self.signed_min_expires = 0
        self.events: list[dict[str, Any]] = []
        self.stats: Counter[tuple[str, str, int]] = Counter()
        self.storage_requests_with_authorization = 0
        self.public_urls: dict[str, str] = {}
        self.faults: FaultConfig = config.faults
        self.fault_rng = random.Random(config.faults.seed)
        self.fault_counts: Counter[str] = Counter()
        #: reads of contacts and conversations (late consent appears after a few)
        self.reads: Counter[str] = Counter()
        from genesys_emulator.notifications import NotificationHub

        #: Notifications API channels and sockets
        self.notifications = NotificationHub(config)
        #: routing queues by id -> name (the scenario's queue, then ``extra_queues``)
        self.queues: dict[str, str] = {}
        self.limiter = RateLimiter(
            config.rate_limit_requests,
            config.rate_limit_window_s,
            count_downloads=config.rate_limit_downloads,
        )

    def set_faults(self, faults: FaultConfig) -> None:
        """Replace the fault settings; the RNG restarts from the new seed (deterministic)."""
        with self.lock:
            self.faults = faults
            self.fault_rng = random.Random(faults.seed)

    def count_fault(self, kind: str) -> None:
        with self.lock:
            self.fault_counts[kind] += 1

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # --- conversations -------------------------------------------------------------------
    def add_conversation(self, conversation: Conversation) -> None:
        with self.lock:
            self.conversations[conversation.id] = conversation

    def conversation(self, conversation_id: str) -> Conversation | None:
        with self.lock:
            return self.conversations.get(conversation_id)

    def conversations_of_contact(self, contact_id: str) -> list[Conversation]:
        """Every conversation of one external contact (one person), oldest first."""
        with self.lock:
            found = [c for c in self.conversations.values() if c.external_contact_id == contact_id]
        return sorted(found, key=lambda c: c.start)

    def count_read(self, what: str) -> int:
        """Count one read of ``what`` (a contact, a conversation); returns the count so far."""
        with self.lock:
            self.reads[what] += 1
            return self.reads[what]

    def attachments(self) -> list[tuple[Conversation, Message, Attachment]]:
        with self.lock:
            return [
                (c, m, a)
                for c in self.conversations.values()
                for m in c.messages
                for a in m.attachments
            ]

    def attachment_object(self, attachment: Attachment) -> StoredObject:
        """The attachment's bytes on disk with size and sha256 (generated on first call)."""
        return self.store.materialize(attachment.object_key)

    # --- tokens --------------------------------------------------------------------------
    def issue_token(self, client: OAuthClientConfig) -> Token:
        lifetime = client.token_lifetime_s or self.config.token_lifetime_s
        token = Token(secrets.token_urlsafe(48), client.client_id, time.time() + lifetime)
        with self.lock:
            self.tokens[token.value] = token
        return token

    def expire_tokens(self) -> int:
        with self.lock:
            for token in self.tokens.values():
                token.expires_at = min(token.expires_at, time.time())
            return len(self.tokens)

    # --- links ---------------------------------------------------------------------------
    def new_download(self, object_key: str) -> DownloadLink:
        link = DownloadLink(
            secrets.token_hex(16), object_key, time.time() + self.config.download_link_ttl_s
        )
        with self.lock:
            self.downloads[link.id] = link
        return link

    def download_url(self, object_key: str) -> str:
        link = self.new_download(object_key)
        return f"{self.public_urls.get('downloads', '')}/api/v2/downloads/{link.id}"

    def signed_url(self, object_key: str, host: Literal["storage", "downloads"] = "storage") -> str:
        """A pre-signed URL for the object, on the storage host or api-downloads /MediaCache."""
        prefix = "/media/" if host == "storage" else "/MediaCache/"
        now = time.time()
        ttl = max(self.config.signed_url_ttl_s, self.signed_min_expires - now)
        signed = signing.sign_path(self.signing_key, prefix + object_key, ttl, now)
        return f"{self.public_urls.get(host, '')}{signed}"

    def redirect_links(self, status: int) -> None:
        """Make every download link issued so far answer ``status`` (a redirect), however asked."""
        with self.lock:
            for link in self.downloads.values():
                link.redirect_status = status

    def expire_links(self) -> None:
        """Make every download link and signed URL issued so far stale, now."""
        now = time.time()
        with self.lock:
            for link in self.downloads.values():
                link.expires_at = min(link.expires_at, now)
            self.signed_min_expires = int(now + self.config.signed_url_ttl_s) + 1

    def record(self, host: str, path: str, status: int) -> None:
        with self.lock:
            self.stats[(host, path, status)] += 1
