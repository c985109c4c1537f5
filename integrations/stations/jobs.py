"""The stations integration's scheduled jobs, on the hub's scheduler (the seed's Celery beat, without Celery).

- ``stations expire`` every 60 s: sessions past their ``ends_at`` end (``close_session`` to the agent) and codes
  never typed expire after ``code_ttl_hours``. Agents count down on their own and lock at zero, so a minute's
  granularity costs no visitor anything; the hub's record catches up within the minute.
- ``stations warnings`` every 10 s: ``station_session_ending`` once per threshold (``warn_minutes``, default 5 and
  1 minutes before the end) for automations, and a ``warn`` message to the agent.
- ``stations offline`` every 5 s (or half of ``offline_after`` when that is shorter): stations whose agent has
  been silent for ``offline_after`` seconds go offline.
- ``stations log purge`` daily at 03:00 (the hub's time zone): audit rows older than ``log_retention_days``.

Each job is a thin call into the ``StationManager``, which owns the logic; the scheduler logs a job that raises
and runs it again next time. Tests shorten the periods with the optional ``expire_interval``,
``warn_interval`` and ``sweep_interval`` keys of the ``stations:`` section.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import Any, Final

from hub.core import Hub

from .const import CONF_LOG_RETENTION_DAYS, CONF_OFFLINE_AFTER, DEFAULT_LOG_RETENTION_DAYS, DEFAULT_OFFLINE_AFTER
from .manager import StationManager

__all__ = ["EXPIRE_INTERVAL", "PURGE_AT", "SWEEP_INTERVAL", "WARN_INTERVAL", "purge_logs", "start_jobs"]

_LOGGER = logging.getLogger(__name__)

EXPIRE_INTERVAL: Final = 60.0
WARN_INTERVAL: Final = 10.0
SWEEP_INTERVAL: Final = 5.0
PURGE_AT: Final = dt.time(3, 0)

CONF_EXPIRE_INTERVAL: Final = "expire_interval"
CONF_WARN_INTERVAL: Final = "warn_interval"
CONF_SWEEP_INTERVAL: Final = "sweep_interval"


def start_jobs(hub: Hub, manager: StationManager, config: Mapping[str, Any]) -> list[Callable[[], None]]:
    """Schedule the four jobs; they stop with the hub. Returns their cancel functions (for unloading)."""
    offline_after = float(config.get(CONF_OFFLINE_AFTER, DEFAULT_OFFLINE_AFTER))
    retention_days = int(config.get(CONF_LOG_RETENTION_DAYS, DEFAULT_LOG_RETENTION_DAYS))
    expire_every = float(config.get(CONF_EXPIRE_INTERVAL, EXPIRE_INTERVAL))
    warn_every = float(config.get(CONF_WARN_INTERVAL, WARN_INTERVAL))
    sweep_every = float(config.get(CONF_SWEEP_INTERVAL, min(SWEEP_INTERVAL, offline_after / 2)))

    async def purge() -> int:
        return await purge_logs(manager, retention_days)

    scheduler = hub.scheduler
    return [
        scheduler.every(expire_every, manager.expire_due, "stations expire", first_delay=min(expire_every, 1.0)),
        scheduler.every(warn_every, manager.warn_due, "stations warnings", first_delay=min(warn_every, 1.0)),
        scheduler.every(sweep_every, manager.sweep_offline, "stations offline"),
        scheduler.daily(PURGE_AT, purge, "stations log purge"),
    ]


async def purge_logs(manager: StationManager, retention_days: int, now: dt.datetime | None = None) -> int:
    """Delete audit rows older than ``retention_days``; returns how many went."""
    now = now or dt.datetime.now(dt.UTC)
    deleted = await manager.purge_logs(now - dt.timedelta(days=retention_days))
    if deleted:
        _LOGGER.info("Purged %d station log rows older than %d days", deleted, retention_days)
    return deleted
