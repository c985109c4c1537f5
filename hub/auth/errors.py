"""What signing in, tokens and account management can refuse; the HTTP layer maps each to its status."""

from __future__ import annotations

from collections.abc import Mapping

from hub.exceptions import HubError


class InvalidCredentials(HubError):
    """Unknown username, wrong password or disabled account: one error for all three, so none is confirmed (401)."""

    def __init__(self, message: str = "invalid username or password") -> None:
        super().__init__(message)


class InvalidToken(HubError):
    """An access token, refresh token or API key that is expired, forged, revoked or unknown (401)."""

    def __init__(self, message: str = "invalid or expired token") -> None:
        super().__init__(message)


class RateLimited(HubError):
    """Too many failed sign-ins for this username or address; try again after ``retry_after`` seconds (429)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many failed attempts: try again in {max(1, round(retry_after))} s")
        self.retry_after = retry_after


class InvalidUserInput(HubError, ValueError):
    """A username, password, role or tenant that cannot be used; ``fields`` names each one and why (400)."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {reason}" for name, reason in fields.items()))
        self.fields = dict(fields)


class AuthConflict(HubError):
    """The request contradicts what exists (409)."""


class UsernameTaken(AuthConflict):
    """Usernames are unique across the hub, ignoring case."""

    def __init__(self, username: str) -> None:
        super().__init__(f"username {username!r} is already taken")
        self.username = username


class LastPlatformAdmin(AuthConflict):
    """Removing, disabling or demoting the last enabled platform administrator would lock everyone out."""

    def __init__(self) -> None:
        super().__init__("this is the last enabled platform administrator: make another one first")
