"""The stations tables, declared on the hub's ``Base`` so the migration test compares them with the schema.

``live_code`` holds a session's access code while it is live (waiting or active) and NULL once it finished: its
unique constraint keeps codes unique among live sessions on SQLite and PostgreSQL alike (NULLs never collide),
while ``code`` keeps the code for the record. Times are epoch seconds, like the rest of the hub.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models import Base, RowId


class StationRow(Base):
    """A public computer of a tenant, and the hash of its agent's token."""

    __tablename__ = "stations_stations"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_stations_stations_tenant_id_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(128))
    address: Mapped[str | None] = mapped_column(String(64), index=True)  # the station's IP address
    mac: Mapped[str | None] = mapped_column(String(32))
    maintenance: Mapped[bool] = mapped_column(Boolean, default=False)
    token_hash: Mapped[str] = mapped_column(String(64))
    last_seen: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class VisitorRow(Base):
    """A person who borrows stations: personal fields are wiped (``erased_at`` set) on request."""

    __tablename__ = "stations_visitors"
    __table_args__ = (Index("ix_stations_visitors_tenant_id_last_name", "tenant_id", "last_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    last_name: Mapped[str | None] = mapped_column(String(128))
    first_name: Mapped[str | None] = mapped_column(String(128))
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(64))
    id_document: Mapped[str | None] = mapped_column(String(128))
    photo: Mapped[bytes | None] = mapped_column(LargeBinary)
    photo_type: Mapped[str | None] = mapped_column(String(32))
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[float | None] = mapped_column(Float)
    erased_at: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class SessionRow(Base):
    """One lending of a station: waiting (code issued) -> active (``ends_at`` is the hub's clock) -> finished."""

    __tablename__ = "stations_sessions"
    __table_args__ = (
        UniqueConstraint("live_code", name="uq_stations_sessions_live_code"),
        Index("ix_stations_sessions_tenant_id_created_at", "tenant_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    station_id: Mapped[str | None] = mapped_column(ForeignKey("stations_stations.id", ondelete="SET NULL"), index=True)
    visitor_id: Mapped[str | None] = mapped_column(ForeignKey("stations_visitors.id", ondelete="SET NULL"), index=True)
    code: Mapped[str] = mapped_column(String(8))
    live_code: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), index=True)
    duration: Mapped[int] = mapped_column(Integer)  # seconds granted at creation
    added: Mapped[int] = mapped_column(Integer, default=0)  # seconds added since
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)  # a waiting code is void after this
    started_at: Mapped[float | None] = mapped_column(Float)
    ends_at: Mapped[float | None] = mapped_column(Float)
    finished_at: Mapped[float | None] = mapped_column(Float)
    end_reason: Mapped[str | None] = mapped_column(String(32))
    warned: Mapped[list[int]] = mapped_column(JSON, default=list)  # warning thresholds (minutes) already fired
    created_by: Mapped[str | None] = mapped_column(String(128))


class StationLogRow(Base):
    """The audit trail of the integration: who (user id, ``agent:<station>``, ``automation``) did what."""

    __tablename__ = "stations_logs"
    __table_args__ = (Index("ix_stations_logs_tenant_id_time", "tenant_id", "time"),)

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    time: Mapped[float] = mapped_column(Float, index=True)
    actor: Mapped[str] = mapped_column(String(160))
    action: Mapped[str] = mapped_column(String(64))
    station_id: Mapped[str | None] = mapped_column(String(32), index=True)  # no foreign key: logs outlive rows
    session_id: Mapped[str | None] = mapped_column(String(32), index=True)
    visitor_id: Mapped[str | None] = mapped_column(String(32))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    address: Mapped[str | None] = mapped_column(String(64))
