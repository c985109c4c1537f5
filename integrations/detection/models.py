"""The detection events table, declared on the hub's ``Base`` so the migration test compares it with the schema.

One row per tracked object (``TrackedEvent.event_id``): written at ``start``, refreshed on ``update``, closed on
``end`` with the media keys. Times are epoch seconds (floats) like the core's tables; ``zones`` is the list of
zones entered, in order, and ``box`` the best box ``[x1, y1, x2, y2]``. The indexes serve the API's filters:
a tenant's newest events, one camera's, one label's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.hookspecs import hookimpl
from hub.store.models import Base

__all__ = ["MIGRATIONS", "DetectionEventRow", "migration_folders"]

#: The ``detection`` Alembic branch.
MIGRATIONS = Path(__file__).parent / "migrations"


class DetectionEventRow(Base):
    """One detection event (a tracked object from first to last sighting) and where its media are."""

    __tablename__ = "detection_events"
    __table_args__ = (
        Index("ix_detection_events_tenant_id_start", "tenant_id", "start"),
        Index("ix_detection_events_tenant_id_camera_start", "tenant_id", "camera", "start"),
        Index("ix_detection_events_label_start", "label", "start"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the TrackedEvent's event_id (uuid4 hex)
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    camera: Mapped[str] = mapped_column(String(255))  # the camera entity id
    label: Mapped[str] = mapped_column(String(64))
    track_id: Mapped[str] = mapped_column(String(64))
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float | None] = mapped_column(Float)  # None while the event is open
    last_seen: Mapped[float] = mapped_column(Float)
    duration: Mapped[float] = mapped_column(Float, default=0.0)
    top_confidence: Mapped[float] = mapped_column(Float)
    zones: Mapped[list[str]] = mapped_column(JSON, default=list)  # every zone entered, in order
    box: Mapped[list[float]] = mapped_column(JSON, default=list)  # the best box [x1, y1, x2, y2]
    updates: Mapped[int] = mapped_column(Integer, default=0)
    snapshot_key: Mapped[str | None] = mapped_column(String(512))
    clean_key: Mapped[str | None] = mapped_column(String(512))
    clip_key: Mapped[str | None] = mapped_column(String(512))
    media_error: Mapped[str | None] = mapped_column(String(512))
    end_reason: Mapped[str | None] = mapped_column(String(32))
    acknowledged_at: Mapped[float | None] = mapped_column(Float)
    acknowledged_by: Mapped[str | None] = mapped_column(String(32))

    def as_dict(self) -> dict[str, Any]:
        """The row as the store hands it out (no ORM state)."""
        return {column.key: getattr(self, column.key) for column in self.__table__.columns}


@hookimpl
def migration_folders() -> list[Path]:
    return [MIGRATIONS]
