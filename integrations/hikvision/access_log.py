"""Access records into the database with group commit, de-duplicated on the device's ``serialNo``.

The same record reaches the hub up to three times: live on the alert stream (or pushed), again when the device
re-delivers it, and again from the AcsEvent backfill after a reconnect. Each goes through ``AccessLog.write``:
rows go in with ``INSERT ... ON CONFLICT (serial, event_key) DO NOTHING RETURNING``, so only the rows really
inserted come back, and only they fire an ``access`` event. Writes that arrive while a transaction commits join
the next one (one writer task), so a thousand records a second cost a handful of commits.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table

from hub.store.database import Database
from hub.store.deduplicated_log import DeduplicatedLog

from .events import AccessRecord
from .models import HikvisionAccessEvent

_LOGGER = logging.getLogger(__name__)

_TABLE: Table = HikvisionAccessEvent.__table__  # type: ignore[assignment]
_IDENTITY = ("serial", "event_key")
#: Seconds a transaction waits, after the first record, for more to join it.
BATCH_WINDOW = 0.005
_OUT_ATTENDANCE = frozenset({"checkout", "breakout", "overtimeout"})


def event_key(record: AccessRecord) -> str:
    """``sn:<serialNo>``, the device's own identity of the record; a digest of its content when it has none."""
    if record.serial_no is not None:
        return f"sn:{record.serial_no}"
    when = record.time.isoformat() if record.time is not None else ""
    text = "|".join(str(part) for part in (record.major, record.minor, when, record.employee_no, record.card_no,
                                           record.door))  # fmt: skip
    return "h:" + hashlib.sha256(text.encode()).hexdigest()[:40]


def direction_of(record: AccessRecord) -> str:
    """``out`` for the attendance statuses that mean leaving, ``in`` otherwise (most doors do not say)."""
    status = (record.attendance_status or "").replace("_", "").lower()
    return "out" if status in _OUT_ATTENDANCE else "in"


@dataclass(frozen=True, slots=True)
class AccessEntry:
    """One record as stored: ``id`` is set once committed, and only for rows that were new."""

    serial: str
    event_key: str
    record: AccessRecord
    tenant_id: str | None
    device_id: str | None
    source: str
    raw: dict[str, Any]
    received_at: float
    id: int = 0

    @property
    def time_text(self) -> str:
        """The device's time (ISO with its offset); empty when it sent a bogus one."""
        return self.record.time.isoformat() if self.record.time is not None else ""

    @property
    def timestamp(self) -> float | None:
        return self.record.time.timestamp() if self.record.time is not None else None

    @property
    def event_time(self) -> str:
        """For the bus: the device's time, or when the hub received it if the device's clock is unset."""
        return self.time_text or datetime.fromtimestamp(self.received_at, UTC).isoformat(timespec="seconds")


def make_entry(
    serial: str,
    record: AccessRecord,
    *,
    source: str,
    tenant_id: str | None,
    device_id: str | None,
    raw: dict[str, Any] | None = None,
) -> AccessEntry:
    return AccessEntry(
        serial=serial,
        event_key=event_key(record),
        record=record,
        tenant_id=tenant_id,
        device_id=device_id,
        source=source,
        raw=raw if raw is not None else _record_dict(record),
        received_at=time.time(),
    )


def _record_dict(record: AccessRecord) -> dict[str, Any]:
    data = dataclasses.asdict(record)
    data["time"] = record.time.isoformat() if record.time is not None else None
    return data


def _row(entry: AccessEntry) -> dict[str, Any]:
    record = entry.record
    meaning = record.meaning
    return {
        "serial": entry.serial,
        "event_key": entry.event_key,
        "serial_no": record.serial_no,
        "tenant_id": entry.tenant_id,
        "device_id": entry.device_id,
        "major": record.major,
        "minor": record.minor,
        "kind": meaning.kind,
        "method": meaning.method,
        "employee_no": (record.employee_no or None) and record.employee_no[:64],
        "name": (record.name or None) and record.name[:255],
        "card_no": (record.card_no or None) and record.card_no[:64],
        "door": record.door,
        "time": entry.time_text[:40],
        "timestamp": entry.timestamp,
        "source": entry.source,
        "raw": json.dumps(entry.raw, separators=(",", ":"), ensure_ascii=False, default=str),
        "received_at": entry.received_at,
    }


class AccessLog(DeduplicatedLog[AccessEntry]):
    """Group commit of access records. ``write`` returns the new ones once their transaction is committed."""

    name = "Hikvision access records"

    def __init__(self, database: Database) -> None:
        # A few milliseconds for other devices' records to join a transaction: at a thousand records a second,
        # one commit per record costs most of a core; this window costs 5 ms of delay.
        super().__init__(database, _TABLE, _IDENTITY, batch_window=BATCH_WINDOW)

    def row(self, record: AccessEntry) -> dict[str, Any]:
        return _row(record)
