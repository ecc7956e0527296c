"""RFC 9421 HTTP Message Signatures as AudioHook uses them (HMAC-SHA256, label ``sig1``).

``verify_request_signature`` follows Genesys' reference server: all six components,
``keyid`` equal to ``X-API-KEY``, a nonce of at least 22 characters, ``created`` not in
the future and not too old, ``expires`` not passed (both with clock skew), only
``hmac-sha256``, a constant-time compare, and a random key for unknown API keys so
the work done does not depend on whether the key exists. ``sign_request`` is the
client side (used by the simulator).

Hand-written: those checks are the AudioHook reference server's, not RFC 9421's. The
generic library (``http-message-signatures``, not a dependency) builds the signature base
and checks the HMAC, ``created`` and ``expires``, but without clock skew and with no
nonce or required-component rule; it also reads the headers with ``http_sfv``, which
accepts what RFC 8941 requires failing (``structured_fields``). What would remain to
write around it is most of this module.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from media_bridge.audiohook.structured_fields import (
    InnerList,
    Item,
    StructuredFieldError,
    parse_dictionary,
    serialize_inner_list,
    serialize_item,
)

REQUIRED_COMPONENTS: tuple[str, ...] = (
    "@request-target",
    "@authority",
    "audiohook-organization-id",
    "audiohook-session-id",
    "audiohook-correlation-id",
    "x-api-key",
)
_DERIVED = {"@request-target", "@authority"}
_KNOWN_PARAMS = {"alg", "created", "expires", "keyid", "nonce"}


@dataclass(frozen=True)
class VerifyResult:
    #: VERIFIED, UNSIGNED, INVALID, PRECONDITION, EXPIRED, FAILED, UNSUPPORTED
    code: str
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.code == "VERIFIED"


@dataclass(frozen=True)
class SignaturePolicy:
    max_age_s: int = 10
    clock_skew_s: int = 3
    min_nonce_length: int = 22


class NonceCache:
    """The ``(keyid, nonce)`` pairs of accepted signatures, each kept until a signature
    with it could no longer be accepted (max age plus skew): a captured upgrade request
    cannot be replayed inside its window."""

    def __init__(self, keep_s: float) -> None:
        self._keep_s = keep_s
        self._until: dict[tuple[str, str], float] = {}

    def first_use(self, keyid: str, nonce: str, now: float) -> bool:
        """Remember the pair; ``False`` when it was already used within the window."""
        if len(self._until) > 1024:
            self._until = {pair: t for pair, t in self._until.items() if t > now}
        pair = (keyid, nonce)
        if self._until.get(pair, 0.0) > now:
            return False
        self._until[pair] = now + self._keep_s
        return True


def decode_secret(secret_b64: str) -> bytes:
    """The HMAC key is the base64-decoded client secret (padding optional)."""
    padded = secret_b64 + "=" * (-len(secret_b64) % 4)
    return base64.b64decode(padded)


def canonical_header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        return None
    return " ".join(value.strip().split("\r\n"))


def authority_of(host: str, scheme: str = "wss") -> str:
    """``@authority``: the Host without a default port, lower-cased."""
    host = host.strip().lower()
    default = ":443" if scheme in ("wss", "https") else ":80"
    return host[: -len(default)] if host.endswith(default) else host


def signature_base(lines: list[tuple[str, str]], params_text: str) -> str:
    body = [f'"{name}": {value}' for name, value in lines]
    body.append(f'"@signature-params": {params_text}')
    return "\n".join(body)


def verify_request_signature(
    headers: Mapping[str, str],
    request_target: str,
    authority: str,
    lookup_secret: Callable[[str], tuple[bool, bytes | None]],
    policy: SignaturePolicy = SignaturePolicy(),
    now: Callable[[], float] = time.time,
    nonces: NonceCache | None = None,
) -> VerifyResult:
    """Check a request's signature. ``headers`` must have lower-case names; with
    ``nonces``, a verified signature whose nonce was seen in its window fails.

    ``lookup_secret(api_key)`` returns ``(known, key)``: ``key`` is None when the key is
    known but has no client secret (then only unsigned requests pass).
    """
    api_key = canonical_header(headers, "x-api-key")
    if not api_key:
        return VerifyResult("PRECONDITION", 'missing "X-API-KEY" header field')
    known, key = lookup_secret(api_key)
    sig_input_raw = headers.get("signature-input")
    sig_raw = headers.get("signature")
    if not sig_input_raw and not sig_raw:
        if known and key is None:
            return VerifyResult("VERIFIED")
        return VerifyResult("UNSIGNED", "request is not signed")
    parsed = _parse_signature(sig_input_raw, sig_raw)
    if isinstance(parsed, VerifyResult):
        return parsed
    spec, signature = parsed
    params = _signature_params(spec)
    if isinstance(params, VerifyResult):
        return params
    refused = _check_times(params, now(), policy)
    if refused is not None:
        return refused
    lines = _components(spec, headers, request_target, authority)
    if isinstance(lines, VerifyResult):
        return lines
    nonce = _nonce(params, policy, api_key)
    if isinstance(nonce, VerifyResult):
        return nonce

    # Unknown keys (and known keys without a secret) are checked against a random key:
    # the same work is done, and the result is forced to FAILED.
    good = known and key is not None
    hmac_key = key if good and key is not None else secrets.token_bytes(32)
    base = signature_base(lines, serialize_inner_list(spec))
    computed = hmac.new(hmac_key, base.encode("utf-8"), hashlib.sha256).digest()
    match = hmac.compare_digest(computed, signature)
    alg = params.get("alg", "hmac-sha256")
    if match and good:
        if alg != "hmac-sha256":
            return VerifyResult("UNSUPPORTED", f"algorithm {alg}")
        if nonces is not None and not nonces.first_use(api_key, nonce, now()):
            return VerifyResult("FAILED", "nonce already used (a replayed request)")
        return VerifyResult("VERIFIED")
    return VerifyResult("FAILED", "signature mismatch")


def _parse_signature(
    sig_input_raw: str | None, sig_raw: str | None
) -> VerifyResult | tuple[InnerList, bytes]:
    """The first signature-input member and the signature bytes of its label."""
    if not sig_input_raw or not sig_raw:
        return VerifyResult("INVALID", "signature and signature-input must both be present")
    try:
        inputs = parse_dictionary(sig_input_raw)
        sigs = parse_dictionary(sig_raw)
    except StructuredFieldError as exc:
        return VerifyResult("INVALID", f"unparsable signature header: {exc}")
    if not inputs:
        return VerifyResult("INVALID", "empty signature-input")
    label, spec = next(iter(inputs.items()))
    sig_item = sigs.get(label)
    if not isinstance(spec, InnerList):
        return VerifyResult("INVALID", "signature-input member must be an inner list")
    if not isinstance(sig_item, Item) or not isinstance(sig_item.value, bytes):
        return VerifyResult("INVALID", f"no byte-sequence signature for label {label}")
    return spec, sig_item.value


def _signature_params(spec: InnerList) -> VerifyResult | dict[str, object]:
    """The signature parameters, each known and of its type."""
    params: dict[str, object] = {}
    for name, value in spec.params:
        if name not in _KNOWN_PARAMS:
            return VerifyResult("INVALID", f"unknown signature parameter {name}")
        want_int = name in ("created", "expires")
        if want_int != (isinstance(value, int) and not isinstance(value, bool)):
            return VerifyResult("INVALID", f"bad type of signature parameter {name}")
        if want_int and isinstance(value, int) and value < 0:
            return VerifyResult("INVALID", f"negative {name}")
        params[name] = value
    return params


def _check_times(
    params: dict[str, object], current: float, policy: SignaturePolicy
) -> VerifyResult | None:
    """None when ``created``/``expires`` put the signature inside its window."""
    created = params.get("created")
    expires = params.get("expires")
    skew = policy.clock_skew_s
    if isinstance(created, int) and created > current + skew:
        return VerifyResult("PRECONDITION", "created is in the future")
    if isinstance(expires, int) and expires < current + skew:
        return VerifyResult("EXPIRED", "signature expired")
    if not isinstance(created, int):
        return VerifyResult("PRECONDITION", "no created parameter")
    if created + policy.max_age_s < current + skew:
        return VerifyResult("EXPIRED", "signature too old")
    return None


def _components(
    spec: InnerList, headers: Mapping[str, str], request_target: str, authority: str
) -> VerifyResult | list[tuple[str, str]]:
    """The covered components' (name, value) lines; all required ones must be there."""
    lines: list[tuple[str, str]] = []
    seen: set[str] = set()
    for comp in spec.items:
        if not isinstance(comp.value, str) or comp.params:
            return VerifyResult("INVALID", "components must be plain strings")
        name = comp.value
        if name in seen:
            return VerifyResult("INVALID", f"duplicate component {name}")
        seen.add(name)
        if name.startswith("@"):
            if name not in _DERIVED:
                return VerifyResult("UNSUPPORTED", f"derived component {name}")
            comp_value: str | None = request_target if name == "@request-target" else authority
        else:
            comp_value = canonical_header(headers, name)
        if not comp_value:
            return VerifyResult("PRECONDITION", f"component {name} not present")
        lines.append((name, comp_value))
    missing = [c for c in REQUIRED_COMPONENTS if c not in seen]
    if missing:
        return VerifyResult("PRECONDITION", f"signature does not cover {', '.join(missing)}")
    return lines


