"""HTTP authentication of the simulated device's snapshot URL: Digest (RFC 7616, MD5, qop=auth) or Basic.

Cameras protect ``GetSnapshotUri`` images with HTTP Digest, some with Basic; the simulator does either so the
client's fallback from one to the other is tested against a real challenge.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets

from aiohttp import web

_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class HttpAuthenticator:
    """Checks a request's Authorization header for one account; ``scheme`` is ``digest``, ``basic`` or ``none``."""

    def __init__(self, username: str, password: str, scheme: str = "digest", realm: str = "Gatehouse") -> None:
        if scheme not in ("digest", "basic", "none"):
            raise ValueError(f"scheme must be digest, basic or none, not {scheme!r}")
        self.username = username
        self.password = password
        self.scheme = scheme
        self.realm = realm
        self._nonces: set[str] = set()

    def authorized(self, request: web.Request) -> bool:
        if self.scheme == "none":
            return True
        header = request.headers.get("Authorization", "")
        kind, _, value = header.partition(" ")
        if self.scheme == "basic" and kind.lower() == "basic":
            return self._basic_ok(value)
        if self.scheme == "digest" and kind.lower() == "digest":
            return self._digest_ok(request.method, value)
        return False

    def challenge(self) -> web.Response:
        if self.scheme == "basic":
            header = f'Basic realm="{self.realm}"'
        else:
            nonce = secrets.token_hex(16)
            self._nonces.add(nonce)
            header = f'Digest realm="{self.realm}", qop="auth", nonce="{nonce}", algorithm=MD5'
        return web.Response(status=401, headers={"WWW-Authenticate": header}, text="401 Unauthorized")

    def _basic_ok(self, value: str) -> bool:
        try:
            user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, self.username) and hmac.compare_digest(password, self.password)

    def _digest_ok(self, method: str, value: str) -> bool:
        params = {match[0].lower(): match[1] or match[2] for match in _PARAM.findall(value)}
        if params.get("username") != self.username or params.get("nonce") not in self._nonces:
            return False
        ha1 = _md5(f"{self.username}:{self.realm}:{self.password}")
        ha2 = _md5(f"{method}:{params.get('uri', '')}")
        if params.get("qop") == "auth":
            expected = _md5(f"{ha1}:{params['nonce']}:{params.get('nc', '')}:{params.get('cnonce', '')}:auth:{ha2}")
        else:
            expected = _md5(f"{ha1}:{params['nonce']}:{ha2}")
        return hmac.compare_digest(params.get("response", ""), expected)
