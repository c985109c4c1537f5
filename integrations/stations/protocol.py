"""The station agent protocol: JSON text frames on ``/ws/station/{address}``, parsed and built in one place.

Agent -> hub: ``heartbeat`` (``remaining`` seconds and ``code``, both null when idle), ``validate`` (a visitor
typed a code), ``ack`` (optional, names a hub message id). Old agents written for the seed's Django backend send
``temps_restant`` instead of ``remaining`` and ``action`` instead of ``type``: both are accepted.

Hub -> agent: ``hello`` on connect, ``session`` (start or correction), ``add_time``, ``close_session``, ``warn``
and ``error``. Every hub message that changes the timer carries absolute state (``ends_at``, ``remaining``), so
an agent that receives one twice, or late, ends up with the hub's time and never doubles it.

A message the hub cannot use raises ``ProtocolError`` naming the field at fault; the endpoint answers it with an
``error`` message and keeps the connection open.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from .codes import normalise_code

__all__ = [
    "MAX_CODE_LENGTH",
    "MAX_REMAINING",
    "Ack",
    "AgentMessage",
    "Heartbeat",
    "ProtocolError",
    "Validate",
    "add_time_message",
    "close_session_message",
    "dumps",
    "error_message",
    "hello_message",
    "message_id",
    "parse_agent_message",
    "session_message",
    "warn_message",
]

TYPE_HEARTBEAT: Final = "heartbeat"
TYPE_VALIDATE: Final = "validate"
TYPE_ACK: Final = "ack"
TYPE_HELLO: Final = "hello"
TYPE_SESSION: Final = "session"
TYPE_ADD_TIME: Final = "add_time"
TYPE_CLOSE_SESSION: Final = "close_session"
TYPE_WARN: Final = "warn"
TYPE_ERROR: Final = "error"

#: What an agent may send; anything else is answered with ``unknown_type``.
AGENT_TYPES: Final = frozenset({TYPE_HEARTBEAT, TYPE_VALIDATE, TYPE_ACK})

#: Longer than any session can be (24 h) with room for an agent's clock drift; more is a broken agent.
MAX_REMAINING: Final = 7 * 86400
#: Access codes are 6 characters; an agent may send a few more (spaces, a typo) but not a novel.
MAX_CODE_LENGTH: Final = 32
MAX_ID_LENGTH: Final = 64

#: The seed's French field names, accepted from old agents: alias -> canonical name.
ALIASES: Final = {"temps_restant": "remaining", "action": "type"}

# Error codes of ``error`` messages.
ERROR_INVALID_JSON: Final = "invalid_json"
ERROR_INVALID_MESSAGE: Final = "invalid_message"
ERROR_UNKNOWN_TYPE: Final = "unknown_type"
ERROR_INVALID_CODE: Final = "invalid_code"
ERROR_RATE_LIMITED: Final = "rate_limited"
ERROR_STATION_UNAVAILABLE: Final = "station_unavailable"
ERROR_UNKNOWN_STATION: Final = "unknown_station"
ERROR_INTERNAL: Final = "internal_error"


class ProtocolError(ValueError):
    """A message the hub cannot use: ``code`` is the ``error`` message's code, ``field`` the field at fault."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def as_message(self) -> dict[str, Any]:
        return error_message(self.code, self.message, field=self.field)


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """The agent is alive; ``remaining`` (its own count, informative only) and ``code`` are None when idle."""

    remaining: int | None
    code: str | None


@dataclass(frozen=True, slots=True)
class Validate:
    """A visitor typed ``code`` on the station."""

    code: str


@dataclass(frozen=True, slots=True)
class Ack:
    """The agent applied the hub message ``id``."""

    id: str


AgentMessage = Heartbeat | Validate | Ack


def parse_agent_message(text: str | bytes) -> AgentMessage:
    """One agent frame -> a typed message; raises ``ProtocolError`` naming the field at fault."""
    try:
        payload = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise ProtocolError(ERROR_INVALID_JSON, f"the message is not valid JSON: {error}") from None
    if not isinstance(payload, dict):
        raise ProtocolError(ERROR_INVALID_MESSAGE, "a message must be a JSON object with a 'type'")
    message = _canonical(payload)
    kind = message.get("type")
    if kind is None:
        raise ProtocolError(ERROR_INVALID_MESSAGE, "type: required (heartbeat, validate or ack)", "type")
    if not isinstance(kind, str):
        raise ProtocolError(ERROR_INVALID_MESSAGE, "type: expected a string", "type")
    if kind == TYPE_HEARTBEAT:
        return Heartbeat(remaining=_remaining(message), code=_code(message, required=False))
    if kind == TYPE_VALIDATE:
        code = _code(message, required=True)
        assert code is not None
        return Validate(code=code)
    if kind == TYPE_ACK:
        return Ack(id=_ack_id(message))
    shown = kind if len(kind) <= 40 else kind[:40] + "..."
    raise ProtocolError(
        ERROR_UNKNOWN_TYPE, f"type: unknown message type {shown!r} (expected heartbeat, validate or ack)", "type"
    )


