"""What the stations manager refuses. Each derives from the hub error the HTTP layer already maps (400, 409,
429), so a refusal reaching the API through a service call still answers with the right status."""

from __future__ import annotations

from hub.auth.errors import AuthConflict, InvalidUserInput, RateLimited

from .const import INVALID_CODE_MESSAGE


class InvalidInput(InvalidUserInput):
    """A value that cannot be used; ``fields`` names it (``minutes``, ``visitor_id``...) and why (400)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__({field: reason})
        self.field = field
        self.reason = reason


class InvalidCode(InvalidInput):
    """Wrong, expired, finished or another station's code: one answer for all, so guessing learns nothing."""

    def __init__(self) -> None:
        super().__init__("code", INVALID_CODE_MESSAGE)


class CodeRateLimited(RateLimited):
    """Too many wrong codes from this station or client: try again after ``retry_after`` seconds (429)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(retry_after)
        self.args = (f"too many wrong codes: try again in {max(1, round(retry_after))} s",)

    def __str__(self) -> str:
        return str(self.args[0])


class SessionFinished(AuthConflict):
    """The session is over already: terminating or extending it again changes nothing (409)."""

    def __init__(self, session_id: str) -> None:
        super().__init__(f"session {session_id} is already finished")
        self.session_id = session_id


class StationUnavailable(AuthConflict):
    """The station cannot take a session now: busy with another one, or in maintenance (409)."""

    def __init__(self, station: str, status: str) -> None:
        super().__init__(f"station {station} is {status}")
        self.status = status
