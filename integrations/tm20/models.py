"""The TM20 tables, declared on the hub's ``Base`` so the migration test compares them with the schema.

Logs keep the terminal's own ``time`` text (what de-duplication keys on, since retransmitted batches carry the
same text) next to an epoch ``timestamp`` computed in the terminal's time zone (what queries sort on), and the
raw record as JSON text: the semantics of ``mode``/``event`` vary by firmware, the raw values never do.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models import Base, RowId


class Tm20Terminal(Base):
    """A terminal that registered at least once: its last devinfo and the time zone its clock runs in."""

    __tablename__ = "tm20_terminals"

    sn: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"), index=True)
    time_zone: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(128))
    firmware: Mapped[str | None] = mapped_column(String(128))
    devinfo: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_seen: Mapped[float] = mapped_column(Float)
    last_registered: Mapped[float | None] = mapped_column(Float)


class Tm20Person(Base):
    """A person of one tenant, known to all of its terminals under the same ``enrollid``."""

    __tablename__ = "tm20_people"
    __table_args__ = (UniqueConstraint("tenant_id", "enrollid", name="uq_tm20_people_tenant_id_enrollid"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    enrollid: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(255))
    admin: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class Tm20Credential(Base):
    """One credential slot of a person (``backupnum``: fingerprint 0-9, password 10, card 11, face 20-27...)."""

    __tablename__ = "tm20_credentials"

    person_id: Mapped[str] = mapped_column(ForeignKey("tm20_people.id", ondelete="CASCADE"), primary_key=True)
    backupnum: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    record: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[float] = mapped_column(Float)


class Tm20TerminalUser(Base):
    """Who is enrolled on which terminal, as the last pull (``getuserlist``) or ``senduser`` showed it."""

    __tablename__ = "tm20_terminal_users"

    sn: Mapped[str] = mapped_column(String(64), primary_key=True)
    enrollid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str | None] = mapped_column(String(255))
    admin: Mapped[int] = mapped_column(Integer, default=0)
    backupnums: Mapped[list[int]] = mapped_column(JSON, default=list)
    seen_at: Mapped[float] = mapped_column(Float)


class Tm20Log(Base):
    """One attendance or door log. The unique key drops the same record sent twice (retransmission, drain)."""

    __tablename__ = "tm20_logs"
    __table_args__ = (
        UniqueConstraint("sn", "enrollid", "time", "mode", "event", name="uq_tm20_logs_identity"),
        Index("ix_tm20_logs_tenant_id_timestamp", "tenant_id", "timestamp"),
        Index("ix_tm20_logs_sn_timestamp", "sn", "timestamp"),
    )

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    sn: Mapped[str] = mapped_column(String(64))
    tenant_id: Mapped[str | None] = mapped_column(String(32))  # no foreign key: logs outlive a released claim
    enrollid: Mapped[int] = mapped_column(BigInteger)
    time: Mapped[str] = mapped_column(String(32))  # the terminal's "YYYY-MM-DD HH:MM:SS", naive local time
    timestamp: Mapped[float | None] = mapped_column(Float)
    mode: Mapped[int] = mapped_column(Integer)
    inout: Mapped[int] = mapped_column(Integer)
    event: Mapped[int] = mapped_column(Integer)
    verifymode: Mapped[int | None] = mapped_column(Integer)
    temp: Mapped[float | None] = mapped_column(Float)
    logindex: Mapped[int | None] = mapped_column(BigInteger)
    raw: Mapped[str] = mapped_column(Text)  # the record as the terminal sent it (JSON), photo removed
    received_at: Mapped[float] = mapped_column(Float)


class Tm20PendingCommand(Base):
    """A command for a terminal that was offline (a person pushed to it): sent, oldest first, when it registers."""

    __tablename__ = "tm20_pending_commands"

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    sn: Mapped[str] = mapped_column(String(64), index=True)
    command: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)
