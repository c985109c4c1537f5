"""Tenants' users, roles, tokens, API keys and the audit log; ``scope`` decides what a caller may see.

``hub.auth`` is the ``AuthManager`` (see ``manager``); docs/auth.md explains roles, tokens and keys.
"""

from hub.auth.audit import AuditEntry, AuditLog
from hub.auth.errors import (
    AuthConflict,
    InvalidCredentials,
    InvalidToken,
    InvalidUserInput,
    LastPlatformAdmin,
    RateLimited,
    UsernameTaken,
)
from hub.auth.manager import AuthManager
from hub.auth.scope import SYSTEM, Caller, Forbidden, NotFound, Role, TenantScope
from hub.auth.tokens import TokenPair
from hub.auth.users import ApiKey, User

__all__ = [
    "SYSTEM",
    "ApiKey",
    "AuditEntry",
    "AuditLog",
    "AuthConflict",
    "AuthManager",
    "Caller",
    "Forbidden",
    "InvalidCredentials",
    "InvalidToken",
    "InvalidUserInput",
    "LastPlatformAdmin",
    "NotFound",
    "RateLimited",
    "Role",
    "TenantScope",
    "TokenPair",
    "User",
    "UsernameTaken",
]
