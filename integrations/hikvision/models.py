"""The Hikvision tables, declared on the hub's ``Base`` so the migration test compares them with the schema.

Access records are the durable part: one row per record of an access terminal, unique on the device's serial
number plus the record's own key (its ``serialNo``), which is what makes a record seen on the stream, posted
by the device and read again by the AcsEvent backfill land once, and fire one ``access`` event.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models import Base, RowId


class HikvisionAccessEvent(Base):
    """One AccessControllerEvent / AcsEvent record of a device (person scans, door states, alarms)."""

    __tablename__ = "hikvision_access_events"
    __table_args__ = (
        UniqueConstraint("serial", "event_key", name="uq_hikvision_access_events_serial"),
        Index("ix_hikvision_access_events_serial_serial_no", "serial", "serial_no"),
        Index("ix_hikvision_access_events_serial_id", "serial", "id"),
        Index("ix_hikvision_access_events_tenant_id_id", "tenant_id", "id"),
    )

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    serial: Mapped[str] = mapped_column(String(64))  # the device's serialNumber
    event_key: Mapped[str] = mapped_column(String(96))  # "sn:<serialNo>", else a digest of the record
    serial_no: Mapped[int | None] = mapped_column(BigInteger)
    tenant_id: Mapped[str | None] = mapped_column(String(32))  # no foreign key: records outlive a claim
    device_id: Mapped[str | None] = mapped_column(String(32))
    major: Mapped[int] = mapped_column(Integer)
    minor: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # granted, denied, door, alarm, exception, operation, other
    method: Mapped[str | None] = mapped_column(String(32))
    employee_no: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(255))
    card_no: Mapped[str | None] = mapped_column(String(64))
    door: Mapped[int | None] = mapped_column(Integer)
    time: Mapped[str] = mapped_column(String(40))  # the device's own ISO text
    timestamp: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))  # stream, push, gateway, backfill
    raw: Mapped[str] = mapped_column(Text)
    received_at: Mapped[float] = mapped_column(Float)


class HikvisionDevice(Base):
    """What the hub learned of a device (deviceInfo, channels, doors, gateway index) between connections."""

    __tablename__ = "hikvision_devices"

    serial: Mapped[str] = mapped_column(String(64), primary_key=True)
    entry_id: Mapped[str | None] = mapped_column(ForeignKey("config_entries.id", ondelete="SET NULL"), index=True)
    gateway: Mapped[str | None] = mapped_column(String(64))
    dev_index: Mapped[str | None] = mapped_column(String(64))
    ehome_id: Mapped[str | None] = mapped_column(String(64))
    device_type: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(128))
    firmware: Mapped[str | None] = mapped_column(String(128))
    mac_address: Mapped[str | None] = mapped_column(String(32))
    channels: Mapped[int | None] = mapped_column(Integer)
    doors: Mapped[int | None] = mapped_column(Integer)
    info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_seen: Mapped[float] = mapped_column(Float)
    last_seen: Mapped[float | None] = mapped_column(Float)


class HikvisionPushToken(Base):
    """The unguessable path segment a device in push mode posts to; it binds the posts to one config entry."""

    __tablename__ = "hikvision_push_tokens"

    entry_id: Mapped[str] = mapped_column(ForeignKey("config_entries.id", ondelete="CASCADE"), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[float] = mapped_column(Float)
