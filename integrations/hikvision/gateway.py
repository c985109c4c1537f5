"""A Hik Device Gateway (``hikvision: gateways:``): the ISUP 5.0 devices registered to it, followed through it.

Three things keep the hub's picture of the gateway's devices current:

- the device list, synced every ``sync_interval`` s: it is the gateway's health check, so a gateway that stops
  answering goes offline on the core's back-off table, and a refused password is ``auth_failed`` (no retry);
- the ``subscribeDeviceMgmt`` stream: every device's events tagged with its ``devIndex``, re-subscribed with
  back-off when it breaks or goes 30 s without a heartbeat;
- the signed webhook (``POST /api/hikvision/webhook/<gateway>``): a device status change (or "sync now") from
  the gateway side, applied at once.

A device is identified by serial number (what a tenant claims): the gateway's own field when it has one, else
``deviceInfo`` through the passthrough (remembered), else its EhomeID (set to the serial on site, as the seed
describes). Online, it is ACTIVE for the tenant that claimed it (held, with no tenant, otherwise); offline or gone
from the list, OFFLINE. Commands, backfill and snapshots go through the passthrough (``devIndex``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from hub.backoff import Backoff
from hub.device_health import DeviceHealth
from hub.device_registry import Device
from hub.exceptions import ConfigEntryAuthFailed
from hub.validation import slugify

from .camera import StreamKind
from .const import (
    CONF_NAME,
    CONF_PASSWORD,
    CONF_SYNC_INTERVAL,
    CONF_URL,
    CONF_USERNAME,
    CONF_VERIFY_SSL,
    CONF_WEBHOOK_SECRET,
    MANUFACTURER,
    WEBHOOK_MAX_AGE,
)
from .device import HikDevice, closing_stream, health_key
from .events import HikEvent
from .gateway_client import GatewayClient
from .isapi_client import IsapiAuthError, IsapiError
from .listing import ListedDevice, WebhookError, listed, webhook_devices
from .webhook_signature import SignatureError, verify

if TYPE_CHECKING:
    from .manager import HikvisionManager

_LOGGER = logging.getLogger(__name__)

SUBSCRIBE_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
SUBSCRIBE_HEALTHY_AFTER = 60.0
#: An event for a devIndex the hub does not know triggers a sync, at most this often.
UNKNOWN_SYNC_EVERY = 10.0
#: deviceInfo through the passthrough, to learn a device's serial, waits at most this long.
IDENTIFY_TIMEOUT = 10.0


class Gateway:
    """One configured gateway and the devices behind it."""

    def __init__(self, manager: HikvisionManager, config: Mapping[str, Any]) -> None:
        self.manager = manager
        self.hub = manager.hub
        self.name = str(config[CONF_NAME])
        self.url = str(config[CONF_URL])
        self.sync_interval = float(config[CONF_SYNC_INTERVAL])
        self.webhook_secret: str | None = config.get(CONF_WEBHOOK_SECRET)
        self.username = str(config[CONF_USERNAME])
        self._password = str(config[CONF_PASSWORD])
        self.client = GatewayClient(
            manager.session(bool(config.get(CONF_VERIFY_SSL, True))),
            self.url,
            self.username,
            self._password,
        )
        self.key = slugify(f"hikvision_gateway_{self.name}")
        self.health: DeviceHealth | None = None
        self.listed: dict[str, ListedDevice] = {}
        self.followed: dict[str, HikDevice] = {}  # devIndex -> device
        self.device_health: dict[str, DeviceHealth] = {}  # serial -> its health (push style: the sync reports)
        self.last_sync: float | None = None
        self.syncs = 0
        self.subscribed = False
        self.webhooks_accepted = 0
        self._reachable = asyncio.Event()
        self._sync_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._unknown_sync_at = 0.0
        self._unidentified: set[str] = set()
        self._said: str | None = None
        self._stopped = False

    # ------------------------------------------------------------------------------------------ life cycle

    async def start(self) -> None:
        """Track the gateway (its check, the sync, runs at once) and subscribe to its events."""
        self.health = self.hub.health.track(
            self.key,
            f"Hik Device Gateway {self.name}",
            check=self.sync,
            interval=self.sync_interval,
            timeout=max(10.0, min(120.0, self.sync_interval * 2)),
        )
        self._task = self.hub.create_background_task(self._follow(), f"hikvision gateway {self.name}")

    async def stop(self) -> None:
        self._stopped = True
        tasks = [task for task in (self._task, *self._background) if task is not None and not task.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.health is not None and self.hub.health.get(self.key) is self.health:
            self.hub.health.untrack(self.key)
        for serial, health in self.device_health.items():
            if self.hub.health.get(health.key) is health:
                self.hub.health.untrack(health.key)
            device = self.manager.devices.get(serial)
            if device is not None and device.record.gateway == self.name and device.entry is None:
                del self.manager.devices[serial]
                if not self.manager.stopped:
                    await device.remove_entities()

    def _spawn(self, coroutine: Any, name: str) -> None:
        task = self.hub.create_background_task(coroutine, name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ------------------------------------------------------------------------------------------------ sync

    async def sync(self) -> int:
        """The device list, applied: the gateway's health check. Returns how many devices it lists."""
        async with self._sync_lock:
            try:
                answer = await self.client.device_list()
            except IsapiAuthError as err:
                self._reachable.clear()
                raise ConfigEntryAuthFailed(f"the gateway refused user {self.username}: {err}") from None
            except Exception:
                self._reachable.clear()
                raise
            devices = [listed(item) for item in answer]
            await self._apply(devices, complete=True)
            self.last_sync = time.time()
            self.syncs += 1
            self._reachable.set()
            return len(devices)

    async def sync_now(self) -> int:
        """A sync outside the schedule (a service, a webhook); its result is the gateway's health like any."""
        if self.health is not None:
            await self.health.check_now()
        return len(self.listed)

    async def _apply(self, devices: Iterable[ListedDevice], *, complete: bool) -> None:
        seen: set[str] = set()
        for item in devices:
            seen.add(item.dev_index)
            known = self.listed.get(item.dev_index)
            if known is not None:  # a webhook or a list without these keeps what an earlier list said
                item.serial = item.serial or known.serial
                item.ehome_id = item.ehome_id or known.ehome_id
                item.name = item.name or known.name
                item.model = item.model or known.model
                item.dev_type = item.dev_type or known.dev_type
            self.listed[item.dev_index] = item
            serial = await self._identify(item)
            if serial is None:
                continue
            item.serial = serial
            if item.online:
                await self._online(item, serial)
            else:
                await self._offline(item.dev_index, "offline on the gateway", serial)
        if complete:
            for dev_index in [index for index in self.listed if index not in seen]:
                del self.listed[dev_index]
                await self._offline(dev_index, "removed from the gateway")

    async def _identify(self, item: ListedDevice) -> str | None:
        """The device's serial: the gateway's field, remembered, asked through the passthrough, or its EhomeID."""
        if item.serial:
            return item.serial
        for record in self.manager.records.values():
            if record.gateway == self.name and record.dev_index == item.dev_index:
                return record.serial
        if item.online:
            try:
                async with asyncio.timeout(IDENTIFY_TIMEOUT):
                    info = await self.client.device(item.dev_index).device_info()
                return info.serial_number
            except (IsapiError, TimeoutError) as err:
                if item.dev_index not in self._unidentified:
                    _LOGGER.info("Gateway %s: deviceInfo of %s failed (%s); using its EhomeID", self.name,
                                 item.dev_index, err)  # fmt: skip
        if item.ehome_id:
            return item.ehome_id
        if item.dev_index not in self._unidentified:
            self._unidentified.add(item.dev_index)
            _LOGGER.warning("Gateway %s: device %s has no serial nor EhomeID yet; skipped", self.name, item.dev_index)
        return None

    async def _online(self, item: ListedDevice, serial: str) -> None:
        existing = self.manager.devices.get(serial)
        if existing is not None and existing.record.gateway != self.name:
            if item.dev_index not in self._unidentified:
                self._unidentified.add(item.dev_index)
                _LOGGER.warning("Gateway %s: device %s is followed by %s already; its gateway copy is ignored",
                                self.name, serial, self.manager.followed(serial))  # fmt: skip
            return
        device = self.followed.get(item.dev_index)
        came_back = device is None or not device.available
        if device is None or device.serial != serial:
            record = self.manager.record(serial)
            record.gateway, record.dev_index, record.entry_id = self.name, item.dev_index, None
            record.ehome_id = item.ehome_id or record.ehome_id
            record.model = item.model or record.model
            record.device_type = record.device_type or item.dev_type
            device = HikDevice(self.manager, record, self.client.device(item.dev_index), source="gateway")
            self.followed[item.dev_index] = device
            self.manager.devices[serial] = device
        registered = await self.hub.devices.connected(MANUFACTURER, serial, name=item.name, model=item.model)
        self._health_of(device, registered).report_success()
        if came_back:
            device.available = True
            self._spawn(self._bring_up(device, item), f"hikvision gateway device {serial}")

    async def _bring_up(self, device: HikDevice, item: ListedDevice) -> None:
        """What a device that appeared or came back needs, off the sync's path: what it is, its entities, and
        its access history since the last stored record."""
        try:
            device.learn(await device.client.device_info())  # model, firmware, MAC: the list has only the model
            await device.discover()
            await device.connected(name=item.name)
            await device.backfill()
        except IsapiError as err:
            _LOGGER.warning("Gateway %s: device %s answered only in part: %s", self.name, device.serial, err)

    async def _offline(self, dev_index: str, reason: str, serial: str | None = None) -> None:
        """Not online on the gateway (or gone from it): OFFLINE, its entities unavailable, its health offline."""
        device = self.followed.get(dev_index)
        serial = device.serial if device is not None else serial
        if device is not None:
            device.set_available(False)
        registered = self.hub.devices.get_by_serial(MANUFACTURER, serial) if serial else None
        if registered is not None:
            await self.hub.devices.disconnected(registered.id)
        health = self.device_health.get(serial or "")
        if health is not None and (health.level is None or health.connected):
            health.report_failure(reason)

    def _health_of(self, device: HikDevice, registered: Device) -> DeviceHealth:
        """A gateway device's health: reported by each sync (the gateway polls the device, not the hub)."""
        health = self.device_health.get(device.serial)
        if health is None or health.tenant_id != registered.tenant_id or health.device_id != registered.id:
            health = self.hub.health.track(
                health_key(device.serial), registered.name, device_id=registered.id, tenant_id=registered.tenant_id
            )
            self.device_health[device.serial] = health
            for camera in device.cameras.values():
                camera.health = health
        return health

    def device_updated(self, registered: Device) -> None:
        """A claim or release: the device's health follows it to its tenant."""
        health = self.device_health.get(registered.serial_number)
        device = self.manager.devices.get(registered.serial_number)
        if health is None or device is None or device.record.gateway != self.name:
            return
        if health.tenant_id != registered.tenant_id:
            connected, level = health.connected, health.level
            fresh = self._health_of(device, registered)
            if connected:
                fresh.report_success()
            elif level is not None:
                fresh.report_failure(health.last_error or "offline on the gateway")

    # ------------------------------------------------------------------------------------------ the stream

    async def _follow(self) -> None:
        """subscribeDeviceMgmt for as long as the gateway runs; each break re-subscribes after a growing delay."""
        backoff = Backoff(SUBSCRIBE_DELAYS)
        loop = asyncio.get_running_loop()
        while not self._stopped:
            await self._reachable.wait()
            opened = loop.time()
            try:
                async with closing_stream(self.client.subscribe()) as events:
                    async for event in events:
                        if not self.subscribed:
                            self.subscribed = True
                            if self._said is not None:
                                _LOGGER.info("Gateway %s: event subscription back", self.name)
                                self._said = None
                        if not event.keepalive:
                            await self._dispatch(event)
                reason = "the event subscription ended"
            except IsapiAuthError as err:
                self.subscribed = False
                self._reachable.clear()
                if self.health is not None:
                    self.health.report_auth_failed(f"authentication failed: {err}")
                continue
            except IsapiError as err:
                reason = str(err)
            except Exception as err:  # a bug must not end the subscription for good
                _LOGGER.exception("Gateway %s: unexpected error in the event subscription", self.name)
                reason = f"{type(err).__name__}: {err}"
            self.subscribed = False
            if reason != self._said:
                self._said = reason
                _LOGGER.warning("Gateway %s: %s; subscribing again", self.name, reason)
            if loop.time() - opened >= SUBSCRIBE_HEALTHY_AFTER:
                backoff.reset()
            await asyncio.sleep(backoff.failed() or SUBSCRIBE_DELAYS[-1])

    async def _dispatch(self, event: HikEvent) -> None:
        device = self.followed.get(event.dev_index or "")
        if device is None:
            now = time.monotonic()
            if now - self._unknown_sync_at >= UNKNOWN_SYNC_EVERY:  # a device that registered since the last sync
                self._unknown_sync_at = now
                self._spawn(self.sync_now(), f"hikvision gateway {self.name} sync")
            return
        await device.handle_event(event, "gateway")

    # ----------------------------------------------------------------------------------------- commands

    async def add_device(self, ehome_id: str, key: str, name: str, dev_type: str) -> str:
        """Register an ISUP device with the gateway (its EhomeID and key); a sync follows at once."""
        dev_index = str(await self.client.add_device(ehome_id, key, name, dev_type))
        self._spawn(self.sync_now(), f"hikvision gateway {self.name} sync")
        return dev_index

    async def stream_url(self, dev_index: str, channel: int, stream: StreamKind) -> str | None:
        """The gateway's RTSP URL of a device's channel (the gateway serves the media of ISUP devices), with the
        gateway account in it, as the camera machinery opens it (never log or return it)."""
        url = await self.client.stream_url(dev_index, channel, stream)
        parts = urlsplit(url)
        if parts.username is not None or not parts.hostname:
            return url
        credentials = f"{quote(self.username, safe='')}:{quote(self._password, safe='')}"
        return urlunsplit(parts._replace(netloc=f"{credentials}@{parts.netloc}"))

    # ------------------------------------------------------------------------------------------ webhook

    async def receive_webhook(self, body: bytes, timestamp: str | None, signature: str | None) -> dict[str, Any]:
        """A signed request from the gateway side; raises SignatureError (refused) or WebhookError (bad body)."""
        if not self.webhook_secret:
            raise SignatureError("this gateway has no webhook_secret configured")
        # A captured request stays usable for WEBHOOK_MAX_AGE at most. Identical requests inside that window are
        # accepted: the gateway side may legitimately say "online" twice in one second (online, offline, online),
        # and a status report restated is harmless (the next sync corrects anything stale).
        verify(self.webhook_secret, timestamp, signature, body, now=time.time(), max_age=WEBHOOK_MAX_AGE)
        try:
            payload = json.loads(body)
        except ValueError as err:
            raise WebhookError(f"the body is not JSON: {err}") from None
        if not isinstance(payload, dict):
            raise WebhookError("the body must be a JSON object")
        devices = webhook_devices(payload)
        self.webhooks_accepted += 1
        if devices:
            async with self._sync_lock:  # one writer of the device list at a time (a sync may be running)
                await self._apply(devices, complete=False)
            return {"gateway": self.name, "devices": len(devices), "synced": False}
        count = await self.sync_now()
        return {"gateway": self.name, "devices": count, "synced": True}

    # --------------------------------------------------------------------------------------------- views

    def status(self, serials: set[str] | None = None) -> dict[str, Any]:
        """For the API and the pages; ``serials`` limits the devices shown (a tenant sees only its own)."""
        listed = [item for item in self.listed.values() if serials is None or item.serial in serials]
        health = self.health
        return {
            "name": self.name,
            "url": self.url,
            "level": None if health is None or health.level is None else str(health.level),
            "connected": bool(health and health.connected),
            "last_error": health.last_error if health is not None else None,
            "last_sync": self.last_sync,
            "sync_interval": self.sync_interval,
            "subscribed": self.subscribed,
            "webhook": bool(self.webhook_secret),
            "devices": len(listed),
            "online": sum(1 for item in listed if item.online),
            "listed": [item.as_dict() for item in sorted(listed, key=lambda item: (item.name or "", item.dev_index))],
        }
