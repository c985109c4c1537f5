"""One Hikvision device as the hub follows it, whichever way it is reached (directly, or through a gateway).

``HikDevice`` owns what does not depend on the connection: what the device is (deviceInfo, channels, doors),
its entities, what each of its events does (a detection sensor, a ``hikvision_event``, a stored and
de-duplicated access record that fires one ``access`` event), the AcsEvent backfill, and door commands.
``direct.py`` and ``gateway.py`` feed it events and tell it when the device comes and goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from hub.access import EVENT_ACCESS
from hub.config_entries import ConfigEntry
from hub.device_registry import Device
from hub.entity import Entity
from hub.validation import slugify

from .access_log import AccessEntry, direction_of, make_entry
from .camera import HikvisionCamera, StreamKind
from .const import BACKFILL_MARGIN, DOMAIN, EVENT_HIKVISION, MANUFACTURER
from .detections import detection_for, parse_sensor_key, sensor_key
from .entities import DetectionSensor, DoorCommand, DoorLock, LastAccess
from .events import AccessRecord, HikEvent
from .isapi_client import DeviceInfo, IsapiClient, IsapiDeviceError, IsapiError
from .store import DeviceRecord

if TYPE_CHECKING:
    from .manager import HikvisionManager

_LOGGER = logging.getLogger(__name__)

#: Records stored per transaction during a backfill (a device answers 30 per page).
BACKFILL_BATCH = 120
_ACCESS_TYPES = ("acs", "access")


def health_key(serial: str) -> str:
    return slugify(f"hikvision_{serial}")


class HikDevice:
    """A device by serial number; ``client`` reaches it (directly, or as a gateway passthrough)."""

    def __init__(
        self,
        manager: HikvisionManager,
        record: DeviceRecord,
        client: IsapiClient,
        *,
        source: str,
        entry: ConfigEntry | None = None,
    ) -> None:
        self.manager = manager
        self.hub = manager.hub
        self.record = record
        self.client = client
        self.source = source
        self.entry = entry
        self.available = False
        self.sensors: dict[str, DetectionSensor] = {}
        self.locks: dict[int, DoorLock] = {}
        self.cameras: dict[int, HikvisionCamera] = {}
        self.last_access: LastAccess | None = None
        self.rtsp_port: int | None = None
        self.backfilled = 0
        self._latest_serial_no = -1  # the newest record the entities show
        self._entities_for: str | None = None  # the tenant the entities were made for
        self._entity_lock = asyncio.Lock()
        self._backfill_lock = asyncio.Lock()
        self._warned: set[str] = set()

    @property
    def serial(self) -> str:
        return self.record.serial

    @property
    def device(self) -> Device | None:
        """The registry's device (its tenant may change with a claim at any time)."""
        return self.hub.devices.get_by_serial(MANUFACTURER, self.serial)

    @property
    def tenant_id(self) -> str | None:
        device = self.device
        return device.tenant_id if device is not None else None

    @property
    def is_access(self) -> bool:
        """An access terminal or controller (doors, AcsEvent history)."""
        kind = (self.record.device_type or "").lower()
        return any(word in kind for word in _ACCESS_TYPES) or bool(self.record.doors)

    @property
    def name(self) -> str:
        device = self.device
        return device.name if device is not None else f"{MANUFACTURER} {self.serial}"

    # ------------------------------------------------------------------------------------------ identity

    def learn(self, info: DeviceInfo) -> None:
        """What deviceInfo said, kept in the record (saved by the caller)."""
        record = self.record
        record.model = info.model or record.model
        record.firmware = info.firmware_version or record.firmware
        record.mac_address = info.mac_address or record.mac_address
        record.device_type = info.device_type or record.device_type
        record.info = {
            "name": info.name,
            "device_id": info.device_id,
            "model": info.model,
            "serial_number": info.serial_number,
            "mac_address": info.mac_address,
            "firmware_version": info.firmware_version,
            "device_type": info.device_type,
        }
        record.last_seen = time.time()

    async def discover(self) -> None:
        """Channels, doors and the RTSP port: asked once per connection; a device without them answers errors."""
        record = self.record
        try:
            channels = await self.client.streaming_channels()
            record.channels = len({channel.id // 100 for channel in channels if channel.id % 100 == 1}) or None
        except IsapiDeviceError:
            record.channels = None
        except IsapiError as err:
            self._warn_once("channels", f"Hikvision {self.serial}: could not list its video channels: {err}")
        if record.channels:
            try:
                self.rtsp_port = await self.client.rtsp_port()
            except IsapiError:
                self.rtsp_port = 554
        if self.is_access or record.doors is None:
            try:
                record.doors = _door_count(await self.client.door_status()) or record.doors
            except IsapiDeviceError:
                pass  # no access control on this device
            except IsapiError as err:
                self._warn_once("doors", f"Hikvision {self.serial}: could not read its doors: {err}")

    async def connected(self, name: str | None = None) -> Device:
        """It answers: ACTIVE in the registry (held if nobody claimed it), entities available."""
        device = await self.hub.devices.connected(
            MANUFACTURER,
            self.serial,
            name=name or self.record.info.get("name") or None,
            model=self.record.model,
            sw_version=self.record.firmware,
            config_entry_id=self.entry.entry_id if self.entry is not None else None,
        )
        await self.manager.save_record(self.record)
        await self.ensure_entities()
        self.set_available(True)
        return device

    async def disconnected(self) -> None:
        self.set_available(False)
        device = self.device
        if device is not None:
            await self.hub.devices.disconnected(device.id)

    # ------------------------------------------------------------------------------------------ entities

    async def ensure_entities(self) -> None:
        """Entities exist for claimed devices only; a claim moves them to the tenant (the registry does that)."""
        async with self._entity_lock:
            device = self.device
            if device is None or device.tenant_id is None or self._entities_for is not None:
                return
            self._entities_for = device.tenant_id
            made: list[Entity] = []
            if self.is_access:
                self.last_access = LastAccess(device)
                made.append(self.last_access)
                for door in range(1, (self.record.doors or 1) + 1):
                    self.locks[door] = DoorLock(device, door)
                    made.append(self.locks[door])
            for channel in range(1, (self.record.channels or 0) + 1):
                self.cameras[channel] = HikvisionCamera(device, channel, self.stream_source, self.client.snapshot)
                made.append(self.cameras[channel])
            for registered in self.hub.entities.all(device_id=device.id):  # sensors seen in earlier runs
                if registered.platform == DOMAIN and registered.unique_id.startswith(f"{self.serial}_"):
                    parsed = parse_sensor_key(registered.unique_id[len(self.serial) + 1 :])
                    if parsed is not None:
                        made.append(self._sensor(device, *parsed))
            for entity in made:
                await self.hub.entities.add(entity, platform=DOMAIN, config_entry=self.entry, device=device)
                if isinstance(entity, HikvisionCamera):
                    entity.health = self.hub.health.get(health_key(self.serial))
            self._apply_availability()

    def _sensor(self, device: Device, detection: Any, channel: int | None) -> DetectionSensor:
        sensor = DetectionSensor(device, detection, channel, self.manager.event_timeout)
        self.sensors[sensor_key(detection, channel)] = sensor
        return sensor

    def entities(self) -> list[Entity]:
        listed: list[Entity] = [*self.locks.values(), *self.cameras.values(), *self.sensors.values()]
        if self.last_access is not None:
            listed.append(self.last_access)
        return listed

    async def remove_entities(self) -> None:
        for entity in self.entities():
            if entity.entity_id:
                await self.hub.entities.remove(entity.entity_id)
        self.sensors.clear()
        self.locks.clear()
        self.cameras.clear()
        self.last_access = None
        self._entities_for = None

    def set_available(self, available: bool) -> None:
        self.available = available
        self._apply_availability()

    def _apply_availability(self) -> None:
        for entity in self.entities():
            setter = getattr(entity, "set_available", None)
            if setter is not None:
                setter(self.available)

    async def stream_source(self, channel: int, stream: StreamKind) -> str | None:
        """The channel's RTSP URL (credentials in it: never log or return it)."""
        return await self.manager.stream_url(self, channel, stream)

    # -------------------------------------------------------------------------------------------- events

    async def handle_event(self, event: HikEvent, source: str | None = None) -> None:
        """One event from the stream, a push or the gateway: keep-alives do nothing, access records are stored
        (and announced once), detections move their sensor and fire ``hikvision_event``."""
        if event.keepalive:
            return
        if event.access is not None:
            await self.store_access([(event.access, event.raw)], source or self.source)
            return
        await self._detection(event, source or self.source)

    async def _detection(self, event: HikEvent, source: str) -> None:
        when = event.time.isoformat() if event.time is not None else None
        device = self.device
        tenant_id = device.tenant_id if device is not None else None
        self.hub.bus.fire(
            EVENT_HIKVISION,
            {
                "device_id": device.id if device is not None else None,
                "serial": self.serial,
                "event_type": event.event_type,
                "channel": event.channel,
                "active": event.active,
                "time": when or _now_iso(),
                "description": event.description,
                "post_count": _int(event.raw.get("activePostCount")),
                "source": source,
            },
            tenant_id=tenant_id,
        )
        detection = detection_for(event.event_type)
        if detection is None or device is None or tenant_id is None:
            return
        key = sensor_key(detection, event.channel)
        sensor = self.sensors.get(key)
        if sensor is None:
            async with self._entity_lock:
                sensor = self.sensors.get(key)
                if sensor is None:
                    sensor = self._sensor(device, detection, event.channel)
                    await self.hub.entities.add(sensor, platform=DOMAIN, config_entry=self.entry, device=device)
                    sensor.set_available(self.available)
        sensor.report(event.active, event.event_type, when)

    async def store_access(self, records: Iterable[tuple[AccessRecord, dict[str, Any] | None]], source: str) -> int:
        """Store access records; announce those that were new (in order). Returns how many were new.

        Records older than the hub's first sight of the device are stored without being announced: reading the
        history of a device added today must not replay last week's scans to today's automations.
        """
        device = self.device
        tenant_id = device.tenant_id if device is not None else None
        device_id = device.id if device is not None else None
        entries = [
            make_entry(self.serial, record, source=source, tenant_id=tenant_id, device_id=device_id, raw=raw)
            for record, raw in records
        ]
        try:
            new = await self.manager.access_log.write(entries)
        except Exception:  # logged by the access log; the next backfill brings these records back
            return 0
        known_since = int(self.record.first_seen)
        for entry in new:
            if entry.source != "backfill" or entry.timestamp is None or entry.timestamp >= known_since:
                self._announce(entry)
        return len(new)

    def _announce(self, entry: AccessEntry) -> None:
        """A new record on the bus: ``access`` for a person's scan, ``hikvision_event`` for the rest.

        Entities follow the newest record only: the stream and a backfill may deliver records out of order, and an
        older one must not move the lock or the last-access sensor back.
        """
        record = entry.record
        meaning = record.meaning
        newest = record.serial_no is None or record.serial_no > self._latest_serial_no
        if record.serial_no is not None and newest:
            self._latest_serial_no = record.serial_no
        hikvision_keys = {
            "serial": self.serial,
            "serial_no": record.serial_no,
            "card_no": record.card_no,
            "major": record.major,
            "minor": record.minor,
            "source": entry.source,
        }
        if meaning.kind in ("granted", "denied"):
            granted = meaning.kind == "granted"
            self.hub.bus.fire(
                EVENT_ACCESS,
                {
                    "device_id": entry.device_id,
                    "person": record.name,
                    "method": meaning.method or "unknown",
                    "granted": granted,
                    "direction": direction_of(record),
                    "time": entry.event_time,
                    "person_id": record.employee_no,
                    "door": record.door,
                    "reason": None if granted else meaning.text,
                    **hikvision_keys,
                },
                tenant_id=entry.tenant_id,
            )
            if self.last_access is not None and newest:
                self.last_access.update(
                    record.name or record.employee_no or record.card_no or "unknown",
                    {"granted": granted, "method": meaning.method, "door": record.door, "time": entry.event_time,
                     "employee_no": record.employee_no, "serial_no": record.serial_no,
                     "reason": None if granted else meaning.text},
                )  # fmt: skip
            lock = self.locks.get(record.door or 1)
            if granted and lock is not None and newest and entry.source != "backfill":
                lock.granted()  # a grant read back from the history is over: the door is not opening now
            return
        self.hub.bus.fire(
            EVENT_HIKVISION,
            {
                "device_id": entry.device_id,
                "event_type": "AccessControllerEvent",
                "kind": meaning.kind,
                "description": meaning.text,
                "door": record.door,
                "time": entry.event_time,
                **hikvision_keys,
            },
            tenant_id=entry.tenant_id,
        )
        lock = self.locks.get(record.door or 1)
        if meaning.kind == "door" and lock is not None and newest:
            lock.door_record(record.minor)

    # ----------------------------------------------------------------------------------------- backfill

    async def backfill(self) -> int:
        """Read the device's access history from where the stored one ends; returns the records that were new.

        The first time (nothing stored yet) it reads the last ``backfill_hours``; what happened before the hub
        first saw the device is stored, not announced (``store_access``).
        """
        if not self.is_access:
            return 0
        async with self._backfill_lock:
            cursor = await self.manager.store.cursor(self.serial)
            now = time.time()
            if cursor.timestamp is None:
                start = now - self.manager.backfill_hours * 3600.0
            else:
                start = min(cursor.timestamp - BACKFILL_MARGIN, now - BACKFILL_MARGIN)
            new = 0
            batch: list[tuple[AccessRecord, dict[str, Any] | None]] = []
            try:
                async for record in self.client.acs_events(
                    datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(now + 86400.0, UTC)
                ):
                    batch.append((record, None))
                    if len(batch) >= BACKFILL_BATCH:
                        new += await self.store_access(sorted(batch, key=_by_serial_no), "backfill")
                        batch = []
            except IsapiDeviceError as err:
                self._warn_once("backfill", f"Hikvision {self.serial}: no access history to read back: {err}")
            finally:
                if batch:
                    new += await self.store_access(sorted(batch, key=_by_serial_no), "backfill")
            self.backfilled += new
            if new:
                _LOGGER.info("Hikvision %s: %d access record(s) read back from its history", self.serial, new)
            return new

    # --------------------------------------------------------------------------------------------- doors

    async def door(self, door: int, command: DoorCommand) -> None:
        """Send a door command; the lock entity follows once the device accepted it."""
        await self.client.door_control(door, command)
        lock = self.locks.get(door)
        if lock is not None:
            lock.commanded(command)

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            _LOGGER.warning("%s", message)


def closing_stream(events: AsyncIterator[HikEvent]) -> contextlib.aclosing[AsyncGenerator[HikEvent, None]]:
    """``async with closing_stream(client.alert_stream()) as events``: the connection drops as soon as the caller
    leaves the loop (the client's streams are async generators, typed as iterators)."""
    return contextlib.aclosing(cast(AsyncGenerator[HikEvent, None], events))


def _by_serial_no(item: tuple[AccessRecord, Any]) -> int:
    return item[0].serial_no if item[0].serial_no is not None else -1


def _door_count(status: dict[str, Any]) -> int | None:
    """Doors in an AcsWorkStatus answer: the length of its per-door lists."""
    body = status.get("AcsWorkStatus", status) if isinstance(status, dict) else {}
    for key in ("doorLockStatus", "doorStatus", "magneticStatus"):
        value = body.get(key) if isinstance(body, dict) else None
        if isinstance(value, list) and value:
            return len(value)
    return None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
