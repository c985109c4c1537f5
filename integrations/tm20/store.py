"""Reads and writes of the TM20 tables (logs go through ``log_writer``): one place for every query.

The API and the pages read through here too, so tenant filtering stays in the callers' hands (TenantScope
decides which terminals a caller sees; these functions take the serials or the tenant it allows).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select

from hub.ids import new_id
from hub.store.database import Database

from .log_writer import LogEntry
from .models import Tm20Credential, Tm20Log, Tm20PendingCommand, Tm20Person, Tm20Terminal, Tm20TerminalUser


@dataclass(slots=True)
class TerminalInfo:
    """What the hub remembers of a terminal between connections."""

    sn: str
    device_id: str | None = None
    time_zone: str | None = None
    model: str | None = None
    firmware: str | None = None
    devinfo: dict[str, Any] = field(default_factory=dict)
    first_seen: float = 0.0
    last_registered: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "sn": self.sn,
            "device_id": self.device_id,
            "time_zone": self.time_zone,
            "model": self.model,
            "firmware": self.firmware,
            "devinfo": dict(self.devinfo),
            "first_seen": self.first_seen,
            "last_registered": self.last_registered,
        }


@dataclass(slots=True)
class Person:
    """A person of a tenant, with credentials by backupnum (the record as text, as the terminal sends it)."""

    id: str
    tenant_id: str
    enrollid: int
    name: str
    admin: int = 0
    enabled: bool = True
    credentials: dict[int, str] = field(default_factory=dict)
    created_at: float = 0.0
    updated_at: float = 0.0

    def as_dict(self, *, with_records: bool = False) -> dict[str, Any]:
        """Without records by default: templates and photos are large and biometric."""
        data: dict[str, Any] = {
            "id": self.id,
            "tenant_id": self.tenant_id,
            "enrollid": self.enrollid,
            "name": self.name,
            "admin": self.admin,
            "enabled": self.enabled,
            "credentials": sorted(self.credentials),  # slots only: the API never shows templates or PINs
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
        if with_records:
            data["records"] = {str(num): record for num, record in sorted(self.credentials.items())}
        return data


@dataclass(frozen=True, slots=True)
class TerminalUser:
    sn: str
    enrollid: int
    name: str | None
    admin: int
    backupnums: tuple[int, ...]
    seen_at: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "enrollid": self.enrollid,
            "name": self.name,
            "admin": self.admin,
            "backupnums": list(self.backupnums),
            "seen_at": self.seen_at,
        }


@dataclass(frozen=True, slots=True)
class PendingCommand:
    id: int
    sn: str
    command: str
    params: dict[str, Any]
    created_at: float


def log_as_dict(entry: LogEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "sn": entry.sn,
        "enrollid": entry.enrollid,
        "time": entry.time,
        "timestamp": entry.timestamp,
        "mode": entry.mode,
        "inout": entry.inout,
        "event": entry.event,
        "verifymode": entry.verifymode,
        "temp": entry.temp,
        "logindex": entry.logindex,
        "raw": entry.raw,
        "received_at": entry.received_at,
    }


def _log_entry(row: Tm20Log) -> LogEntry:
    try:
        raw = json.loads(row.raw)
    except ValueError:
        raw = {"unreadable": row.raw}
    return LogEntry(
        id=row.id,
        sn=row.sn,
        tenant_id=row.tenant_id,
        enrollid=row.enrollid,
        time=row.time,
        timestamp=row.timestamp,
        mode=row.mode,
        inout=row.inout,
        event=row.event,
        verifymode=row.verifymode,
        temp=row.temp,
        logindex=row.logindex,
        raw=raw,
        received_at=row.received_at,
    )


class Tm20Store:
    """The TM20 tables, through the hub's database (SQLite or PostgreSQL)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        # Serials that may have queued commands: a registration of any other costs no query.
        self._queued: set[str] = set()

    # ------------------------------------------------------------------------------------------ terminals

    async def terminals(self) -> dict[str, TerminalInfo]:
        async with self.database.session() as session:
            rows = (await session.scalars(select(Tm20Terminal))).all()
        return {
            row.sn: TerminalInfo(
                row.sn,
                row.device_id,
                row.time_zone,
                row.model,
                row.firmware,
                dict(row.devinfo or {}),
                row.first_seen,
                row.last_registered,
            )
            for row in rows
        }

    async def save_terminal(self, info: TerminalInfo) -> None:
        """Through the hub's group commit: a storm of registrations is a few transactions on one connection."""
        await self.database.merge(
            Tm20Terminal(
                sn=info.sn,
                device_id=info.device_id,
                time_zone=info.time_zone,
                model=info.model,
                firmware=info.firmware,
                devinfo=info.devinfo,
                first_seen=info.first_seen,
                last_registered=info.last_registered,
            )
        )

    # ----------------------------------------------------------------------------------------------- logs

    async def log_counts(self) -> dict[str, int]:
        async with self.database.session() as session:
            rows = (await session.execute(select(Tm20Log.sn, func.count()).group_by(Tm20Log.sn))).all()
        return {sn: int(count) for sn, count in rows}

    async def logs(
        self,
        *,
        sns: Sequence[str] | None = None,
        tenant_id: str | None = None,
        enrollid: int | None = None,
        start: float | None = None,
        end: float | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[LogEntry]:
        """Newest first; page with ``before_id`` (the smallest id of the previous page)."""
        query = select(Tm20Log).order_by(Tm20Log.id.desc()).limit(limit)
        if sns is not None:
            query = query.where(Tm20Log.sn.in_(list(sns)))
        if tenant_id is not None:
            query = query.where(Tm20Log.tenant_id == tenant_id)
        if enrollid is not None:
            query = query.where(Tm20Log.enrollid == enrollid)
        if start is not None:
            query = query.where(Tm20Log.timestamp >= start)
        if end is not None:
            query = query.where(Tm20Log.timestamp < end)
        if before_id is not None:
            query = query.where(Tm20Log.id < before_id)
        async with self.database.session() as session:
            rows = (await session.scalars(query)).all()
        return [_log_entry(row) for row in rows]

    # ------------------------------------------------------------------------------------- terminal users

    async def terminal_users(self, sn: str) -> list[TerminalUser]:
        async with self.database.session() as session:
            rows = (
                await session.scalars(
                    select(Tm20TerminalUser).where(Tm20TerminalUser.sn == sn).order_by(Tm20TerminalUser.enrollid)
                )
            ).all()
        return [
            TerminalUser(row.sn, row.enrollid, row.name, row.admin, tuple(row.backupnums or ()), row.seen_at)
            for row in rows
        ]

    async def replace_terminal_users(self, sn: str, users: Iterable[TerminalUser]) -> None:
        """A full pull: the terminal's list replaces what we knew of it."""
        async with self.database.session() as session:
            await session.execute(delete(Tm20TerminalUser).where(Tm20TerminalUser.sn == sn))
            session.add_all(
                Tm20TerminalUser(
                    sn=sn,
                    enrollid=user.enrollid,
                    name=user.name,
                    admin=user.admin,
                    backupnums=list(user.backupnums),
                    seen_at=user.seen_at,
                )
                for user in users
            )
            await session.commit()

    async def merge_terminal_user(self, user: TerminalUser) -> None:
        """One user seen on a terminal (``senduser``, a push): its slots join those already known."""
        async with self.database.session() as session:
            row = await session.get(Tm20TerminalUser, (user.sn, user.enrollid))
            if row is None:
                session.add(
                    Tm20TerminalUser(
                        sn=user.sn,
                        enrollid=user.enrollid,
                        name=user.name,
                        admin=user.admin,
                        backupnums=sorted(set(user.backupnums)),
                        seen_at=user.seen_at,
                    )
                )
            else:
                row.name = user.name or row.name
                row.admin = user.admin
                row.backupnums = sorted(set(row.backupnums or ()) | set(user.backupnums))
                row.seen_at = user.seen_at
            await session.commit()

    async def forget_terminal_user(self, sn: str, enrollid: int) -> None:
        async with self.database.session() as session:
            await session.execute(
                delete(Tm20TerminalUser).where(Tm20TerminalUser.sn == sn, Tm20TerminalUser.enrollid == enrollid)
            )
            await session.commit()

    # ------------------------------------------------------------------------------------ queued commands

    async def load_queued(self) -> None:
        async with self.database.session() as session:
            self._queued = set((await session.scalars(select(Tm20PendingCommand.sn).distinct())).all())

    async def queue_command(self, sn: str, command: str, params: dict[str, Any]) -> None:
        async with self.database.session() as session:
            session.add(Tm20PendingCommand(sn=sn, command=command, params=params, created_at=time.time()))
            await session.commit()
        self._queued.add(sn)  # after the commit: a read that found nothing meanwhile must not lose it

    async def pending_commands(self, sn: str) -> list[PendingCommand]:
        if sn not in self._queued:
            return []
        async with self.database.session() as session:
            rows = (
                await session.scalars(
                    select(Tm20PendingCommand).where(Tm20PendingCommand.sn == sn).order_by(Tm20PendingCommand.id)
                )
            ).all()
        if not rows:
            self._queued.discard(sn)
        return [PendingCommand(row.id, row.sn, row.command, dict(row.params), row.created_at) for row in rows]

    async def pending_count(self, sn: str) -> int:
        async with self.database.session() as session:
            count = await session.scalar(
                select(func.count()).select_from(Tm20PendingCommand).where(Tm20PendingCommand.sn == sn)
            )
        return int(count or 0)

    async def done_command(self, command_id: int) -> None:
        async with self.database.session() as session:
            await session.execute(delete(Tm20PendingCommand).where(Tm20PendingCommand.id == command_id))
            await session.commit()

    # --------------------------------------------------------------------------------------------- people

    async def people(self) -> list[Person]:
        """Every person of every tenant with their credentials (loaded once at start, then kept in memory)."""
        async with self.database.session() as session:
            people = (await session.scalars(select(Tm20Person))).all()
            credentials = (await session.scalars(select(Tm20Credential))).all()
        by_person: dict[str, dict[int, str]] = {}
        for credential in credentials:
            by_person.setdefault(credential.person_id, {})[credential.backupnum] = credential.record
        return [
            Person(
                row.id,
                row.tenant_id,
                row.enrollid,
                row.name,
                row.admin,
                row.enabled,
                by_person.get(row.id, {}),
                row.created_at,
                row.updated_at,
            )
            for row in people
        ]

    async def save_person(self, person: Person, *, replace_credentials: bool = False) -> None:
        """Write the person and its credentials (``replace_credentials`` drops slots no longer given)."""
        now = time.time()
        async with self.database.session() as session:
            await session.merge(
                Tm20Person(
                    id=person.id,
                    tenant_id=person.tenant_id,
                    enrollid=person.enrollid,
                    name=person.name,
                    admin=person.admin,
                    enabled=person.enabled,
                    created_at=person.created_at,
                    updated_at=person.updated_at,
                )
            )
            await session.flush()
            if replace_credentials:
                await session.execute(delete(Tm20Credential).where(Tm20Credential.person_id == person.id))
            for backupnum, record in person.credentials.items():
                await session.merge(
                    Tm20Credential(person_id=person.id, backupnum=backupnum, record=record, updated_at=now)
                )
            await session.commit()

    async def delete_person(self, person_id: str) -> None:
        async with self.database.session() as session:
            await session.execute(delete(Tm20Credential).where(Tm20Credential.person_id == person_id))
            await session.execute(delete(Tm20Person).where(Tm20Person.id == person_id))
            await session.commit()


def new_person_id() -> str:
    return new_id()
