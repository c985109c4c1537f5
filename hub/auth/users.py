"""Users and API keys as the rest of the hub sees them: immutable values, never carrying a hash."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hub.auth.errors import InvalidUserInput
from hub.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from hub.auth.scope import Caller, Role
from hub.store.models import ApiKeyRow, UserRow

_USERNAME = re.compile(r"^[a-z0-9._@-]{3,64}$")
MAX_NAME_LENGTH = 255


@dataclass(frozen=True, slots=True)
class User:
    """A person who signs in. ``tenant_id`` is None only for platform administrators."""

    id: str
    username: str
    name: str
    tenant_id: str | None
    role: Role
    platform_admin: bool
    disabled: bool
    created_at: float
    last_login: float | None

    @classmethod
    def from_row(cls, row: UserRow) -> User:
        return cls(
            row.id,
            row.username,
            row.name,
            row.tenant_id,
            Role(row.role),
            row.platform_admin,
            row.disabled,
            row.created_at,
            row.last_login,
        )

    def caller(self, via: str = "token") -> Caller:
        return Caller(self.id, self.tenant_id, self.role, self.platform_admin, self.username, via)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "name": self.name,
            "tenant_id": self.tenant_id,
            "role": self.role.value,
            "platform_admin": self.platform_admin,
            "disabled": self.disabled,
            "created_at": self.created_at,
            "last_login": self.last_login,
        }


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A long-lived credential for a program; ``prefix`` is the visible start of its secret."""

    id: str
    name: str
    prefix: str
    tenant_id: str | None
    role: Role
    platform_admin: bool
    created_by: str | None
    created_at: float
    last_used_at: float | None
    revoked_at: float | None

    @classmethod
    def from_row(cls, row: ApiKeyRow) -> ApiKey:
        return cls(
            row.id,
            row.name,
            row.prefix,
            row.tenant_id,
            Role(row.role),
            row.platform_admin,
            row.created_by,
            row.created_at,
            row.last_used_at,
            row.revoked_at,
        )

    def caller(self) -> Caller:
        """A key acts in its tenant with its role, as nobody in particular: audit records the key's name."""
        return Caller(None, self.tenant_id, self.role, self.platform_admin, self.name, "api_key")

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "tenant_id": self.tenant_id,
            "role": self.role.value,
            "platform_admin": self.platform_admin,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "last_used_at": self.last_used_at,
            "revoked_at": self.revoked_at,
        }


def normalize_username(username: str) -> str:
    """Usernames compare without case: they are stored and looked up in lower case."""
    return username.strip().lower()


def check_username(username: Any) -> str:
    if not isinstance(username, str) or not _USERNAME.match(normalize_username(username)):
        raise InvalidUserInput({"username": "use 3 to 64 characters: letters, digits, '.', '_', '@' or '-'"})
    return normalize_username(username)


def check_password(password: Any) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidUserInput({"password": f"use at least {MIN_PASSWORD_LENGTH} characters"})
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidUserInput({"password": f"use at most {MAX_PASSWORD_LENGTH} characters"})
    return password


def check_role(role: Any) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidUserInput({"role": f"expected one of {', '.join(Role)}"}) from None


def check_name(name: Any, field: str = "name") -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise InvalidUserInput({field: f"use 1 to {MAX_NAME_LENGTH} characters"})
    return name.strip()