def _nonce(params: dict[str, object], policy: SignaturePolicy, api_key: str) -> VerifyResult | str:
    """The nonce, long enough, under a ``keyid`` that names the request's API key."""
    nonce = params.get("nonce")
    if not isinstance(nonce, str):
        return VerifyResult("PRECONDITION", "missing nonce")
    if len(nonce) < policy.min_nonce_length:
        return VerifyResult("PRECONDITION", "nonce too short")
    if params.get("keyid") != api_key:
        return VerifyResult("PRECONDITION", "keyid does not match X-API-KEY")
    return nonce


def sign_request(
    *,
    request_target: str,
    authority: str,
    organization_id: str,
    session_id: str,
    correlation_id: str,
    api_key: str,
    client_secret_b64: str,
    nonce: str | None = None,
    created: int | None = None,
    expires: int | None = None,
) -> dict[str, str]:
    """The ``Signature-Input`` and ``Signature`` headers Genesys would send."""
    created = int(time.time()) if created is None else created
    expires = created + 60 if expires is None else expires
    nonce = nonce or secrets.token_urlsafe(24)
    values = {
        "@request-target": request_target,
        "@authority": authority,
        "audiohook-organization-id": organization_id,
        "audiohook-session-id": session_id,
        "audiohook-correlation-id": correlation_id,
        "x-api-key": api_key,
    }
    spec = InnerList(
        [Item(c) for c in REQUIRED_COMPONENTS],
        [
            ("keyid", api_key),
            ("nonce", nonce),
            ("alg", "hmac-sha256"),
            ("created", created),
            ("expires", expires),
        ],
    )
    params_text = serialize_inner_list(spec)
    base = signature_base([(c, values[c]) for c in REQUIRED_COMPONENTS], params_text)
    digest = hmac.new(decode_secret(client_secret_b64), base.encode(), hashlib.sha256).digest()
    return {
        "Signature-Input": f"sig1={params_text}",
        "Signature": f"sig1={serialize_item(Item(digest))}",
    }
