"""The hub's scheduler: run a job every N seconds, once later, or daily at a time of day.

Jobs are plain or coroutine functions. A job that raises is logged and runs again next time; the next turn
is counted from the end of the previous one, so a slow job never overlaps itself. Every job stops with the hub.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from hub.core import Hub, await_maybe

_LOGGER = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object] | object]
Cancel = Callable[[], None]


class Scheduler:
    """Periodic and delayed jobs on the hub's event loop."""

    def __init__(self, hub: Hub, time_zone: str = "UTC") -> None:
        self._hub = hub
        self._zone = ZoneInfo(time_zone)
        self.jobs: dict[str, float] = {}  # job name -> next run (epoch seconds), for status pages

    def every(self, seconds: float, job: Job, name: str, *, first_delay: float | None = None) -> Cancel:
        """Run ``job`` every ``seconds`` (first after ``first_delay``, default one period)."""
        if seconds <= 0:
            raise ValueError("seconds must be positive")
        return self._loop(name, job, lambda: seconds, first_delay if first_delay is not None else seconds)

    def later(self, seconds: float, job: Job, name: str) -> Cancel:
        """Run ``job`` once, ``seconds`` from now."""

        async def once() -> None:
            self.jobs[name] = time.time() + seconds
            await asyncio.sleep(seconds)
            self.jobs.pop(name, None)
            await self._run(name, job)

        task = self._hub.create_background_task(once(), f"job {name}")
        return lambda: self._cancel(name, task)

    def daily(self, at: dt.time, job: Job, name: str) -> Cancel:
        """Run ``job`` every day at ``at`` in the hub's time zone (a nightly backup, a purge)."""
        return self._loop(name, job, lambda: self._seconds_until(at), self._seconds_until(at))

    def _loop(self, name: str, job: Job, period: Callable[[], float], first_delay: float) -> Cancel:
        async def run_forever() -> None:
            delay = first_delay
            while True:
                self.jobs[name] = time.time() + delay
                await asyncio.sleep(delay)
                await self._run(name, job)
                delay = period()

        task = self._hub.create_background_task(run_forever(), f"job {name}")
        return lambda: self._cancel(name, task)

    async def _run(self, name: str, job: Job) -> None:
        try:
            await await_maybe(job())
        except Exception:
            _LOGGER.exception("Scheduled job %s failed", name)

    def _seconds_until(self, at: dt.time) -> float:
        now = dt.datetime.now(self._zone)
        target = now.replace(hour=at.hour, minute=at.minute, second=at.second, microsecond=0)
        if target <= now:
            target += dt.timedelta(days=1)
        return (target - now).total_seconds()

    def _cancel(self, name: str, task: asyncio.Task[None]) -> None:
        self.jobs.pop(name, None)
        task.cancel()
