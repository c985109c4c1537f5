"""Signed webhooks from the gateway side: HMAC-SHA256 over the timestamp and the raw body, replays refused.

The sender puts the unix time in ``X-Gatehouse-Timestamp`` and ``sha256=<hex>`` in ``X-Gatehouse-Signature``,
where the hex is ``HMAC-SHA256(secret, f"{timestamp}.".encode() + body)``. Signing the timestamp with the body
means an old request cannot be replayed with a fresh timestamp; the age check bounds how long a captured
request stays usable.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER_TIMESTAMP = "X-Gatehouse-Timestamp"
HEADER_SIGNATURE = "X-Gatehouse-Signature"
SIGNATURE_PREFIX = "sha256="
MAX_AGE = 300


class SignatureError(Exception):
    """A webhook that must be refused; ``reason`` is short and safe to log or return."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _secret_bytes(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def sign(secret: str | bytes, timestamp: int | str, body: bytes) -> str:
    """The ``X-Gatehouse-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
    digest = hmac.new(_secret_bytes(secret), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify(
    secret: str | bytes,
    timestamp: str | int | None,
    signature: str | None,
    body: bytes,
    *,
    now: float,
    max_age: float = MAX_AGE,
) -> None:
    """Raise ``SignatureError`` unless ``signature`` is ours for ``body`` and ``timestamp`` is within ``max_age`` of
    ``now`` (either side: a clock far in the future is refused like a replay)."""
    if not _secret_bytes(secret):
        raise SignatureError("no webhook secret is configured")
    if timestamp is None or timestamp == "":
        raise SignatureError(f"missing {HEADER_TIMESTAMP} header")
    if not signature:
        raise SignatureError(f"missing {HEADER_SIGNATURE} header")
    text = str(timestamp).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise SignatureError(f"{HEADER_TIMESTAMP} is not unix seconds")
    if abs(now - int(text)) > max_age:
        raise SignatureError(f"{HEADER_TIMESTAMP} is more than {int(max_age)} s away from now (stale or replayed)")
    if not signature.startswith(SIGNATURE_PREFIX):
        raise SignatureError(f"{HEADER_SIGNATURE} must start with {SIGNATURE_PREFIX}")
    given = signature[len(SIGNATURE_PREFIX) :].strip().lower()
    if len(given) != 64 or not given.isascii() or any(c not in "0123456789abcdef" for c in given):
        raise SignatureError(f"{HEADER_SIGNATURE} is not a hex SHA-256 digest")
    expected = sign(secret, text, body)[len(SIGNATURE_PREFIX) :]
    if not hmac.compare_digest(expected, given):
        raise SignatureError("bad signature")
