"""Access tokens (JWT, HS256), opaque refresh tokens and API key secrets, and the signing secret every node shares.

Access tokens are short-lived and checked without the database; refresh tokens and API keys are random strings
of which only the SHA-256 is stored, so a copy of the database lets nobody sign in.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hub.auth.errors import InvalidToken
from hub.store.database import Database
from hub.store.models import SettingRow

ISSUER = "gatehouse"
ALGORITHM = "HS256"
SECRET_SETTING = "jwt_secret"
SECRET_BYTES = 64
API_KEY_PREFIX = "gh_"
API_KEY_VISIBLE = 10  # "gh_" and 7 characters: enough to tell keys apart in a list, useless to guess the rest
# iat is informational: checking it would refuse a fresh token from a node whose clock runs a second ahead.
_DECODE_OPTIONS: jwt.types.Options = {"require": ["exp", "iat", "sub", "jti"], "verify_iat": False}


@dataclass(frozen=True, slots=True)
class TokenPair:
    """What signing in or refreshing returns: a short-lived access token and the refresh token to renew it."""

    access_token: str
    refresh_token: str
    expires_in: int  # seconds the access token is valid
    token_type: str = "Bearer"

    def as_dict(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_in": self.expires_in,
            "token_type": self.token_type,
        }


def digest(secret: str) -> str:
    """The SHA-256 under which a refresh token or API key is stored (hex)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def new_api_key_secret() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def is_api_key(bearer: str) -> bool:
    return bearer.startswith(API_KEY_PREFIX)


class AccessTokens:
    """Signs and checks access tokens with the hub's secret."""

    __slots__ = ("_secret", "ttl")

    def __init__(self, secret: bytes, ttl: float) -> None:
        self._secret = secret
        self.ttl = ttl

    def issue(self, user_id: str, tenant_id: str | None, role: str, platform_admin: bool) -> str:
        now = time.time()
        claims = {
            "sub": user_id,
            "tid": tenant_id,
            "role": role,
            "pa": platform_admin,
            "iat": int(now),
            "exp": int(now + self.ttl),
            "jti": secrets.token_urlsafe(12),
            "iss": ISSUER,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def decode(self, token: str) -> dict[str, Any]:
        """The claims of a valid token; InvalidToken if it is expired, signed by another secret or altered."""
        try:
            return jwt.decode(token, self._secret, algorithms=[ALGORITHM], issuer=ISSUER, options=_DECODE_OPTIONS)
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the access token has expired") from None
        except jwt.PyJWTError:
            raise InvalidToken() from None


async def load_secret(database: Database) -> bytes:
    """The signing secret from the ``settings`` table, made on the very first start.

    Nodes that start together on one PostgreSQL race to insert it: the loser reads the winner's.
    """
    async with database.session() as session:
        value = await session.scalar(select(SettingRow.value).where(SettingRow.key == SECRET_SETTING))
    if value is not None:
        return bytes.fromhex(value)
    secret = secrets.token_bytes(SECRET_BYTES)
    try:
        async with database.session() as session:
            session.add(SettingRow(key=SECRET_SETTING, value=secret.hex()))
            await session.commit()
    except IntegrityError:
        async with database.session() as session:
            value = await session.scalar(select(SettingRow.value).where(SettingRow.key == SECRET_SETTING))
        if value is None:
            raise
        return bytes.fromhex(value)
    return secret
