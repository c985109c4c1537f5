"""Signed gateway webhooks: HMAC-SHA256 over timestamp and raw body; stale, forged and malformed ones refused."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from integrations.hikvision.webhook_signature import SignatureError, sign, verify

SECRET = "s3cret-shared-with-the-gateway"
BODY = b'{"devices":[{"serial":"F16507415","status":"online"}]}'
NOW = 1_700_000_000


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, BODY) == f"sha256={expected}"
    assert sign(SECRET.encode(), str(NOW), BODY) == f"sha256={expected}"


def test_a_fresh_signature_verifies() -> None:
    signature = sign(SECRET, NOW, BODY)
    verify(SECRET, str(NOW), signature, BODY, now=NOW + 299)
    verify(SECRET, NOW, signature.upper().replace("SHA256=", "sha256="), BODY, now=NOW - 299)


@pytest.mark.parametrize(
    ("timestamp", "signature", "body", "now", "reason"),
    [
        (None, "sign", BODY, NOW, "missing X-Gatehouse-Timestamp"),
        ("", "sign", BODY, NOW, "missing X-Gatehouse-Timestamp"),
        (str(NOW), None, BODY, NOW, "missing X-Gatehouse-Signature"),
        (str(NOW), "", BODY, NOW, "missing X-Gatehouse-Signature"),
        ("yesterday", "sign", BODY, NOW, "not unix seconds"),
        ("-5", "sign", BODY, NOW, "not unix seconds"),
        ("1e9", "sign", BODY, NOW, "not unix seconds"),
        (str(NOW), "sign", BODY, NOW + 301, "stale or replayed"),
        (str(NOW), "sign", BODY, NOW - 301, "stale or replayed"),
        (str(NOW), "md5=abc", BODY, NOW, "must start with sha256="),
        (str(NOW), "sha256=xyz", BODY, NOW, "not a hex SHA-256"),
        (str(NOW), "sign", BODY + b" ", NOW, "bad signature"),
        (str(NOW + 1), "sign", BODY, NOW, "bad signature"),
    ],
)
def test_refusals_say_why(timestamp: str | None, signature: str | None, body: bytes, now: int, reason: str) -> None:
    if signature == "sign":
        signature = sign(SECRET, NOW, BODY)
    with pytest.raises(SignatureError, match=reason) as caught:
        verify(SECRET, timestamp, signature, body, now=now)
    assert reason in caught.value.reason


def test_another_secret_fails_and_an_empty_secret_refuses_everything() -> None:
    signature = sign("other", NOW, BODY)
    with pytest.raises(SignatureError, match="bad signature"):
        verify(SECRET, NOW, signature, BODY, now=NOW)
    with pytest.raises(SignatureError, match="no webhook secret"):
        verify("", NOW, sign("", NOW, BODY), BODY, now=NOW)


def test_max_age_is_configurable() -> None:
    signature = sign(SECRET, NOW, BODY)
    verify(SECRET, NOW, signature, BODY, now=NOW + 1000, max_age=3600)
    with pytest.raises(SignatureError, match="60 s"):
        verify(SECRET, NOW, signature, BODY, now=NOW + 61, max_age=60)
