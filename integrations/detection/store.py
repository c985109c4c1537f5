"""Detection events in the hub's database: written by the pipeline, read by the API, the pages and statistics.

The pipeline calls ``started`` before it fires ``start`` on the bus, ``updated`` on each ``update``, ``ended``
once the snapshots are written and ``media_ready`` when the clip is remuxed after the post-roll; retention calls
``forget_media`` for the files it deleted. Every read takes the tenant a ``TenantScope`` allows (None: every
tenant, for platform administrators): this module never decides visibility itself.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Float, Integer, Select, and_, cast, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from .models import DetectionEventRow

if TYPE_CHECKING:
    from hub.core import Hub
    from hub.store.database import Database

    from .event import TrackedEvent

__all__ = ["MAX_STATS_HOURS", "DetectionEventRow", "DetectionEventStore", "UnknownCursor", "epoch"]

#: Longest window ``stats`` buckets by hour (31 days).
MAX_STATS_HOURS = 24 * 31
_HOUR = 3600.0
# Keys per ``IN (...)`` when forgetting media: well under SQLite's bound-parameter limit.
_KEYS_PER_STATEMENT = 500
_MEDIA_COLUMNS = ("snapshot_key", "clean_key", "clip_key")
_SelectT = TypeVar("_SelectT", bound=Select)


class UnknownCursor(LookupError):
    """The ``before`` cursor names no event the caller can see (a forged or foreign id)."""


def epoch(value: float | dt.datetime | None) -> float | None:
    """Epoch seconds from a datetime (naive means UTC) or a number, None kept."""
    if value is None or isinstance(value, float | int):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


def _tenant_clause(tenant_id: str | None) -> ColumnElement[bool] | None:
    return None if tenant_id is None else DetectionEventRow.tenant_id == tenant_id


class DetectionEventStore:
    """Reads and writes of ``detection_events`` through the hub's ``Database`` (SQLite or PostgreSQL)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    @property
    def database(self) -> Database:
        return self.hub.database

    # ------------------------------------------------------------------------------------------- writes

    async def started(self, event: TrackedEvent) -> None:
        """Insert the event's row (open: no ``end``); a repeated start of the same id refreshes it."""
        await self._write(event)

    async def updated(self, event: TrackedEvent) -> None:
        """Refresh what moves while the event lasts: top confidence, zones entered, best box, last sighting."""
        await self._write(event)

    async def ended(
        self,
        event: TrackedEvent,
        *,
        snapshot_key: str | None,
        clean_key: str | None,
        clip_key: str | None,
        media_error: str | None,
        reason: str = "",
    ) -> None:
        """Close the row with its end, duration, media keys (None: not written) and why it ended."""
        await self._write(
            event,
            snapshot_key=snapshot_key,
            clean_key=clean_key,
            clip_key=clip_key,
            media_error=media_error,
            end_reason=reason or None,
        )

    async def media_ready(
        self,
        event_id: str,
        *,
        snapshot_key: str | None = None,
        clean_key: str | None = None,
        clip_key: str | None = None,
        media_error: str | None = None,
    ) -> None:
        """Record media written after the event's row (the clip after its post-roll); None leaves a key as is."""
        values = {
            name: value
            for name, value in (
                ("snapshot_key", snapshot_key),
                ("clean_key", clean_key),
                ("clip_key", clip_key),
                ("media_error", media_error),
            )
            if value is not None
        }
        if not values:
            return
        async with self.database.session() as session:
            await session.execute(update(DetectionEventRow).where(DetectionEventRow.id == event_id).values(**values))
            await session.commit()

    async def forget_media(self, keys: Collection[str]) -> None:
        """Null the keys of media files retention deleted, so the API answers 404 instead of a broken file."""
        ordered = sorted(set(keys))
        if not ordered:
            return
        async with self.database.session() as session:
            for first in range(0, len(ordered), _KEYS_PER_STATEMENT):
                chunk = ordered[first : first + _KEYS_PER_STATEMENT]
                for name in _MEDIA_COLUMNS:
                    column = getattr(DetectionEventRow, name)
                    await session.execute(update(DetectionEventRow).where(column.in_(chunk)).values({name: None}))
            await session.commit()

    async def acknowledge(self, event_id: str, user_id: str | None) -> DetectionEventRow | None:
        """Mark the event seen by ``user_id``; acknowledging twice keeps the first time and person."""
        async with self.database.session() as session:
            await session.execute(
                update(DetectionEventRow)
                .where(DetectionEventRow.id == event_id, DetectionEventRow.acknowledged_at.is_(None))
                .values(acknowledged_at=time.time(), acknowledged_by=user_id)
            )
            await session.commit()
        return await self.get(event_id)

    async def close_open_events(self, reason: str) -> int:
        """End the rows a crash left open at their last sighting; returns how many there were."""
        async with self.database.session() as session:
            result = await session.execute(
                update(DetectionEventRow)
                .where(DetectionEventRow.end.is_(None))
                .values(
                    end=DetectionEventRow.last_seen,
                    duration=DetectionEventRow.last_seen - DetectionEventRow.start,
                    end_reason=reason,
                )
            )
            await session.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    async def _write(self, event: TrackedEvent, **ended: Any) -> None:
        """Insert or refresh the row of ``event``; ``ended`` holds the closing columns of an end."""
        async with self.database.session() as session:
            row = await session.get(DetectionEventRow, event.event_id)
            if row is None:
                row = DetectionEventRow(id=event.event_id, tenant_id=event.tenant_id, camera=event.camera)
                session.add(row)
            row.label = event.label
            row.track_id = str(event.track_id)
            row.start = event.start
            row.last_seen = event.last_seen
            row.end = event.end
            row.duration = round(event.duration, 3)
            row.top_confidence = round(event.top_confidence, 4)
            row.zones = list(event.entered_zones)
            row.box = event.best_box.as_list()
            row.updates = event.updates
            for name, value in ended.items():
                setattr(row, name, value)
            await session.commit()

    # -------------------------------------------------------------------------------------------- reads

    async def get(self, event_id: str) -> DetectionEventRow | None:
        """The event (detached from its session), whatever its tenant: the caller checks visibility."""
        async with self.database.session() as session:
            return await session.get(DetectionEventRow, event_id)

    async def query(
        self,
        *,
        tenant_id: str | None,
        camera: str | None = None,
        label: str | None = None,
        since: float | dt.datetime | None = None,
        until: float | dt.datetime | None = None,
        acknowledged: bool | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> list[DetectionEventRow]:
        """Events newest first (by start, then id). ``before``: the last id of the previous page, which must be
        an event of ``tenant_id`` (else ``UnknownCursor``). ``since``/``until`` bound the start."""
        statement = self._filtered(
            select(DetectionEventRow), tenant_id=tenant_id, camera=camera, since=since, until=until
        )
        if label is not None:
            statement = statement.where(DetectionEventRow.label == label)
        if acknowledged is not None:
            column = DetectionEventRow.acknowledged_at
            statement = statement.where(column.is_not(None) if acknowledged else column.is_(None))
        async with self.database.session() as session:
            if before is not None:
                cursor = await session.get(DetectionEventRow, before)
                if cursor is None or (tenant_id is not None and cursor.tenant_id != tenant_id):
                    raise UnknownCursor(before)
                statement = statement.where(
                    or_(
                        DetectionEventRow.start < cursor.start,
                        and_(DetectionEventRow.start == cursor.start, DetectionEventRow.id < cursor.id),
                    )
                )
            statement = statement.order_by(DetectionEventRow.start.desc(), DetectionEventRow.id.desc()).limit(limit)
            return list((await session.scalars(statement)).all())

    async def cameras(self, *, tenant_id: str | None) -> list[str]:
        """The cameras that have events (for filter menus), sorted."""
        statement = self._filtered(select(DetectionEventRow.camera).distinct(), tenant_id=tenant_id)
        async with self.database.session() as session:
            return sorted((await session.scalars(statement)).all())

    async def labels(self, *, tenant_id: str | None) -> list[str]:
        """The labels that have events (for filter menus), sorted."""
        statement = self._filtered(select(DetectionEventRow.label).distinct(), tenant_id=tenant_id)
        async with self.database.session() as session:
            return sorted((await session.scalars(statement)).all())

    async def stats(
        self,
        *,
        tenant_id: str | None,
        since: float | dt.datetime | None,
        until: float | dt.datetime | None,
        camera: str | None = None,
    ) -> dict[str, Any]:
        """Counts of events started in [since, until): per camera, per label (with mean duration and top
        confidence), and per UTC hour (every hour of the window, zeros included). Defaults: the last 24 hours."""
        end = epoch(until)
        end = time.time() if end is None else end
        begin = epoch(since)
        begin = end - 24 * _HOUR if begin is None else begin
        if begin >= end:
            raise ValueError("since must be before until")
        first_hour = (begin // _HOUR) * _HOUR
        if (end - first_hour) / _HOUR > MAX_STATS_HOURS:
            raise ValueError(f"the window is longer than {MAX_STATS_HOURS // 24} days")
        row = DetectionEventRow
        hour = self._hour_bucket()

        def window(statement: _SelectT) -> _SelectT:
            return self._filtered(statement, tenant_id=tenant_id, camera=camera, since=begin, until=end,
                                  until_inclusive=False)  # fmt: skip

        async with self.database.session() as session:
            totals = (await session.execute(window(select(func.count(), func.count(row.acknowledged_at))))).one()
            per_camera = (await session.execute(window(select(row.camera, func.count())).group_by(row.camera))).all()
            per_label = (
                await session.execute(
                    window(
                        select(row.label, func.count(), func.avg(row.duration), func.avg(row.top_confidence))
                    ).group_by(row.label)
                )
            ).all()
            per_hour = (await session.execute(window(select(hour, func.count())).group_by(hour))).all()
        cameras = sorted(((str(name), int(count)) for name, count in per_camera), key=lambda item: (-item[1], item[0]))
        labels = sorted(per_label, key=lambda item: (-int(item[1]), str(item[0])))
        hours = {int(bucket): int(count) for bucket, count in per_hour}
        buckets = range(int(first_hour // _HOUR), int((end - 1e-6) // _HOUR) + 1)
        return {
            "since": begin,
            "until": end,
            "camera": camera,
            "total": int(totals[0]),
            "acknowledged": int(totals[1]),
            "cameras": [{"camera": name, "count": int(count)} for name, count in cameras],
            "labels": [
                {
                    "label": name,
                    "count": int(count),
                    "mean_duration": round(float(duration or 0.0), 3),
                    "mean_confidence": round(float(confidence or 0.0), 4),
                }
                for name, count, duration, confidence in labels
            ],
            "hours": [{"hour": bucket * _HOUR, "count": int(hours.get(bucket, 0))} for bucket in buckets],
        }

    # ------------------------------------------------------------------------------------------ helpers

    def _hour_bucket(self) -> ColumnElement[Any]:
        """The start's UTC hour number: SQLite casts truncate, PostgreSQL's round, so it uses floor there."""
        if self.database.dialect == "postgresql":
            return cast(func.floor(DetectionEventRow.start / _HOUR), Integer)
        return cast(cast(DetectionEventRow.start, Float) / _HOUR, Integer)

    @staticmethod
    def _filtered(
        statement: _SelectT,
        *,
        tenant_id: str | None,
        camera: str | None = None,
        since: float | dt.datetime | None = None,
        until: float | dt.datetime | None = None,
        until_inclusive: bool = True,
    ) -> _SelectT:
        clauses: Sequence[ColumnElement[bool] | None] = (
            _tenant_clause(tenant_id),
            None if camera is None else DetectionEventRow.camera == camera,
            None if since is None else DetectionEventRow.start >= epoch(since),
            None
            if until is None
            else (
                DetectionEventRow.start <= epoch(until) if until_inclusive else DetectionEventRow.start < epoch(until)
            ),
        )
        return statement.where(*(clause for clause in clauses if clause is not None))
