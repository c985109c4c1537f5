"""One watched device connection: its level, its back-off, its uptime clock, and the entities that show them.

``HealthMonitor`` (``hub.health``) creates these; integrations get them from ``monitor.track`` and, for devices
that connect to us instead of being polled, call ``report_success`` / ``report_failure``.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypedDict

from hub.core import EventType
from hub.exceptions import ConfigEntryAuthFailed

if TYPE_CHECKING:
    from hub.health import HealthMonitor

_LOGGER = logging.getLogger(__name__)

Check = Callable[[], Awaitable[object]]

#: Seconds before automatic retries 1 to 5 after a failure: 5 m 10 s in all, then retries stop.
RECONNECT_DELAYS: tuple[float, ...] = (10.0, 20.0, 40.0, 80.0, 160.0)
#: No wait is longer, even with a longer table or unlimited retries.
MAX_DELAY = 300.0
#: Automatic retries before giving up until ``reconnect()`` or a new ``track`` (a configuration change).
MAX_RETRIES = 5


class HealthLevel(enum.StrEnum):
    EXCELLENT = "excellent"
    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"
    OFFLINE = "offline"
    #: The device refused our credentials: no automatic retry (devices lock accounts) until they change.
    AUTH_FAILED = "auth_failed"


#: Upper bounds (exclusive, milliseconds) of the online levels; anything slower is POOR.
LEVEL_THRESHOLDS_MS: tuple[tuple[float, HealthLevel], ...] = (
    (500.0, HealthLevel.EXCELLENT),
    (1500.0, HealthLevel.GOOD),
    (3000.0, HealthLevel.FAIR),
)


def level_for(response_time_ms: float) -> HealthLevel:
    """The level of a device that answered in ``response_time_ms``; OFFLINE comes from failures, not from here."""
    for bound, level in LEVEL_THRESHOLDS_MS:
        if response_time_ms < bound:
            return level
    return HealthLevel.POOR


class DeviceHealthChangedData(TypedDict):
    device_key: str
    device_id: str | None
    old_level: str | None
    new_level: str
    response_time_ms: float | None
    error: str | None


EVENT_DEVICE_HEALTH_CHANGED: EventType[DeviceHealthChangedData] = EventType("device_health_changed")


class DeviceHealth:
    """The health of one device connection. ``level`` is None (entities "unknown") until the first result.

    A polled device runs ``check`` every ``interval`` s; after a failure it retries on the monitor's back-off
    table and, once that is used up, waits for ``reconnect()`` or a new ``track``. A push device (no check)
    changes only when reported on, or goes offline after ``stale_after`` s of silence when that is set.
    A refused password (``report_auth_failed``, or a check raising ``ConfigEntryAuthFailed``) stops every
    automatic retry at once, until ``reconnect()``, a new ``track`` or a reported success.
    """

    def __init__(
        self,
        monitor: HealthMonitor,
        key: str,
        name: str,
        *,
        check: Check | None,
        interval: float,
        timeout: float,
        device_id: str | None,
        tenant_id: str | None,
        stale_after: float | None,
    ) -> None:
        self.monitor = monitor
        self.key = key
        self.name = name
        self.check = check
        self.interval = interval
        self.timeout = timeout
        self.device_id = device_id
        self.tenant_id = tenant_id
        self.stale_after = stale_after
        self.level: HealthLevel | None = None
        self.response_time_ms: float | None = None
        self.connected = False
        self.consecutive_failures = 0
        self.last_error: str | None = None
        self.last_check: float | None = None  # epoch seconds of the last result
        self.next_retry_at: float | None = None  # epoch seconds of the next back-off retry
        self.retries_stopped = False
        self.backoff = monitor.new_backoff()
        self._lock = asyncio.Lock()  # one check at a time, scheduled or manual
        self._active = False
        self._due: float | None = None  # loop time of the next check (or staleness deadline)
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[Any] | None = None
        self._since: float | None = None  # uptime counted up to here

    def __repr__(self) -> str:
        return f"<DeviceHealth {self.key} {self.level} failures={self.consecutive_failures}>"

    @property
    def active(self) -> bool:
        """True while the monitor is started and this device is tracked: only then are entities and events written."""
        return self._active

    @property
    def uptime_percent(self) -> float | None:
        """Online share of the last 30 days (0-100), up to now; None before the device was ever observed."""
        observed, online = self.monitor.uptime.totals(self.key)
        if self._since is not None and self.level is not None:
            current = max(0.0, self.monitor.clock() - self._since)
            observed += current
            online += current if self.connected else 0.0
        return None if observed <= 0 else min(100.0, 100.0 * online / observed)

    @property
    def entity_ids(self) -> tuple[str, str, str, str]:
        key = self.key
        return (f"sensor.{key}_health", f"binary_sensor.{key}_connected", f"sensor.{key}_response_time",
                f"sensor.{key}_uptime")  # fmt: skip

    # ------------------------------------------------------------------------------------------ results

    async def check_now(self) -> HealthLevel:
        """Run the check once (within ``timeout``), record the result, and return the new level."""
        if self.check is None:
            return self.level or HealthLevel.OFFLINE
        async with self._lock:
            error: str | None = None
            started = time.perf_counter()
            deadline = asyncio.timeout(self.timeout)
            try:
                async with deadline:
                    result = await self.check()
            except ConfigEntryAuthFailed as err:
                self.report_auth_failed(str(err) or "authentication failed")
                return HealthLevel.AUTH_FAILED
            except TimeoutError as err:
                error = f"timeout after {self.timeout:g} s" if deadline.expired() else _describe(err)
            except Exception as err:
                error = _describe(err)
            else:
                if result is False:
                    error = "check failed"
            if error is None:
                self.report_success((time.perf_counter() - started) * 1000.0)
            else:
                self.report_failure(error)
        return self.level or HealthLevel.OFFLINE

    def report_success(self, response_time_ms: float | None = None) -> None:
        """The device answered (or connected to us). Without a response time an online level is kept."""
        self.account()
        old = self.level
        if response_time_ms is not None:
            self.level = level_for(response_time_ms)
            self.response_time_ms = response_time_ms
        elif old is None or old is HealthLevel.OFFLINE or self.last_error is not None:
            self.level = HealthLevel.EXCELLENT  # back from offline, auth_failed or degraded
        self.connected = True
        self.consecutive_failures = 0
        self.last_error = None
        self.next_retry_at = None
        self.retries_stopped = False
        self.backoff.reset()
        self.last_check = self.monitor.clock()
        self._set_due(self.interval if self.check is not None else self.stale_after)
        self._changed(old)

    def report_failure(self, reason: str) -> None:
        """The device did not answer, or dropped its connection: offline, and retry on the back-off table."""
        self.account()
        old = self.level
        self.level = HealthLevel.OFFLINE
        self.connected = False
        self.response_time_ms = None
        self.consecutive_failures += 1
        self.last_error = reason
        self.last_check = self.monitor.clock()
        self.next_retry_at = None
        delay: float | None = None
        if self.check is not None:
            delay = self.backoff.failed()
            if delay is None and not self.retries_stopped:
                _LOGGER.warning("%s: no more automatic retries after %d failures", self.name, self.consecutive_failures)
            self.retries_stopped = delay is None
            if delay is not None:
                self.next_retry_at = self.last_check + delay
        self._set_due(delay)
        self._changed(old)

    def report_degraded(self, reason: str) -> None:
        """The device works, but something needs a person (a full disk): ``poor`` with the reason, no retry.
        The next ``report_success`` clears it."""
        self.account()
        old = self.level
        self.level = HealthLevel.POOR
        self.last_error = reason
        self._changed(old)

    def report_auth_failed(self, reason: str) -> None:
        """The device refused the credentials: ``auth_failed``, and no automatic retry nor polling at all.

        Devices lock an account after a few bad passwords, so only a person acts next: ``reconnect()`` (one
        attempt), a new ``track`` (the credentials changed), or a success the device reports by itself.
        """
        self.account()
        old = self.level
        self.level = HealthLevel.AUTH_FAILED
        self.connected = False
        self.response_time_ms = None
        self.consecutive_failures += 1
        self.last_error = reason
        self.last_check = self.monitor.clock()
        self.next_retry_at = None
        self.retries_stopped = True
        self._set_due(None)
        if old is not HealthLevel.AUTH_FAILED:
            _LOGGER.warning("%s refused the credentials, no automatic retry until they change: %s", self.name, reason)
        self._changed(old)

    async def reconnect(self) -> HealthLevel:
        """Manual retry: forget the failures, restart the back-off, and check at once."""
        self.backoff.reset()
        self.consecutive_failures = 0
        self.retries_stopped = False
        self.next_retry_at = None
        if self.check is None:
            self.publish()
        return await self.check_now()

    def _changed(self, old: HealthLevel | None) -> None:
        if not self._active:
            return
        self.publish()
        if self.level is not None and self.level != old:
            if self.level is HealthLevel.OFFLINE:
                _LOGGER.warning("%s is offline: %s", self.name, self.last_error)
            elif old in (HealthLevel.OFFLINE, HealthLevel.AUTH_FAILED):
                _LOGGER.info("%s is back online (%s)", self.name, self.level)
            data: DeviceHealthChangedData = {
                "device_key": self.key,
                "device_id": self.device_id,
                "old_level": None if old is None else old.value,
                "new_level": self.level.value,
                "response_time_ms": None if self.response_time_ms is None else round(self.response_time_ms, 1),
                "error": self.last_error,
            }
            self.monitor.hub.bus.fire(EVENT_DEVICE_HEALTH_CHANGED, data, tenant_id=self.tenant_id)

    # ----------------------------------------------------------------------------------------- entities

    def publish(self) -> None:
        """Write the four entities (unchanged ones fire nothing)."""
        states = self.monitor.hub.states
        health_id, connected_id, response_id, uptime_id = self.entity_ids
        tenant = self.tenant_id
        known = self.level is not None
        response = self.response_time_ms
        uptime = self.uptime_percent
        health_attributes = {
            "friendly_name": f"{self.name} health",
            "response_time_ms": None if response is None else round(response, 1),
            "consecutive_failures": self.consecutive_failures,
            "last_error": self.last_error,
            "next_retry_at": self.next_retry_at,
            "retries_stopped": self.retries_stopped,
        }
        states.set(health_id, self.level.value if self.level else "unknown", health_attributes, tenant_id=tenant)
        states.set(
            connected_id,
            ("on" if self.connected else "off") if known else "unknown",
            {"friendly_name": f"{self.name} connected", "device_class": "connectivity"},
            tenant_id=tenant,
        )
        states.set(
            response_id,
            "unknown" if response is None else f"{response:.1f}",
            {"friendly_name": f"{self.name} response time", "unit_of_measurement": "ms", "state_class": "measurement"},
            tenant_id=tenant,
        )
        states.set(
            uptime_id,
            "unknown" if uptime is None else f"{uptime:.1f}",
            {"friendly_name": f"{self.name} uptime", "unit_of_measurement": "%", "state_class": "measurement"},
            tenant_id=tenant,
        )

    # --------------------------------------------------------------------------- scheduling (monitor side)

    def activate(self) -> None:
        """Start the schedule: polled devices are checked at once; read back the stored uptime."""
        self._active = True
        self._since = self.monitor.clock()
        self.monitor.load_uptime()
        if self.level is HealthLevel.AUTH_FAILED:
            pass  # reported before the monitor started: still nobody retries
        elif self.check is not None:
            self._set_due(0.0)
        elif self.level is not HealthLevel.OFFLINE:
            self._set_due(self.stale_after)
        self.publish()

    def deactivate(self) -> None:
        """Stop the schedule and any running check; count the uptime so far and no more."""
        self._active = False
        self.account()
        self._since = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def wait_idle(self) -> None:
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def account(self) -> None:
        """Count the time since the last result as observed, and as online if the device was."""
        now = self.monitor.clock()
        since = self._since
        if since is not None and now > since and self.level is not None:
            self.monitor.uptime.add(self.key, since, now, self.connected)
        if self._active and (since is None or now > since):
            self._since = now

    def _set_due(self, delay: float | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if delay is None or not self._active:
            self._due = None
            return
        loop = self.monitor.hub.loop
        self._due = loop.time() + delay
        self._timer = loop.call_at(self._due, self._on_due)

    def _on_due(self) -> None:
        self._timer = None
        if not self._active:
            return
        if self.check is None:
            self.report_failure(f"no report for {self.stale_after:g} s")
        elif not self._lock.locked():  # a manual check is running and will reschedule
            self._task = self.monitor.hub.create_task(self.check_now(), f"health check {self.key}")


def _describe(err: BaseException) -> str:
    text = str(err)
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
