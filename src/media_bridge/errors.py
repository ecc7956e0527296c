"""The bridge's error hierarchy. Every failure a job can meet is one of these.

    BridgeError
     ├── BadInput            malformed event, oversize or non-audio file (not retried)
     ├── PermissionMissing   the OAuth client's role lacks a permission (fatal for that job kind)
     ├── NotFound            the resource is gone (not retried)
     ├── UrlExpired          a media URL is stale: re-resolve it through the API, then retry
     ├── RateLimited         429: wait ``retry_after`` seconds, the whole client slows down
     ├── Transient           5xx, dropped connection, truncated body: back off with jitter
     └── DeliveryRejected    a sink refused the delivery for good (4xx other than 408/429)

``StartupError`` (not a ``BridgeError``): the bridge cannot start for a reason the operator
fixes, reported by the CLI in one line; ``ConfigError`` (also a ``ValueError``) is a
configuration mistake (exit code 2), ``LedgerUnreachable`` a ledger that never answered.

``retryable`` tells the ledger whether a job that failed with this error is tried again.
"""

from __future__ import annotations


class BridgeError(Exception):
    """Base of every error a job can end with."""

    retryable: bool = False
    #: short stable code, stored in the ledger's ``last_error`` and in metrics labels
    code: str = "bridge_error"


class BadInput(BridgeError):
    code = "bad_input"


class PermissionMissing(BridgeError):
    """The OAuth client's role lacks a permission; an operator must fix the role."""

    code = "permission_missing"

    def __init__(self, permissions: list[str], *, any_of: bool, detail: str = "") -> None:
        self.permissions = permissions
        self.any_of = any_of
        wanted = " or ".join(permissions) if any_of else " and ".join(permissions)
        message = (
            f"the Genesys Cloud OAuth client is missing permission {wanted}: add a role "
            f"granting {'one of them' if any_of else 'them'} to the client-credentials OAuth "
            "client (Admin > Integrations > OAuth > Roles), covering the conversations' divisions"
        )
        if detail:
            message = f"{message} ({detail})"
        super().__init__(message)


class NotFound(BridgeError):
    code = "not_found"


class UrlExpired(BridgeError):
    retryable = True
    code = "url_expired"


class RateLimited(BridgeError):
    retryable = True
    code = "rate_limited"

    def __init__(self, retry_after: float, message: str = "rate limited") -> None:
        self.retry_after = retry_after
        super().__init__(f"{message} (retry after {retry_after:g}s)")


class Transient(BridgeError):
    retryable = True
    code = "transient"


class DeliveryRejected(BridgeError):
    code = "delivery_rejected"


class StartupError(Exception):
    """The bridge cannot start, for a reason the operator must fix (not a bug): the CLI
    prints the message as one line, ``media-bridge: <message>``, and exits ``exit_code``."""

    exit_code: int = 1


class ConfigError(StartupError, ValueError):
    """A user's configuration mistake (setting, URL, command-line value).

    Not a job failure: the CLI prints its message as one line, without a traceback, and
    exits 2. The message names what the user set (the env var, the TOML path or the flag).
    """

    exit_code = 2


class ErasureRecordNotSent(StartupError):
    """``forget`` removed what the bridge holds, but a sink refused or could not take the
    erasure record: the operator runs the same ``forget`` again (the record is idempotent
    by its key, and the local part finds nothing more to remove)."""


class LedgerUnreachable(StartupError):
    """The ledger's database could not be reached (or refused the login) at start."""