def _canonical(payload: dict[str, Any]) -> dict[str, Any]:
    """Rename the seed's French aliases; the canonical name wins when an agent sends both."""
    if not any(alias in payload for alias in ALIASES):
        return payload
    message = dict(payload)
    for alias, name in ALIASES.items():
        if alias in message:
            value = message.pop(alias)
            message.setdefault(name, value)
    return message


def _remaining(message: dict[str, Any]) -> int | None:
    value = message.get("remaining")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProtocolError(ERROR_INVALID_MESSAGE, "remaining: expected a number of seconds or null", "remaining")
    if value != value or value < 0 or value > MAX_REMAINING:  # NaN never reaches here from JSON, but be sure
        raise ProtocolError(
            ERROR_INVALID_MESSAGE, f"remaining: expected 0 .. {MAX_REMAINING} seconds, got {value}", "remaining"
        )
    return int(value)


def _code(message: dict[str, Any], *, required: bool) -> str | None:
    value = message.get("code")
    if value is None:
        if required:
            raise ProtocolError(ERROR_INVALID_MESSAGE, "code: required", "code")
        return None
    if not isinstance(value, str):
        raise ProtocolError(ERROR_INVALID_MESSAGE, "code: expected a string or null", "code")
    code = normalise_code(value)  # what a visitor types: spaces, dashes and case do not matter
    if not code:
        if required:
            raise ProtocolError(ERROR_INVALID_MESSAGE, "code: must not be empty", "code")
        return None
    if len(code) > MAX_CODE_LENGTH:
        raise ProtocolError(ERROR_INVALID_MESSAGE, f"code: at most {MAX_CODE_LENGTH} characters", "code")
    return code


def _ack_id(message: dict[str, Any]) -> str:
    value = message.get("id")
    if value is None:
        raise ProtocolError(ERROR_INVALID_MESSAGE, "id: required (the id of the hub message acknowledged)", "id")
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        raise ProtocolError(ERROR_INVALID_MESSAGE, f"id: expected a string of 1 .. {MAX_ID_LENGTH} characters", "id")
    return value


# ------------------------------------------------------------------------------------------ hub -> agent


def message_id() -> str:
    """A short random id an agent can acknowledge (and recognise when a message is replayed)."""
    return secrets.token_hex(8)


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _iso(value: datetime | str) -> str:
    return value if isinstance(value, str) else value.isoformat()


def hello_message(station: dict[str, Any], heartbeat_interval: float, session: dict[str, Any] | None) -> dict[str, Any]:
    """The first message of a connection: who the hub thinks the station is, how often to beat, its session."""
    return {
        "type": TYPE_HELLO,
        "station": station,
        "heartbeat_interval": heartbeat_interval,
        "session": session,
    }


def session_message(session_id: str, code: str | None, ends_at: datetime | str, remaining: int) -> dict[str, Any]:
    return {
        "type": TYPE_SESSION,
        "id": message_id(),
        "session_id": session_id,
        "code": code,
        "ends_at": _iso(ends_at),
        "remaining": remaining,
    }


def add_time_message(session_id: str, seconds: int, ends_at: datetime | str, remaining: int) -> dict[str, Any]:
    return {
        "type": TYPE_ADD_TIME,
        "id": message_id(),
        "session_id": session_id,
        "seconds": seconds,
        "ends_at": _iso(ends_at),
        "remaining": remaining,
    }


def close_session_message(session_id: str | None, reason: str) -> dict[str, Any]:
    return {"type": TYPE_CLOSE_SESSION, "id": message_id(), "session_id": session_id, "reason": reason}


def warn_message(minutes_left: int, message: str) -> dict[str, Any]:
    return {"type": TYPE_WARN, "id": message_id(), "minutes_left": minutes_left, "message": message}


def error_message(
    code: str, message: str, *, field: str | None = None, retry_after: float | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"type": TYPE_ERROR, "error": code, "message": message, "field": field}
    if retry_after is not None:
        error["retry_after"] = max(1, round(retry_after))
    return error
