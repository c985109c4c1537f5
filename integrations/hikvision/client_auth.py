"""HTTP Digest and Basic for ISAPI clients, negotiated from the device's 401, careful with lock-outs.

Why not aiohttp's ``DigestAuthMiddleware``: it only speaks Digest (some devices ask for Basic), and after a
refused password it retries once more by design, which spends a second attempt of the few a Hikvision account
has before it locks. Here a 401 is retried only when the credentials cannot be what failed: the request carried
none yet, the device says ``stale=true``, or a nonce that already worked was silently replaced (firmware that
expires nonces without the stale flag). Any other 401 is the password, and the caller stops.

The nonce is reused with a counting ``nc`` (no 401 round trip per request); MD5, MD5-sess, SHA-256 and
SHA-256-sess are understood, qop ``auth`` (or ``auth-int``) or none (RFC 2069).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

Scheme = Literal["none", "basic", "digest"]

_SCHEME_START = re.compile(r"(?:^|,)\s*(Digest|Basic|Bearer|Negotiate|NTLM)(?=\s|$)", re.IGNORECASE)
_PARAM = re.compile(r'([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')
_PROVEN_KEPT = 4
_HASHES: dict[str, Callable[[bytes], hashlib._Hash]] = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


class UnsupportedAuthError(Exception):
    """The device asks for a scheme or algorithm this client does not speak."""


@dataclass(slots=True)
class Challenge:
    scheme: str  # lower case
    params: dict[str, str]


def parse_challenges(values: Iterable[str]) -> list[Challenge]:
    """Every challenge of one or more ``WWW-Authenticate`` header values (several may share one header)."""
    challenges: list[Challenge] = []
    for value in values:
        starts = list(_SCHEME_START.finditer(value))
        for index, match in enumerate(starts):
            end = starts[index + 1].start() if index + 1 < len(starts) else len(value)
            params: dict[str, str] = {}
            for param in _PARAM.finditer(value, match.end(), end):
                quoted, bare = param.group(2), param.group(3)
                params[param.group(1).lower()] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
            challenges.append(Challenge(match.group(1).lower(), params))
    return challenges


@dataclass(slots=True)
class SentAuth:
    """What one request carried, so its 401 can be judged."""

    scheme: Scheme
    nonce: str | None = None


class ClientAuth:
    """Credentials for one device (or one gateway account) and the scheme negotiated with it."""

    __slots__ = ("_cnonce_seed", "_nc", "_params", "_proven", "password", "scheme", "username")

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = password
        self.scheme: Scheme = "none"
        self._params: dict[str, str] = {}
        self._nc = 0
        self._proven: list[str] = []  # the last nonces that worked (concurrent requests may hold older ones)
        self._cnonce_seed = os.urandom(8)

    def authorization(self, method: str, uri: str, body: bytes = b"") -> tuple[str | None, SentAuth]:
        """The ``Authorization`` header for the next request (None before a scheme is known) and what was sent."""
        if self.scheme == "basic":
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            return f"Basic {token}", SentAuth("basic")
        if self.scheme == "digest":
            return self._digest(method, uri, body), SentAuth("digest", self._params.get("nonce"))
        return None, SentAuth("none")

    def accepted(self, sent: SentAuth) -> None:
        """The request was not refused: the nonce it used is known good."""
        if sent.scheme == "digest" and sent.nonce and sent.nonce not in self._proven:
            self._proven.append(sent.nonce)
            del self._proven[:-_PROVEN_KEPT]

    def challenged(self, values: Iterable[str], sent: SentAuth) -> bool:
        """Learn from a 401. True: retry with the new challenge. False: the credentials themselves were refused.

        Raises ``UnsupportedAuthError`` when the device offers nothing this client speaks."""
        challenges = parse_challenges(values)
        digest = next((c for c in challenges if c.scheme == "digest" and c.params.get("nonce")), None)
        basic = next((c for c in challenges if c.scheme == "basic"), None)
        if digest is None and basic is None:
            offered = ", ".join(sorted({c.scheme for c in challenges})) or "no WWW-Authenticate challenge"
            raise UnsupportedAuthError(f"device asks for {offered}; only Digest and Basic are supported")
        if digest is not None:
            algorithm = digest.params.get("algorithm", "MD5").upper()
            if algorithm.removesuffix("-SESS") not in _HASHES:
                raise UnsupportedAuthError(f"Digest algorithm {algorithm} is not supported")
            qop = _qop_options(digest.params)
            if qop and not {"auth", "auth-int"} & qop:
                raise UnsupportedAuthError(f"Digest qop {digest.params['qop']} is not supported")
            stale = digest.params.get("stale", "").lower() == "true"
            if digest.params["nonce"] != self._params.get("nonce"):
                self._params, self._nc = digest.params, 0
            self.scheme = "digest"
            if sent.scheme != "digest":
                return True  # first contact, or the device moved from Basic to Digest
            # a nonce that worked before and now fails expired: the password was fine
            return stale or (sent.nonce in self._proven and digest.params["nonce"] != sent.nonce)
        self.scheme = "basic"
        return sent.scheme != "basic"

    def _digest(self, method: str, uri: str, body: bytes) -> str:
        params = self._params
        algorithm = params.get("algorithm", "MD5")
        upper = algorithm.upper()
        hash_fn = _HASHES[upper.removesuffix("-SESS")]

        def h(text: str | bytes) -> str:
            return hash_fn(text.encode() if isinstance(text, str) else text).hexdigest()

        realm, nonce = params.get("realm", ""), params["nonce"]
        self._nc += 1
        nc = f"{self._nc:08x}"
        cnonce = hashlib.sha256(self._cnonce_seed + nonce.encode() + nc.encode() + os.urandom(8)).hexdigest()[:16]
        ha1 = h(f"{self.username}:{realm}:{self.password}")
        if upper.endswith("-SESS"):
            ha1 = h(f"{ha1}:{nonce}:{cnonce}")
        options = _qop_options(params)
        qop = "auth" if "auth" in options or not options else "auth-int"
        ha2 = h(f"{method}:{uri}") if qop == "auth" else h(f"{method}:{uri}:{h(body)}")
        fields = [
            f'username="{_quote(self.username)}"',
            f'realm="{_quote(realm)}"',
            f'nonce="{_quote(nonce)}"',
            f'uri="{_quote(uri)}"',
            f"algorithm={algorithm}",
        ]
        if options:
            response = h(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
            fields += [f"qop={qop}", f"nc={nc}", f'cnonce="{cnonce}"']
        else:
            response = h(f"{ha1}:{nonce}:{ha2}")
        fields.append(f'response="{response}"')
        if "opaque" in params:
            fields.append(f'opaque="{_quote(params["opaque"])}"')
        return "Digest " + ", ".join(fields)


def _qop_options(params: dict[str, str]) -> set[str]:
    return {option.strip().lower() for option in params.get("qop", "").split(",") if option.strip()}


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
