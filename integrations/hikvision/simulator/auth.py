"""The device side of ISAPI logins: HTTP Digest (RFC 7616, MD5, qop=auth) or Basic, and the account lock-out.

Nonces carry their issue time and an HMAC, so any nonce can be checked without state; an expired or replayed
nonce with the right password is answered ``stale=true`` (the client re-hashes, no failure counted), a wrong
password counts toward the lock-out. After ``lock_after_failures`` consecutive failures every request is refused
with 403 until ``unlock()``, as real devices lock the account.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import time
from typing import Literal

from aiohttp import web

AuthScheme = Literal["digest", "basic"]

_PAIR = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*(?:,|$)')
_NONCE_CACHE = 4096


def parse_auth_params(text: str) -> dict[str, str]:
    """``key=value, key="quoted, value"`` pairs of an Authorization header (after the scheme)."""
    params: dict[str, str] = {}
    for match in _PAIR.finditer(text):
        quoted, bare = match.group(2), match.group(3)
        params[match.group(1).lower()] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
    return params


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


class DeviceAuth:
    """One account (``username``/``password``) guarded the way Hikvision firmware guards it."""

    def __init__(
        self,
        username: str,
        password: str,
        *,
        realm: str,
        scheme: AuthScheme = "digest",
        lock_after_failures: int = 5,
        nonce_lifetime: float = 300.0,
    ) -> None:
        self.username = username
        self.password = password
        self.realm = realm
        self.scheme: AuthScheme = scheme
        self.lock_after_failures = lock_after_failures
        self.nonce_lifetime = nonce_lifetime
        self.failed_attempts = 0  # every refused credential since start
        self.consecutive_failures = 0
        self.locked = False
        self._secret = os.urandom(16)
        self._opaque = os.urandom(8).hex()
        self._seen: dict[str, set[str]] = {}  # nonce -> nc values already used (replays are refused)

    # ------------------------------------------------------------------------------------ operator actions

    def unlock(self) -> None:
        self.locked = False
        self.consecutive_failures = 0

    def set_password(self, password: str) -> None:
        self.password = password

    @property
    def remaining_attempts(self) -> int:
        return max(0, self.lock_after_failures - self.consecutive_failures)

    # ----------------------------------------------------------------------------------------- the check

    def check(self, request: web.Request) -> web.Response | None:
        """None when the request is authenticated, else the 400/401/403 answer to send."""
        if self.locked:
            return self._user_check(403, "Forbidden")
        header = request.headers.get("Authorization", "")
        scheme, _, rest = header.partition(" ")
        if not header:
            return self._challenge()
        if self.scheme == "basic":
            if scheme.lower() != "basic":
                return self._challenge()
            return self._check_basic(rest.strip())
        if scheme.lower() != "digest":
            return self._challenge()
        return self._check_digest(request, parse_auth_params(rest))

    def _check_basic(self, token: str) -> web.Response | None:
        try:
            username, _, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return _bad_authorization("Basic credentials are not base64 of user:password")
        ok = hmac.compare_digest(username, self.username) and hmac.compare_digest(password, self.password)
        return None if ok else self._failure()

    def _check_digest(self, request: web.Request, params: dict[str, str]) -> web.Response | None:
        for field in ("username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce"):
            if not params.get(field):
                return _bad_authorization(f"Digest authorization lacks {field!r}")
        if params["realm"] != self.realm:
            return _bad_authorization("Digest realm does not match")
        if params.get("algorithm", "MD5").upper() != "MD5":
            return _bad_authorization(f"Digest algorithm {params['algorithm']!r} is not offered (MD5 is)")
        if params["qop"] != "auth":
            return _bad_authorization(f"Digest qop {params['qop']!r} is not offered (auth is)")
        if params["uri"] != request.raw_path:
            return _bad_authorization("Digest uri does not match the request target")
        if params.get("opaque", self._opaque) != self._opaque:
            return _bad_authorization("Digest opaque was not echoed")
        nonce, nc = params["nonce"], params["nc"]
        ha1 = _md5(f"{self.username}:{self.realm}:{self.password}")
        ha2 = _md5(f"{request.method}:{params['uri']}")
        expected = _md5(f"{ha1}:{nonce}:{nc}:{params['cnonce']}:auth:{ha2}")
        if params["username"] != self.username or not hmac.compare_digest(expected, params["response"].lower()):
            return self._failure()
        if not self._nonce_fresh(nonce) or not self._first_use(nonce, nc):
            return self._challenge(stale=True)
        self.consecutive_failures = 0
        return None

    # ----------------------------------------------------------------------------------------- nonces

    def new_nonce(self) -> str:
        issued = f"{int(time.time() * 1000):x}"
        return issued + hmac.new(self._secret, issued.encode(), hashlib.sha256).hexdigest()[:24]

    def _nonce_fresh(self, nonce: str) -> bool:
        issued, tag = nonce[:-24], nonce[-24:]
        good = hmac.new(self._secret, issued.encode(), hashlib.sha256).hexdigest()[:24]
        if not issued or not hmac.compare_digest(good, tag):
            return False
        try:
            age = time.time() - int(issued, 16) / 1000
        except ValueError:
            return False
        return 0 <= age <= self.nonce_lifetime

    def _first_use(self, nonce: str, nc: str) -> bool:
        seen = self._seen.get(nonce)
        if seen is None:
            if len(self._seen) >= _NONCE_CACHE:
                self._seen = {key: value for key, value in self._seen.items() if self._nonce_fresh(key)}
            seen = self._seen[nonce] = set()
        if nc in seen:
            return False
        seen.add(nc)
        return True

    # ----------------------------------------------------------------------------------------- answers

    def _failure(self) -> web.Response:
        self.failed_attempts += 1
        self.consecutive_failures += 1
        if self.consecutive_failures >= self.lock_after_failures:
            self.locked = True
            return self._user_check(403, "Forbidden")
        return self._challenge()

    def _challenge(self, *, stale: bool = False) -> web.Response:
        if self.scheme == "basic":
            header = f'Basic realm="{self.realm}"'
        else:
            header = (
                f'Digest qop="auth", realm="{self.realm}", nonce="{self.new_nonce()}", '
                f'stale="{"TRUE" if stale else "FALSE"}", opaque="{self._opaque}", algorithm="MD5"'
            )
        response = self._user_check(401, "Unauthorized")
        response.headers["WWW-Authenticate"] = header
        return response

    def _user_check(self, status: int, text: str) -> web.Response:
        """The ``userCheck`` document firmware answers with: lock state and the attempts left."""
        lock = "lock" if self.locked else "unlock"
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<userCheck version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">\n'
            f"<statusValue>{status}</statusValue>\n<statusString>{text}</statusString>\n"
            f"<isDefaultPassword>false</isDefaultPassword>\n<lockStatus>{lock}</lockStatus>\n"
            f"<unlockTime>{1800 if self.locked else 0}</unlockTime>\n"
            f"<retryLoginTime>{self.remaining_attempts}</retryLoginTime>\n</userCheck>\n"
        )
        return web.Response(status=status, body=body.encode(), content_type="application/xml", charset="UTF-8")


def _bad_authorization(reason: str) -> web.Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ResponseStatus version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">\n'
        "<statusCode>4</statusCode>\n<statusString>Invalid Operation</statusString>\n"
        f"<subStatusCode>badAuthorization</subStatusCode>\n<errorMsg>{reason}</errorMsg>\n</ResponseStatus>\n"
    )
    return web.Response(status=400, body=body.encode(), content_type="application/xml", charset="UTF-8")
