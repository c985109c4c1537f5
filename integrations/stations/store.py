"""Reads and writes of the stations tables: one place for every query, every one filtered by tenant.

``tenant_id=None`` in a query means every tenant: only for the manager's hub-wide jobs and platform
administrators (the API passes ``TenantScope.tenant_filter``). Records are frozen snapshots of rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from hub.store.database import Database

from .const import LIVE_STATUSES, SESSION_ACTIVE, SESSION_WAITING
from .models import SessionRow, StationLogRow, StationRow, VisitorRow

MAX_PAGE = 500


class CodeTaken(Exception):
    """The code is already held by a live session (the unique ``live_code`` said no): draw another."""


class NameTaken(Exception):
    """The tenant already has a station with this name."""


@dataclass(frozen=True, slots=True)
class StationRecord:
    id: str
    tenant_id: str
    name: str
    address: str | None
    mac: str | None
    maintenance: bool
    token_hash: str
    device_id: str | None
    last_seen: float | None
    created_at: float
    updated_at: float

    @classmethod
    def from_row(cls, row: StationRow) -> StationRecord:
        return cls(**{field.name: getattr(row, field.name) for field in dataclasses.fields(cls)})


@dataclass(frozen=True, slots=True)
class VisitorRecord:
    id: str
    tenant_id: str
    last_name: str | None
    first_name: str | None
    email: str | None
    phone: str | None
    id_document: str | None
    photo_type: str | None
    consent: bool
    consent_at: float | None
    erased_at: float | None
    created_at: float
    updated_at: float

    @classmethod
    def from_row(cls, row: VisitorRow) -> VisitorRecord:
        return cls(**{field.name: getattr(row, field.name) for field in dataclasses.fields(cls)})

    @property
    def display_name(self) -> str | None:
        """ "First Last", or None once erased."""
        parts = [part for part in (self.first_name, self.last_name) if part]
        return " ".join(parts) or None


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: str
    tenant_id: str
    station_id: str | None
    visitor_id: str | None
    code: str
    status: str
    duration: int
    added: int
    created_at: float
    expires_at: float
    started_at: float | None
    ends_at: float | None
    finished_at: float | None
    end_reason: str | None
    warned: tuple[int, ...]
    created_by: str | None

    @classmethod
    def from_row(cls, row: SessionRow) -> SessionRecord:
        values = {field.name: getattr(row, field.name) for field in dataclasses.fields(cls) if field.name != "warned"}
        return cls(**values, warned=tuple(row.warned or ()))

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def total(self) -> int:
        """Seconds granted in all: the initial duration plus every addition."""
        return self.duration + self.added


@dataclass(frozen=True, slots=True)
class LogRecord:
    id: int
    tenant_id: str
    time: float
    actor: str
    action: str
    station_id: str | None
    session_id: str | None
    visitor_id: str | None
    details: dict[str, Any] | None
    address: str | None

    @classmethod
    def from_row(cls, row: StationLogRow) -> LogRecord:
        return cls(**{field.name: getattr(row, field.name) for field in dataclasses.fields(cls)})

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _tenant(query: Select[Any], column: Any, tenant_id: str | None) -> Select[Any]:
    return query if tenant_id is None else query.where(column == tenant_id)


class StationStore:
    """The queries of the integration, on the hub's database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    # ------------------------------------------------------------------------------------------- stations

    async def stations(self, tenant_id: str | None = None) -> list[StationRecord]:
        query = _tenant(select(StationRow), StationRow.tenant_id, tenant_id).order_by(StationRow.name)
        async with self.database.session() as session:
            return [StationRecord.from_row(row) for row in (await session.scalars(query)).all()]

    async def insert_station(self, record: StationRecord) -> StationRecord:
        try:
            async with self.database.session() as session:
                session.add(StationRow(**dataclasses.asdict(record)))
                await session.commit()
        except IntegrityError:
            raise NameTaken(record.name) from None
        return record

    async def update_station(self, station_id: str, **values: Any) -> StationRecord | None:
        try:
            async with self.database.session() as session:
                row = await session.get(StationRow, station_id)
                if row is None:
                    return None
                for key, value in values.items():
                    setattr(row, key, value)
                await session.commit()
                return StationRecord.from_row(row)
        except IntegrityError:
            raise NameTaken(str(values.get("name"))) from None

    async def delete_station(self, station_id: str) -> None:
        async with self.database.session() as session:
            await session.execute(delete(StationRow).where(StationRow.id == station_id))
            await session.commit()

    # ------------------------------------------------------------------------------------------- visitors

    async def visitors(
        self, tenant_id: str | None, *, search: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[VisitorRecord]:
        """Erased visitors are left out: nothing personal is left to list."""
        query = _tenant(select(VisitorRow), VisitorRow.tenant_id, tenant_id).where(VisitorRow.erased_at.is_(None))
        if search:
            pattern = f"%{search.lower()}%"
            query = query.where(
                or_(
                    func.lower(VisitorRow.last_name).like(pattern),
                    func.lower(VisitorRow.first_name).like(pattern),
                    func.lower(VisitorRow.email).like(pattern),
                    func.lower(VisitorRow.phone).like(pattern),
                    func.lower(VisitorRow.id_document).like(pattern),
                )
            )
        query = query.order_by(VisitorRow.last_name, VisitorRow.first_name, VisitorRow.id)
        query = query.limit(max(1, min(limit, MAX_PAGE))).offset(max(0, offset))
        async with self.database.session() as session:
            return [VisitorRecord.from_row(row) for row in (await session.scalars(query)).all()]

    async def visitor(self, visitor_id: str) -> VisitorRecord | None:
        async with self.database.session() as session:
            row = await session.get(VisitorRow, visitor_id)
            return VisitorRecord.from_row(row) if row is not None else None

    async def visitor_names(self, visitor_ids: Sequence[str]) -> dict[str, str | None]:
        if not visitor_ids:
            return {}
        query = select(VisitorRow).where(VisitorRow.id.in_(set(visitor_ids)))
        async with self.database.session() as session:
            rows = (await session.scalars(query)).all()
        return {row.id: VisitorRecord.from_row(row).display_name for row in rows}

    async def visitor_photo(self, visitor_id: str) -> tuple[bytes, str] | None:
        query = select(VisitorRow.photo, VisitorRow.photo_type).where(VisitorRow.id == visitor_id)
        async with self.database.session() as session:
            found = (await session.execute(query)).first()
        if found is None or found.photo is None:
            return None
        return bytes(found.photo), str(found.photo_type)

    async def insert_visitor(self, values: dict[str, Any]) -> VisitorRecord:
        row = VisitorRow(**values)
        async with self.database.session() as session:
            session.add(row)
            await session.commit()
            return VisitorRecord.from_row(row)

    async def update_visitor(self, visitor_id: str, **values: Any) -> VisitorRecord | None:
        async with self.database.session() as session:
            row = await session.get(VisitorRow, visitor_id)
            if row is None:
                return None
            for key, value in values.items():
                setattr(row, key, value)
            await session.commit()
            return VisitorRecord.from_row(row)

    # ------------------------------------------------------------------------------------------- sessions

    async def insert_session(self, record: SessionRecord) -> SessionRecord:
        """Raises CodeTaken when a live session holds the code already."""
        values = dataclasses.asdict(record)
        values["warned"] = list(record.warned)
        row = SessionRow(**values, live_code=record.code if record.live else None)
        try:
            async with self.database.session() as session:
                session.add(row)
                await session.commit()
        except IntegrityError as error:
            if "live_code" in str(error.orig) or "uq_stations_sessions_live_code" in str(error.orig):
                raise CodeTaken(record.code) from None
            raise
        return record

    async def session(self, session_id: str) -> SessionRecord | None:
        async with self.database.session() as session:
            row = await session.get(SessionRow, session_id)
            return SessionRecord.from_row(row) if row is not None else None

    async def live_session_by_code(self, code: str) -> SessionRecord | None:
        async with self.database.session() as session:
            row = (await session.scalars(select(SessionRow).where(SessionRow.live_code == code))).first()
            return SessionRecord.from_row(row) if row is not None else None

    async def session_by_code(self, code: str) -> SessionRecord | None:
        """The newest session that ever had ``code`` (a stale agent's), live or not."""
        query = select(SessionRow).where(SessionRow.code == code).order_by(SessionRow.created_at.desc()).limit(1)
        async with self.database.session() as session:
            row = (await session.scalars(query)).first()
            return SessionRecord.from_row(row) if row is not None else None

    async def sessions(
        self,
        tenant_id: str | None,
        *,
        status: str | None = None,
        station_id: str | None = None,
        visitor_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[SessionRecord]:
        query = _tenant(select(SessionRow), SessionRow.tenant_id, tenant_id)
        if status is not None:
            query = query.where(SessionRow.status == status)
        if station_id is not None:
            query = query.where(SessionRow.station_id == station_id)
        if visitor_id is not None:
            query = query.where(SessionRow.visitor_id == visitor_id)
        query = query.order_by(SessionRow.created_at.desc(), SessionRow.id)
        query = query.limit(max(1, min(limit, MAX_PAGE))).offset(max(0, offset))
        async with self.database.session() as session:
            return [SessionRecord.from_row(row) for row in (await session.scalars(query)).all()]

    async def active_sessions(self) -> list[SessionRecord]:
        query = select(SessionRow).where(SessionRow.status == SESSION_ACTIVE)
        async with self.database.session() as session:
            return [SessionRecord.from_row(row) for row in (await session.scalars(query)).all()]

    async def waiting_expired(self, now: float) -> list[SessionRecord]:
        query = select(SessionRow).where(SessionRow.status == SESSION_WAITING, SessionRow.expires_at <= now)
        async with self.database.session() as session:
            return [SessionRecord.from_row(row) for row in (await session.scalars(query)).all()]

    async def update_session(self, session_id: str, expected_status: str, **values: Any) -> SessionRecord | None:
        """Change a session only if it is still in ``expected_status`` (a compare-and-set: two validations of
        one code, or a terminate racing the expiry, cannot both win). Returns the new record, else None."""
        if "warned" in values:
            values["warned"] = list(values["warned"])
        if values.get("status") not in (None, *LIVE_STATUSES):
            values["live_code"] = None  # a finished session frees its code
        statement = (
            update(SessionRow)
            .where(SessionRow.id == session_id, SessionRow.status == expected_status)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        async with self.database.session() as session:
            result = await session.execute(statement)
            await session.commit()
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
            row = await session.get(SessionRow, session_id)
            return SessionRecord.from_row(row) if row is not None else None

    async def anonymise_visitor_sessions(self, visitor_id: str) -> int:
        """Erasure keeps the sessions (the station was used then) but no longer says by whom."""
        statement = update(SessionRow).where(SessionRow.visitor_id == visitor_id).values(visitor_id=None)
        async with self.database.session() as session:
            result = await session.execute(statement)
            await session.commit()
            return int(result.rowcount)  # type: ignore[attr-defined]

    # ----------------------------------------------------------------------------------------------- logs

    async def add_log(self, row: StationLogRow) -> int:
        async with self.database.session() as session:
            session.add(row)
            await session.commit()
            return int(row.id)

    async def logs(
        self,
        tenant_id: str | None,
        *,
        station_id: str | None = None,
        session_id: str | None = None,
        visitor_id: str | None = None,
        action: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[LogRecord]:
        query = _tenant(select(StationLogRow), StationLogRow.tenant_id, tenant_id)
        for column, value in (
            (StationLogRow.station_id, station_id),
            (StationLogRow.session_id, session_id),
            (StationLogRow.visitor_id, visitor_id),
            (StationLogRow.action, action),
        ):
            if value is not None:
                query = query.where(column == value)
        if before_id is not None:
            query = query.where(StationLogRow.id < before_id)
        query = query.order_by(StationLogRow.id.desc()).limit(max(1, min(limit, MAX_PAGE)))
        async with self.database.session() as session:
            return [LogRecord.from_row(row) for row in (await session.scalars(query)).all()]

    async def log(self, log_id: int) -> LogRecord | None:
        async with self.database.session() as session:
            row = await session.get(StationLogRow, log_id)
            return LogRecord.from_row(row) if row is not None else None

    async def purge_logs(self, older_than: float) -> int:
        async with self.database.session() as session:
            result = await session.execute(delete(StationLogRow).where(StationLogRow.time < older_than))
            await session.commit()
            return int(result.rowcount)  # type: ignore[attr-defined]
