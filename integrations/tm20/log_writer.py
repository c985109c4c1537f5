"""Attendance logs into the database with group commit: a ``sendlog`` is acknowledged only once it is committed.

Every ``write`` joins a queue that one writer task drains: whatever arrived while the previous transaction was
committing goes into the next one, so 500 batches a second become a handful of commits instead of 500, and
no batch waits for a timer. Rows go in with ``INSERT ... ON CONFLICT DO NOTHING RETURNING``: a retransmitted
batch (the terminal did not get our ack) or a ``getnewlog`` drain of logs already pushed inserts nothing, and
only the rows really inserted come back as new, so nobody fires a second ``access`` event for them.
SQLite in WAL mode with ``synchronous=NORMAL`` keeps a committed transaction across a crash (``kill -9``) of
the hub; only a power loss can take the last ones, which is the durability the issue asks for.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table

from hub.store.database import Database
from hub.store.deduplicated_log import DeduplicatedLog

from .models import Tm20Log

_LOGGER = logging.getLogger(__name__)

_TABLE: Table = Tm20Log.__table__  # type: ignore[assignment]
IDENTITY = ("sn", "enrollid", "time", "mode", "event")


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One stored log, as the manager sees it after the commit (``id`` set only for rows that were new)."""

    id: int
    sn: str
    tenant_id: str | None
    enrollid: int
    time: str
    timestamp: float | None
    mode: int
    inout: int
    event: int
    verifymode: int | None
    temp: float | None
    logindex: int | None
    raw: dict[str, Any]
    received_at: float


def _int(value: Any, default: int | None) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        try:
            return int(float(str(value).strip()))
        except (TypeError, ValueError):
            return default


def _temperature(value: Any) -> float | None:
    """Body temperature: a float (36.5), or x100 on some firmware (3650)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        temp = float(value)
    except (TypeError, ValueError):
        return None
    return temp / 100 if temp > 100 else temp


def parse_terminal_time(text: str, zone: ZoneInfo | None) -> float | None:
    """Epoch seconds of the terminal's naive local ``YYYY-MM-DD HH:MM:SS`` in its time zone (None: unreadable)."""
    try:
        naive = dt.datetime.fromisoformat(text.strip().replace("/", "-"))
    except ValueError:
        return None
    if naive.tzinfo is None:
        naive = naive.replace(tzinfo=zone or dt.UTC)
    return naive.timestamp()


def entry_from_record(
    sn: str,
    tenant_id: str | None,
    record: Mapping[str, Any],
    logindex: int | None,
    zone: ZoneInfo | None,
    received_at: float,
) -> LogEntry:
    """A record as the terminal sent it, normalised for the unique key; the raw values stay in ``raw``."""
    raw = dict(record)
    image = raw.get("image")
    if isinstance(image, str) and image:
        raw["image"] = f"<{len(image)} base64 characters not stored>"  # photos belong to a media store
    time_text = str(record.get("time") or "").strip()
    return LogEntry(
        id=0,
        sn=sn,
        tenant_id=tenant_id,
        enrollid=_int(record.get("enrollid"), -1) or 0,
        time=time_text[:32],
        timestamp=parse_terminal_time(time_text, zone) if time_text else None,
        mode=_int(record.get("mode"), 0) or 0,
        inout=_int(record.get("inout"), 0) or 0,
        event=_int(record.get("event"), 0) or 0,
        verifymode=_int(record.get("verifymode"), None),
        temp=_temperature(record.get("temp")),
        logindex=logindex,
        raw=raw,
        received_at=received_at,
    )


def _row(entry: LogEntry) -> dict[str, Any]:
    return {
        "sn": entry.sn,
        "tenant_id": entry.tenant_id,
        "enrollid": entry.enrollid,
        "time": entry.time,
        "timestamp": entry.timestamp,
        "mode": entry.mode,
        "inout": entry.inout,
        "event": entry.event,
        "verifymode": entry.verifymode,
        "temp": entry.temp,
        "logindex": entry.logindex,
        "raw": json.dumps(entry.raw, separators=(",", ":"), ensure_ascii=False, default=str),
        "received_at": entry.received_at,
    }


class LogWriter(DeduplicatedLog[LogEntry]):
    """Group commit of log batches. ``write`` returns the new rows once their transaction is committed."""

    name = "TM20 logs"

    def __init__(self, database: Database) -> None:
        super().__init__(database, _TABLE, IDENTITY)

    def row(self, record: LogEntry) -> dict[str, Any]:
        return _row(record)

    async def write_batch(
        self,
        sn: str,
        tenant_id: str | None,
        records: Iterable[Mapping[str, Any]],
        logindex: int | None = None,
        *,
        time_zone: ZoneInfo | None = None,
    ) -> list[LogEntry]:
        """Store a batch; returns only after COMMIT, with the rows that were not already there (oldest first)."""
        now = time.time()
        return await self.write(
            [entry_from_record(sn, tenant_id, record, logindex, time_zone, now) for record in records]
        )
