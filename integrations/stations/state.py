"""The shapes the stations manager hands out and keeps: sessions as the faces show them (``SessionView``), what
an agent gets on connect (``AgentState``) and from a heartbeat (``HeartbeatResult``), and each station's live
state in memory (``LiveStation``), with the small helpers they share (ISO times, token hashing)."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
from dataclasses import dataclass, field
from typing import Any

from .const import SESSION_ACTIVE, SESSION_WAITING, STATUS_AVAILABLE, STATUS_BUSY, STATUS_MAINTENANCE, STATUS_OFFLINE
from .entities import StationEntities
from .store import SessionRecord, StationRecord


def iso(moment: float | None) -> str | None:
    """Epoch seconds as ISO 8601 UTC text (what the API and the agents read)."""
    if moment is None:
        return None
    return dt.datetime.fromtimestamp(moment, dt.UTC).isoformat(timespec="seconds")


def hash_token(token: str) -> str:
    """SHA-256 of an agent token. The token is 32 random bytes: no dictionary to slow down, so no argon2."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class SessionView:
    """A session as the faces show it: names resolved, remaining time computed from ``ends_at`` now."""

    id: str
    tenant_id: str
    station_id: str | None
    station_name: str | None
    visitor_id: str | None
    visitor_name: str | None
    code: str
    status: str
    duration: int
    added: int
    remaining: int
    created_at: float
    expires_at: float
    started_at: float | None
    ends_at: float | None
    finished_at: float | None
    end_reason: str | None
    created_by: str | None

    @property
    def minutes(self) -> int:
        """Minutes granted in all (initial duration plus additions)."""
        return (self.duration + self.added) // 60

    def as_dict(self, *, with_code: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "tenant_id": self.tenant_id,
            "station_id": self.station_id,
            "station": self.station_name,
            "visitor_id": self.visitor_id,
            "visitor": self.visitor_name,
            "status": self.status,
            "duration": self.duration,
            "added": self.added,
            "minutes": self.minutes,
            "remaining": self.remaining,
            "created_at": iso(self.created_at),
            "code_expires_at": iso(self.expires_at),
            "started_at": iso(self.started_at),
            "ends_at": iso(self.ends_at),
            "finished_at": iso(self.finished_at),
            "end_reason": self.end_reason,
            "created_by": self.created_by,
        }
        if with_code:
            data["code"] = self.code
        return data


@dataclass(slots=True)
class AgentState:
    """What a station's agent gets on connect: the station, its active session (None when idle), and the
    messages to send after ``hello`` (the ``session`` message, absolute state, when one is active)."""

    station: StationRecord
    session: SessionView | None
    messages: list[dict[str, Any]] = field(default_factory=list)

    def __getitem__(self, key: str) -> Any:  # the contract's {"session": ...} shape
        return getattr(self, key)


@dataclass(slots=True)
class HeartbeatResult:
    """``reply``: protocol messages to send back (a correction, a ``close_session`` for a stale session)."""

    status: str
    reply: list[dict[str, Any]] = field(default_factory=list)
    remaining: int | None = None


@dataclass(slots=True)
class LiveStation:
    """A station's state in memory: the database has the record, this has what moves every few seconds."""

    record: StationRecord
    entities: StationEntities
    last_seen: float | None = None
    online: bool = False
    connected: bool = False
    session: SessionRecord | None = None  # the active session on it
    visitor_name: str | None = None

    @property
    def status(self) -> str:
        if self.record.maintenance:
            return STATUS_MAINTENANCE
        if not self.online:
            return STATUS_OFFLINE
        return STATUS_BUSY if self.session is not None else STATUS_AVAILABLE


def remaining_of(session: SessionRecord, now: float) -> int:
    if session.status == SESSION_ACTIVE and session.ends_at is not None:
        return max(0, math.ceil(session.ends_at - now))
    if session.status == SESSION_WAITING:
        return session.total
    return 0
