"""The hub's tables, as SQLAlchemy 2 declarative models. Alembic migrations (``migrations/``) create them.

Times are epoch seconds in double-precision floats: cheap to write in bulk, the same on SQLite and
PostgreSQL, and what the core's State and Event carry already.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# A 64-bit id that SQLite still treats as its rowid alias (autoincrement).
RowId = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON}


class Tenant(Base):
    """A company or site that owns devices, entities and config entries. ``code`` is its short unique name."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[float] = mapped_column(Float)


class ConfigEntryRow(Base):
    """One configured device or account of an integration, owned by a tenant."""

    __tablename__ = "config_entries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    domain: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(255))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)


class DeviceRow(Base):
    """A physical device: manufacturer + serial number is unique across the hub; at most one tenant owns it."""

    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("manufacturer", "serial_number", name="uq_devices_identity"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    manufacturer: Mapped[str] = mapped_column(String(64))
    serial_number: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(255))
    model: Mapped[str | None] = mapped_column(String(128))
    sw_version: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))  # PENDING, ACTIVE, OFFLINE
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id", ondelete="SET NULL"), index=True)
    config_entry_id: Mapped[str | None] = mapped_column(ForeignKey("config_entries.id", ondelete="SET NULL"))
    claimed_at: Mapped[float | None] = mapped_column(Float)
    last_seen: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float)


class EntityRow(Base):
    """The registry entry that keeps an entity's id stable across restarts (keyed by platform + unique id)."""

    __tablename__ = "entities"
    __table_args__ = (UniqueConstraint("platform", "unique_id", name="uq_entities_platform_unique_id"),)

    entity_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    platform: Mapped[str] = mapped_column(String(64))
    unique_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    config_entry_id: Mapped[str | None] = mapped_column(ForeignKey("config_entries.id", ondelete="CASCADE"))
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id", ondelete="SET NULL"), index=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)


class StateRow(Base):
    """One recorded state of one entity (written by the recorder in batches)."""

    __tablename__ = "states"
    __table_args__ = (Index("ix_states_entity_id_last_updated", "entity_id", "last_updated"),)

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    entity_id: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(255))
    attributes: Mapped[str] = mapped_column(Text)  # JSON text, serialised by the recorder
    last_changed: Mapped[float] = mapped_column(Float)
    last_updated: Mapped[float] = mapped_column(Float, index=True)
    context_id: Mapped[str | None] = mapped_column(String(32))
    tenant_id: Mapped[str | None] = mapped_column(String(32), index=True)


class EventRow(Base):
    """One recorded event other than ``state_changed`` (those live in ``states``)."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_event_type_time_fired", "event_type", "time_fired"),)

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    event_type: Mapped[str] = mapped_column(String(64))
    data: Mapped[str] = mapped_column(Text)  # JSON text
    time_fired: Mapped[float] = mapped_column(Float, index=True)
    context_id: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(32))
    tenant_id: Mapped[str | None] = mapped_column(String(32), index=True)
    device_id: Mapped[str | None] = mapped_column(String(32), index=True)  # from data["device_id"], when given


class UptimeRow(Base):
    """Seconds a device was observed and seconds it was online, per day: uptime over 30 days survives restarts."""

    __tablename__ = "health_uptime"

    device_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD, UTC
    observed_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    online_seconds: Mapped[float] = mapped_column(Float, default=0.0)


class UserRow(Base):
    """A person who signs in: unique lower-case username, an argon2 hash, a role inside one tenant (or none,
    for a platform administrator)."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(String(255))
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    platform_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)
    last_login: Mapped[float | None] = mapped_column(Float)


class RefreshTokenRow(Base):
    """One refresh token, kept only as its SHA-256: a stolen database row cannot be replayed."""

    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    revoked_at: Mapped[float | None] = mapped_column(Float)
    revoked_reason: Mapped[str | None] = mapped_column(String(16))  # rotated, logout, reuse, user
    last_address: Mapped[str | None] = mapped_column(String(64))


class ApiKeyRow(Base):
    """A long-lived key for a program, kept only as its SHA-256 plus a short prefix to recognise it by."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    platform_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[float] = mapped_column(Float)
    last_used_at: Mapped[float | None] = mapped_column(Float)
    revoked_at: Mapped[float | None] = mapped_column(Float)


class AuditRow(Base):
    """Who did what, when, from where. Kept when the user or tenant goes: no foreign keys on purpose."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_tenant_id_time", "tenant_id", "time"),)

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    time: Mapped[float] = mapped_column(Float, index=True)
    tenant_id: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(32))
    user_name: Mapped[str | None] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[str | None] = mapped_column(Text)  # JSON text
    address: Mapped[str | None] = mapped_column(String(64))


class SettingRow(Base):
    """Hub-wide values every node shares (the JWT signing secret)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class EventAckRow(Base):
    """An operator acknowledged a recorded event (an alarm, a refused access); goes with the event when purged."""

    __tablename__ = "event_acks"

    event_id: Mapped[int] = mapped_column(
        RowId, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    user_id: Mapped[str | None] = mapped_column(String(32))
    acknowledged_at: Mapped[float] = mapped_column(Float)


class NotificationRow(Base):
    """A persistent notification for a tenant's dashboard (``notify.persistent_notification``), until dismissed."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_tenant_id_created_at", "tenant_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    title: Mapped[str | None] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    camera: Mapped[str | None] = mapped_column(String(255))  # the camera entity whose snapshot is attached
    image: Mapped[str | None] = mapped_column(String(255))  # file name in <config>/media/notifications/
    context_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[float] = mapped_column(Float)
    dismissed_at: Mapped[float | None] = mapped_column(Float, index=True)
