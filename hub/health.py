"""Device health: response-time levels, back-off reconnect, uptime, and the entities and events that show them.

Every integration tracks its device connections here instead of inventing its own polling, so that every
device gets the same four entities, the same ``device_health_changed`` event for automations, the same
back-off (devices lock accounts when hammered) and an uptime that survives restarts.
Scheduling uses loop timers, not a sleeping task per device, so ``hub.block_till_done`` only waits for checks
that are actually running.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from hub.backoff import Backoff
from hub.core import Hub, valid_entity_id
from hub.device_health import (
    EVENT_DEVICE_HEALTH_CHANGED,
    LEVEL_THRESHOLDS_MS,
    MAX_DELAY,
    MAX_RETRIES,
    RECONNECT_DELAYS,
    Check,
    DeviceHealth,
    DeviceHealthChangedData,
    HealthLevel,
    level_for,
)
from hub.health_checks import http_check, tcp_check
from hub.uptime import SessionSource, UptimeBook

__all__ = [
    "EVENT_DEVICE_HEALTH_CHANGED",
    "LEVEL_THRESHOLDS_MS",
    "MAX_DELAY",
    "MAX_RETRIES",
    "RECONNECT_DELAYS",
    "Check",
    "DeviceHealth",
    "DeviceHealthChangedData",
    "HealthLevel",
    "HealthMonitor",
    "http_check",
    "level_for",
    "tcp_check",
]

_LOGGER = logging.getLogger(__name__)

DEFAULT_INTERVAL = 60.0
DEFAULT_TIMEOUT = 10.0
FLUSH_INTERVAL = 60.0


class HealthMonitor:
    """The devices the hub watches, their schedules, and the uptime book they share.

    ``clock`` gives epoch seconds (last_check, next_retry_at, uptime days); tests replace it. ``delays`` and
    ``max_retries`` set the back-off of every device tracked afterwards.
    """

    def __init__(
        self,
        hub: Hub,
        database: SessionSource | None = None,
        *,
        clock: Callable[[], float] = time.time,
        delays: Sequence[float] = RECONNECT_DELAYS,
        max_delay: float = MAX_DELAY,
        max_retries: int | None = MAX_RETRIES,
        flush_interval: float = FLUSH_INTERVAL,
    ) -> None:
        self.hub = hub
        self.database = database
        self.clock = clock
        self.uptime = UptimeBook(database, clock)
        self.flush_interval = flush_interval
        self._backoff_args: tuple[Sequence[float], float, int | None] = (delays, max_delay, max_retries)
        self._devices: dict[str, DeviceHealth] = {}
        self._flush_timer: asyncio.TimerHandle | None = None
        self._uptime_task: asyncio.Task[None] | None = None
        self.started = False

    def new_backoff(self) -> Backoff:
        """A device's back-off. The failure that starts it is not a retry: 5 retries stop on the 6th failure."""
        delays, max_delay, max_retries = self._backoff_args
        return Backoff(delays, cap=max_delay, max_failures=None if max_retries is None else max_retries + 1)

    # ------------------------------------------------------------------------------------------- tracking

    def track(
        self,
        key: str,
        name: str,
        *,
        check: Check | None = None,
        interval: float = DEFAULT_INTERVAL,
        timeout: float = DEFAULT_TIMEOUT,
        device_id: str | None = None,
        tenant_id: str | None = None,
        stale_after: float | None = None,
    ) -> DeviceHealth:
        """Watch a device: poll ``check`` every ``interval`` s, or (no check) wait for its reports.

        ``stale_after`` (push devices): seconds without a report after which the device counts as offline.
        Tracking a key again (a configuration change) replaces the device and restarts its back-off.
        """
        if not valid_entity_id(f"sensor.{key}_health"):
            raise ValueError(f"health key {key!r} must be lower-case letters, digits and single underscores")
        if interval <= 0 or timeout <= 0:
            raise ValueError("interval and timeout must be positive")
        if (old := self._devices.pop(key, None)) is not None:
            old.deactivate()
        device = DeviceHealth(
            self,
            key,
            name,
            check=check,
            interval=interval,
            timeout=timeout,
            device_id=device_id,
            tenant_id=tenant_id,
            stale_after=stale_after,
        )
        self._devices[key] = device
        device.publish()
        if self.started:
            device.activate()
        return device

    def untrack(self, key: str) -> None:
        """Stop watching a device and remove its entities; its uptime seconds are still flushed."""
        device = self._devices.pop(key, None)
        if device is None:
            return
        device.deactivate()
        for entity_id in device.entity_ids:
            self.hub.states.remove(entity_id)

    def get(self, key: str) -> DeviceHealth | None:
        return self._devices.get(key)

    def all(self, tenant_id: str | None = None) -> list[DeviceHealth]:
        """Every tracked device, or those of one tenant."""
        devices = self._devices.values()
        return [device for device in devices if tenant_id is None or device.tenant_id == tenant_id]

    def summary(self, tenant_id: str | None = None) -> dict[str, Any]:
        """Counts for a dashboard; devices not checked yet count in ``total`` only."""
        devices = self.all(tenant_id)
        levels = {level.value: 0 for level in HealthLevel}
        for device in devices:
            if device.level is not None:
                levels[device.level] += 1
        uptimes = [percent for device in devices if (percent := device.uptime_percent) is not None]
        return {
            "total": len(devices),
            "online": sum(1 for device in devices if device.connected),
            "offline": levels[HealthLevel.OFFLINE],
            "levels": levels,
            "average_uptime": round(sum(uptimes) / len(uptimes), 1) if uptimes else None,
        }

    def load_uptime(self) -> None:
        """Read the stored uptime of every device once (one query, not one per device), then show it."""
        if not self.uptime.loaded and self._uptime_task is None:
            self._uptime_task = self.hub.create_task(self._load_uptime(), "health uptime load")

    async def _load_uptime(self) -> None:
        try:
            await self.uptime.load()
        finally:
            self._uptime_task = None
        for device in self._devices.values():
            if device.active:
                device.publish()

    # ------------------------------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start checking every tracked device, and flushing uptime (whoever starts it calls ``stop``)."""
        if self.started:
            return
        self.started = True
        for device in self._devices.values():
            device.activate()
        self._schedule_flush()

    async def stop(self) -> None:
        """Cancel the checks and write the uptime counted so far (safe to call twice)."""
        if not self.started:
            return
        self.started = False
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        devices = list(self._devices.values())
        for device in devices:
            device.deactivate()
        await asyncio.gather(*(device.wait_idle() for device in devices), return_exceptions=True)
        await self.flush()

    async def flush(self) -> None:
        """Count every device's time up to now and write it to the database."""
        for number, device in enumerate(list(self._devices.values()), 1):
            device.account()
            if device.active:
                device.publish()
            if number % 100 == 0:
                await asyncio.sleep(0)  # thousands of devices: let the loop answer in between
        try:
            await self.uptime.flush()
        except Exception as err:  # the database is down or busy: keep counting, write next time
            _LOGGER.warning("Could not write device uptime, will retry: %s", err)

    def _schedule_flush(self) -> None:
        self._flush_timer = self.hub.loop.call_later(self.flush_interval, self._flush_due)

    def _flush_due(self) -> None:
        self._flush_timer = None
        if not self.started:
            return
        task = self.hub.create_task(self.flush(), "health uptime flush")
        task.add_done_callback(self._flush_done)

    def _flush_done(self, _: asyncio.Task[None]) -> None:
        if self.started and self._flush_timer is None:
            self._schedule_flush()
