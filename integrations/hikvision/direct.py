"""A directly reachable ISAPI device (one config entry): connect, follow its events, come back after a loss.

The device's health check is a ``deviceInfo`` request: the health monitor runs it every ``poll_interval`` s
and, after a failure, on the core's back-off table (then waits for a person), so the device page, the health
page and the reconnect button tell the same story as the connection. A refused password is ``auth_failed``:
nothing retries it until the credentials change (the entry reloads) or somebody presses reconnect.

Events arrive one of three ways (``event_mode``): ``stream`` follows ``alertStream`` (a stream that breaks
while the device still answers is reopened after a short, growing delay), ``push`` has the device POST them to
``/api/hikvision/push/<token>``, ``none`` takes none. After every (re)connection the access history is read
back from the last stored record (AcsEvent), so nothing that happened while the hub could not hear is missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from hub.backoff import Backoff
from hub.config_entries import ConfigEntry
from hub.device_health import DeviceHealth
from hub.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady, HubError

from .config import device_base_url
from .const import (
    CONF_EVENT_MODE,
    CONF_HOST,
    CONF_NAME,
    CONF_PASSWORD,
    CONF_POLL_INTERVAL,
    CONF_USERNAME,
    CONF_VERIFY_SSL,
    DOMAIN,
    EVENT_MODE_PUSH,
    EVENT_MODE_STREAM,
    MANUFACTURER,
    STREAM_HEALTHY_AFTER,
    STREAM_RESTART_DELAYS,
)
from .device import HikDevice, closing_stream, health_key
from .isapi_client import DeviceInfo, IsapiAuthError, IsapiClient, IsapiError

if TYPE_CHECKING:
    from .manager import HikvisionManager

_LOGGER = logging.getLogger(__name__)

#: The backfill after a (re)connection waits for the stream's first part, or this long at most, so an event
#: written between the backfill's last page and the stream's start cannot fall between the two.
BACKFILL_AFTER = 1.0


class DeviceConflict(HubError):
    """The device answering at this address is claimed by another tenant, or followed another way already."""


class DirectDevice:
    """The runtime of one config entry (``entry.runtime_data``)."""

    def __init__(self, manager: HikvisionManager, entry: ConfigEntry) -> None:
        self.manager = manager
        self.hub = manager.hub
        self.entry = entry
        data = entry.data
        self.host = str(data[CONF_HOST])
        self.mode = str(data.get(CONF_EVENT_MODE, EVENT_MODE_STREAM))
        self.client = IsapiClient(
            manager.session(bool(data.get(CONF_VERIFY_SSL, True))),
            device_base_url(data),
            str(data[CONF_USERNAME]),
            str(data[CONF_PASSWORD]),
        )
        self.device: HikDevice | None = None
        self.health: DeviceHealth | None = None
        self.push_token: str | None = None
        self.connected_at: float | None = None
        self.streams_opened = 0
        self._online = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._backfill: asyncio.Task[int] | None = None
        self._said: str | None = None  # the last stream problem logged (each new one is logged once)
        self._stopped = False

    @property
    def online(self) -> bool:
        return self._online.is_set()

    @property
    def backfilling(self) -> bool:
        """A backfill is running (or about to start, once the stream is open)."""
        return self._backfill is None or not self._backfill.done()

    @property
    def serial(self) -> str | None:
        return self.device.serial if self.device is not None else None

    # ------------------------------------------------------------------------------------------ life cycle

    async def start(self) -> None:
        """Reach the device once. Never reached before: not ready (the core retries) or auth failed (it does not).
        Known from an earlier run: start anyway, offline or ``auth_failed``, and let its health take over."""
        serial = self.manager.serial_for_entry(self.entry.entry_id)
        info: DeviceInfo | None = None
        failure: IsapiError | None = None
        started = time.perf_counter()
        try:
            info = await self.client.device_info()
        except IsapiError as err:
            if serial is None:
                if isinstance(err, IsapiAuthError):
                    raise ConfigEntryAuthFailed(f"{self.host} refused user {self.client.username}: {err}") from None
                raise ConfigEntryNotReady(f"{self.host} does not answer: {err}") from None
            failure = err
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        if info is not None:
            serial = info.serial_number
        assert serial is not None
        await self._take(serial, info.name if info is not None else None)
        assert self.device is not None
        if self.mode == EVENT_MODE_PUSH:
            self.push_token = await self.manager.push_token(self.entry.entry_id)
        device = self.device.device
        self.health = self.hub.health.track(
            health_key(serial),
            self.entry.title,
            check=self._probe,
            interval=float(self.entry.data.get(CONF_POLL_INTERVAL, 60.0)),
            device_id=device.id if device is not None else None,
            tenant_id=self.entry.tenant_id,
        )
        # Say at once (before any await) what set-up just learned, so the monitor does not ask the device again
        # right away, nor, after a refused password, at all.
        if info is not None:
            self.health.report_success(elapsed_ms)
        elif isinstance(failure, IsapiAuthError):
            self.health.report_auth_failed(f"authentication failed: {failure}")
        else:
            self.health.report_failure(str(failure))
        if info is not None:
            try:
                await self._connected(info)
            except IsapiError as err:  # it answered deviceInfo, then not the rest: offline, retried on the table
                self.health.report_failure(str(err))
        for camera in self.device.cameras.values():
            camera.health = self.health
        self._task = self.hub.create_background_task(self._run(), f"hikvision {serial}")

    async def _take(self, serial: str, device_name: str | None) -> None:
        """This entry follows the device with ``serial``, for the entry's tenant (a claim, if nobody has one)."""
        tenant_id = self.entry.tenant_id
        existing = self.hub.devices.get_by_serial(MANUFACTURER, serial)
        if existing is not None and existing.tenant_id not in (None, tenant_id):
            raise DeviceConflict(f"the device at {self.host} (serial {serial}) is claimed by another tenant")
        followed = self.manager.devices.get(serial)
        if followed is not None and followed.entry is not self.entry:
            raise DeviceConflict(f"the device at {self.host} (serial {serial}) is followed by "
                                 f"{self.manager.followed(serial)} already")  # fmt: skip
        if tenant_id is not None and (existing is None or existing.tenant_id is None):
            name = self.entry.data.get(CONF_NAME) or device_name
            await self.hub.devices.claim(tenant_id, MANUFACTURER, serial, name)
        record = self.manager.record(serial)
        record.entry_id = self.entry.entry_id
        record.gateway = record.dev_index = None
        self.device = HikDevice(self.manager, record, self.client, source=self.mode, entry=self.entry)
        self.manager.devices[serial] = self.device
        self.manager.entries[self.entry.entry_id] = self

    async def stop(self) -> None:
        """Unload: stop following the device (the hub stopping, the entry removed or reloaded)."""
        if self._stopped:
            return
        self._stopped = True
        for task in (self._task, self._backfill):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.health is not None and self.hub.health.get(self.health.key) is self.health:
            self.hub.health.untrack(self.health.key)
        if self.device is not None:
            if self.manager.devices.get(self.device.serial) is self.device:
                del self.manager.devices[self.device.serial]
            if self._online.is_set():
                self._online.clear()
                await self.device.disconnected()  # nobody follows it now: OFFLINE until it is followed again
            if not self.manager.stopped:
                await self.device.remove_entities()
        if self.manager.entries.get(self.entry.entry_id) is self:
            del self.manager.entries[self.entry.entry_id]

    # ------------------------------------------------------------------------------------ health and state

    async def _probe(self) -> None:
        """The health check: deviceInfo. A loss marks everything unavailable; a return reconnects."""
        try:
            info = await self.client.device_info()
        except IsapiAuthError as err:
            await self._lost()
            raise ConfigEntryAuthFailed(f"authentication failed: {err}") from None
        except Exception:
            await self._lost()
            raise
        if self.device is not None and info.serial_number != self.device.serial:
            await self._lost()
            raise ConfigEntryNotReady(f"another device answers at {self.host} (serial {info.serial_number})")
        if not self._online.is_set():
            await self._connected(info)

    async def _connected(self, info: DeviceInfo) -> None:
        device = self.device
        assert device is not None
        device.learn(info)
        await device.discover()
        if self.mode == EVENT_MODE_PUSH:
            await self._point_push_here()  # before ACTIVE: a device that will not push is not connected
        await device.connected(name=self.entry.data.get(CONF_NAME))
        self.connected_at = time.time()
        self._online.set()
        if self.mode != EVENT_MODE_STREAM:  # the stream backfills once it is open
            self._start_backfill()

    async def _lost(self) -> None:
        if not self._online.is_set():
            return
        self._online.clear()
        self.connected_at = None
        if self.device is not None:
            await self.device.disconnected()

    async def _point_push_here(self) -> None:
        assert self.push_token is not None
        host, port, prefix = self.manager.push_base(self.host)
        await self.client.set_http_host(f"{prefix}/api/{DOMAIN}/push/{self.push_token}", host, port, "JSON")

    def _start_backfill(self) -> None:
        if self.device is None or (self._backfill is not None and not self._backfill.done()):
            return
        self._backfill = self.hub.create_background_task(self._run_backfill(), f"hikvision backfill {self.serial}")

    async def _run_backfill(self) -> int:
        assert self.device is not None
        try:
            return await self.device.backfill()
        except IsapiError as err:
            _LOGGER.warning("Hikvision %s: reading back its access history failed: %s", self.serial, err)
            return 0

    # ------------------------------------------------------------------------------------------ event loop

    async def _run(self) -> None:
        if self.mode != EVENT_MODE_STREAM:
            return  # push: events come to the push route; none: nothing to follow
        restart = Backoff(STREAM_RESTART_DELAYS)
        loop = asyncio.get_running_loop()
        while not self._stopped:
            await self._online.wait()
            opened = loop.time()
            try:
                await self._follow_stream()
                reason = "the alert stream stopped"
            except IsapiAuthError as err:
                await self._lost()
                if self.health is not None:
                    self.health.report_auth_failed(f"authentication failed: {err}")
                continue
            except IsapiError as err:
                reason = str(err)
            except Exception as err:  # a bug must not end the device's loop: logged, and the stream reopens
                _LOGGER.exception("Hikvision %s: unexpected error while following the alert stream", self.serial)
                reason = f"{type(err).__name__}: {err}"
            if reason != self._said:
                self._said = reason
                _LOGGER.warning("Hikvision %s: %s; reconnecting", self.serial, reason)
            if loop.time() - opened >= STREAM_HEALTHY_AFTER:
                restart.reset()
            await asyncio.sleep(restart.failed() or STREAM_RESTART_DELAYS[-1])
            if self._online.is_set() and self.health is not None:
                await self.health.check_now()  # still there? a failure hands over to the back-off table

    async def _follow_stream(self) -> None:
        """Follow one alert stream until it breaks (or the device is lost), backfilling once it is open."""
        assert self.device is not None
        device = self.device
        pending = [True]

        def backfill_once() -> None:
            if pending:
                pending.clear()
                self._start_backfill()

        timer = asyncio.get_running_loop().call_later(BACKFILL_AFTER, backfill_once)
        self.streams_opened += 1
        try:
            async with closing_stream(self.client.alert_stream()) as events:  # closed at once when we leave
                async for event in events:
                    if pending:
                        timer.cancel()
                        backfill_once()
                    if self._said is not None:
                        self._said = None
                        _LOGGER.info("Hikvision %s: alert stream back", self.serial)
                    if not self._online.is_set():
                        return  # the health check lost the device: wait for it to come back
                    await device.handle_event(event, EVENT_MODE_STREAM)
        finally:
            timer.cancel()

    # ---------------------------------------------------------------------------------------------- push

    async def reconnect(self) -> None:
        """One attempt now (the health page's button does the same through the health monitor)."""
        if self.health is not None:
            await self.health.reconnect()

    @property
    def accepts_push(self) -> bool:
        return self.mode == EVENT_MODE_PUSH and not self._stopped

    @property
    def summary(self) -> dict[str, object]:
        return {
            "entry_id": self.entry.entry_id,
            "mode": self.mode,
            "host": self.host,
            "online": self.online,
            "connected_at": self.connected_at,
            "streams_opened": self.streams_opened,
        }
