"""Uptime over the last 30 days: seconds observed and seconds online, per device and UTC day.

Counting seconds per day (rather than storing every check) keeps the table at 30 rows per device and lets the
percentage survive restarts: the monitor adds in memory, flushes the increments to ``health_uptime`` now and
then, and reads the last 30 days back when a device is tracked again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from hub.store.models import UptimeRow

WINDOW_DAYS = 30
_DAY = 86_400.0


class SessionSource(Protocol):
    """What the monitor needs from ``hub.store.database.Database``: sessions."""

    def session(self) -> AsyncSession: ...


def utc_day(timestamp: float) -> str:
    """``YYYY-MM-DD`` of an epoch time in UTC; such strings sort in date order."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).date().isoformat()


def first_day(now: float, window_days: int = WINDOW_DAYS) -> str:
    """The oldest day inside the window that ends today (today counts as one of the ``window_days``)."""
    today = dt.datetime.fromtimestamp(now, dt.UTC).date()
    return (today - dt.timedelta(days=window_days - 1)).isoformat()


class UptimeBook:
    """Per device and day: ``[observed, online]`` seconds, as stored plus not yet flushed.

    ``database`` None keeps everything in memory (tests, or a hub without a store).
    """

    def __init__(
        self,
        database: SessionSource | None,
        clock: Callable[[], float],
        window_days: int = WINDOW_DAYS,
    ) -> None:
        self.database = database
        self.clock = clock
        self.window_days = window_days
        self._stored: dict[str, dict[str, list[float]]] = {}
        self._pending: dict[str, dict[str, list[float]]] = {}
        self._loaded = False
        # Loading and flushing both replace what is stored: one at a time, or seconds are counted twice.
        self._lock = asyncio.Lock()

    def add(self, key: str, start: float, end: float, online: bool) -> None:
        """Count ``start`` to ``end`` as observed (and online when ``online``), split at UTC midnights."""
        days = self._pending.setdefault(key, {})
        while start < end:
            chunk_end = min(end, start - start % _DAY + _DAY)
            bucket = days.setdefault(utc_day(start), [0.0, 0.0])
            bucket[0] += chunk_end - start
            if online:
                bucket[1] += chunk_end - start
            start = chunk_end

    def totals(self, key: str) -> tuple[float, float]:
        """Observed and online seconds of ``key`` inside the window."""
        since = first_day(self.clock(), self.window_days)
        observed = online = 0.0
        for book in (self._stored.get(key, {}), self._pending.get(key, {})):
            for day, (day_observed, day_online) in book.items():
                if day >= since:
                    observed += day_observed
                    online += day_online
        return observed, online

    def percent(self, key: str) -> float | None:
        """Online share of observed time in the window, 0-100; None when the device was never observed."""
        observed, online = self.totals(key)
        return None if observed <= 0 else min(100.0, 100.0 * online / observed)

    @property
    def loaded(self) -> bool:
        return self.database is None or self._loaded

    async def load(self) -> None:
        """Read the window's days of every device from the database, in one query, once per book."""
        if self.loaded:
            return
        async with self._lock:
            if self._loaded:
                return
            since = first_day(self.clock(), self.window_days)
            async with self.database.session() as session:  # type: ignore[union-attr]
                for row in await session.scalars(select(UptimeRow).where(UptimeRow.day >= since)):
                    self._stored.setdefault(row.device_key, {})[row.day] = [row.observed_seconds, row.online_seconds]
            self._loaded = True

    async def flush(self) -> None:
        """Add the seconds counted since the last flush to the database; drop days that left the window."""
        since = first_day(self.clock(), self.window_days)
        for book in (*self._stored.values(), *self._pending.values()):
            for day in [day for day in book if day < since]:
                del book[day]
        if self.database is None:
            self._merge(self._pending)
            return
        async with self._lock:
            pending, self._pending = self._pending, {}
            try:
                async with self.database.session() as session:
                    await self._write(session, pending, since)
                    await session.commit()
            except BaseException:
                # Nothing was written: count these seconds again next time.
                self._restore(pending)
                raise
            self._merge(pending)

    @staticmethod
    async def _write(session: AsyncSession, pending: dict[str, dict[str, list[float]]], since: str) -> None:
        # One upsert for every device and day, not a read and a write each: 2,000 devices must not hold the
        # event loop and the write lock for a second (TM20 log commits wait behind it).
        rows = [
            {"device_key": key, "day": day, "observed_seconds": observed, "online_seconds": online}
            for key, book in pending.items()
            for day, (observed, online) in book.items()
        ]
        if rows:
            table = UptimeRow.__table__
            insert = (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert(table)
            upsert = insert.on_conflict_do_update(
                index_elements=[table.c.device_key, table.c.day],
                set_={
                    "observed_seconds": table.c.observed_seconds + insert.excluded.observed_seconds,
                    "online_seconds": table.c.online_seconds + insert.excluded.online_seconds,
                },
            )
            await session.execute(upsert, rows)
        await session.execute(delete(UptimeRow).where(UptimeRow.day < since))

    def _merge(self, pending: dict[str, dict[str, list[float]]]) -> None:
        for key, days in pending.items():
            stored = self._stored.setdefault(key, {})
            for day, (observed, online) in days.items():
                bucket = stored.setdefault(day, [0.0, 0.0])
                bucket[0] += observed
                bucket[1] += online
        if pending is self._pending:
            self._pending = {}

    def _restore(self, pending: dict[str, dict[str, list[float]]]) -> None:
        for key, days in pending.items():
            for day, (observed, online) in days.items():
                bucket = self._pending.setdefault(key, {}).setdefault(day, [0.0, 0.0])
                bucket[0] += observed
                bucket[1] += online
