"""Reads and writes of the Hikvision tables (access records go in through ``access_log``).

The API and the pages read through here too; tenant filtering stays with the callers (their ``TenantScope``
decides which devices a caller sees, these functions take the serials or the tenant it allows).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import delete, func, select

from hub.store.database import Database

from .access_codes import describe
from .models import HikvisionAccessEvent, HikvisionDevice, HikvisionPushToken

#: Most access records one request returns; older ones are reached with ``before_id``.
MAX_EVENTS = 1000


@dataclass(slots=True)
class DeviceRecord:
    """What the hub remembers of a device between connections (``hikvision_devices``)."""

    serial: str
    entry_id: str | None = None
    gateway: str | None = None
    dev_index: str | None = None
    ehome_id: str | None = None
    device_type: str | None = None
    model: str | None = None
    firmware: str | None = None
    mac_address: str | None = None
    channels: int | None = None
    doors: int | None = None
    info: dict[str, Any] = field(default_factory=dict)
    first_seen: float = 0.0
    last_seen: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the stored history of a device ends: its highest serialNo and latest record time."""

    serial_no: int | None
    timestamp: float | None
    count: int


class HikvisionStore:
    """Every query of the integration, on the hub's database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    # --------------------------------------------------------------------------------------------- devices

    async def devices(self) -> dict[str, DeviceRecord]:
        async with self.database.session() as session:
            rows = (await session.scalars(select(HikvisionDevice))).all()
        return {row.serial: _device_record(row) for row in rows}

    async def save_device(self, record: DeviceRecord) -> None:
        if not record.first_seen:
            record.first_seen = time.time()
        await self.database.merge(HikvisionDevice(**record.as_dict()))

    # ------------------------------------------------------------------------------------------ push tokens

    async def push_tokens(self) -> dict[str, str]:
        """token -> entry id, for every entry in push mode so far."""
        async with self.database.session() as session:
            rows = (await session.scalars(select(HikvisionPushToken))).all()
        return {row.token: row.entry_id for row in rows}

    async def push_token(self, entry_id: str) -> str:
        """The entry's token, made (32 random bytes, URL-safe) the first time it is asked for."""
        async with self.database.session() as session:
            row = await session.get(HikvisionPushToken, entry_id)
            if row is not None:
                return row.token
            token = secrets.token_urlsafe(32)
            session.add(HikvisionPushToken(entry_id=entry_id, token=token, created_at=time.time()))
            await session.commit()
            return token

    async def forget_push_token(self, entry_id: str) -> None:
        async with self.database.session() as session:
            await session.execute(delete(HikvisionPushToken).where(HikvisionPushToken.entry_id == entry_id))
            await session.commit()

    # ------------------------------------------------------------------------------------------- history

    async def cursor(self, serial: str) -> Cursor:
        table = HikvisionAccessEvent
        async with self.database.session() as session:
            row = (
                await session.execute(
                    select(func.max(table.serial_no), func.max(table.timestamp), func.count()).where(
                        table.serial == serial
                    )
                )
            ).one()
        return Cursor(row[0], row[1], int(row[2] or 0))

    async def counts(self, serials: Sequence[str]) -> dict[str, int]:
        if not serials:
            return {}
        table = HikvisionAccessEvent
        async with self.database.session() as session:
            rows = await session.execute(
                select(table.serial, func.count()).where(table.serial.in_(list(serials))).group_by(table.serial)
            )
            return {serial: int(count) for serial, count in rows}

    async def events(
        self,
        *,
        serials: Sequence[str] | None = None,
        tenant_id: str | None = None,
        kinds: Sequence[str] | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Stored records, newest first; ``tenant_id`` None means every tenant (platform administrators)."""
        table = HikvisionAccessEvent
        query = select(table).order_by(table.id.desc()).limit(max(1, min(limit, MAX_EVENTS)))
        if serials is not None:
            query = query.where(table.serial.in_(list(serials)))
        if tenant_id is not None:
            query = query.where(table.tenant_id == tenant_id)
        if kinds:
            query = query.where(table.kind.in_(list(kinds)))
        if before_id is not None:
            query = query.where(table.id < before_id)
        async with self.database.session() as session:
            rows = (await session.scalars(query)).all()
        return [event_dict(row) for row in rows]


def event_dict(row: HikvisionAccessEvent) -> dict[str, Any]:
    """A stored record for JSON and the pages (the raw document parsed back)."""
    try:
        raw = json.loads(row.raw)
    except ValueError:
        raw = {}
    return {
        "id": row.id,
        "serial": row.serial,
        "serial_no": row.serial_no,
        "tenant_id": row.tenant_id,
        "device_id": row.device_id,
        "major": row.major,
        "minor": row.minor,
        "kind": row.kind,
        "granted": row.kind == "granted" if row.kind in ("granted", "denied") else None,
        "description": describe(row.major, row.minor).text,
        "method": row.method,
        "employee_no": row.employee_no,
        "name": row.name,
        "card_no": row.card_no,
        "door": row.door,
        "time": row.time,
        "timestamp": row.timestamp,
        "source": row.source,
        "received_at": row.received_at,
        "raw": raw,
    }


def _device_record(row: HikvisionDevice) -> DeviceRecord:
    return DeviceRecord(
        serial=row.serial,
        entry_id=row.entry_id,
        gateway=row.gateway,
        dev_index=row.dev_index,
        ehome_id=row.ehome_id,
        device_type=row.device_type,
        model=row.model,
        firmware=row.firmware,
        mac_address=row.mac_address,
        channels=row.channels,
        doors=row.doors,
        info=dict(row.info or {}),
        first_seen=row.first_seen,
        last_seen=row.last_seen,
    )
