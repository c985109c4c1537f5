"""The entities of a claimed Hikvision device: detection sensors, door locks and the last access.

Unique ids come from the serial number (``<serial>_motion_1``, ``<serial>_door_1``, ``<serial>_last_access``),
so the same device always maps to the same entity ids, whichever way it reaches the hub (direct or gateway).
Camera entities are in ``camera.py``.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar, Literal

from hub.device_registry import Device
from hub.entity import STATE_OFF, STATE_ON, Entity

from .const import UNLOCKED_FOR
from .detections import Detection, sensor_key

STATE_LOCKED = "locked"
STATE_UNLOCKED = "unlocked"

DoorCommand = Literal["open", "close", "alwaysOpen", "alwaysClose"]
DOOR_COMMANDS: tuple[DoorCommand, ...] = ("open", "close", "alwaysOpen", "alwaysClose")
#: Access-controller door records (major 5) and what they mean for the lock and its contact.
_LOCK_OPENED, _LOCK_CLOSED, _DOOR_OPENED, _DOOR_CLOSED, _FORCED, _HELD_OPEN = 21, 22, 25, 26, 27, 28


class HikvisionEntity(Entity):
    """Named after the device (``<device name> motion 1``), unique by serial."""

    def __init__(self, device: Device, key: str, label: str) -> None:
        self.serial = device.serial_number
        self.key = key
        self._attr_unique_id = f"{device.serial_number}_{key}"
        self._attr_name = f"{device.name} {label}"

    def set_available(self, available: bool) -> None:
        if available != self._attr_available:
            self._attr_available = available
            if self.entity_id:
                self.write_state()


class DetectionSensor(HikvisionEntity):
    """On while the camera reports the detection; off when it says inactive, or when it stops repeating it.

    Cameras repeat an active event about every second while it lasts and many never send the inactive one,
    so the sensor turns off ``timeout`` seconds after the last active report.
    """

    domain: ClassVar[str] = "binary_sensor"

    def __init__(self, device: Device, detection: Detection, channel: int | None, timeout: float) -> None:
        label = detection.label if not detection.per_channel else f"{detection.label} {channel or 1}"
        super().__init__(device, sensor_key(detection, channel), label)
        self.detection = detection
        self.channel = channel
        self.timeout = timeout
        self._attr_state = STATE_OFF
        self._attr_device_class = detection.device_class
        self._attr_extra_attributes = {"channel": channel, "event_type": None, "last_detected": None}
        self._off_timer: asyncio.TimerHandle | None = None  # a loop timer, not a task: a thousand a second is cheap

    def report(self, active: bool, event_type: str, when: str | None) -> None:
        self._stop_timer()
        state = STATE_ON if active else STATE_OFF
        attributes = dict(self._attr_extra_attributes or {})
        attributes["event_type"] = event_type
        if active:
            attributes["last_detected"] = when
            self._off_timer = asyncio.get_running_loop().call_later(self.timeout, self._expire)
        if state != self._attr_state or attributes != self._attr_extra_attributes:
            self._attr_state = state
            self._attr_extra_attributes = attributes
            self.write_state()

    def _expire(self) -> None:
        self._off_timer = None
        if self._attr_state != STATE_OFF:
            self._attr_state = STATE_OFF
            self.write_state()

    def _stop_timer(self) -> None:
        if self._off_timer is not None:
            self._off_timer.cancel()
            self._off_timer = None

    async def async_removed(self) -> None:
        self._stop_timer()


class DoorLock(HikvisionEntity):
    """One door of an access terminal or controller: locked or unlocked, its mode, and its contact.

    The device reports lock and contact changes as access-controller records (5/21-28); a remote command
    changes the state at once (the relay time is not reported, so an open shows unlocked for a few seconds).
    """

    domain: ClassVar[str] = "lock"

    def __init__(self, device: Device, door: int) -> None:
        super().__init__(device, f"door_{door}", f"door {door}")
        self.door = door
        self.mode = "normal"
        self.contact: str | None = None
        self.alarm: str | None = None
        self._attr_state = STATE_LOCKED
        self._attr_icon = "mdi:door"
        self._relock_timer: asyncio.TimerHandle | None = None
        self._refresh_attributes()

    def commanded(self, command: DoorCommand) -> None:
        """What a successful remote command did."""
        self._stop_relock()
        if command == "open":
            self.mode = "normal"
            self._set(STATE_UNLOCKED)
            self._relock_timer = asyncio.get_running_loop().call_later(UNLOCKED_FOR, self._relock)
            return
        self.mode = {"close": "normal", "alwaysOpen": "always_open", "alwaysClose": "always_closed"}[command]
        self._set(STATE_UNLOCKED if command == "alwaysOpen" else STATE_LOCKED)

    def granted(self) -> None:
        """A person was let through: the terminal opens its lock by itself."""
        if self.mode == "normal":
            self.commanded("open")

    def door_record(self, minor: int) -> None:
        """A door record of the device (lock opened/closed, contact, forced, held open)."""
        if minor == _LOCK_OPENED:
            self._stop_relock()
            self._set(STATE_UNLOCKED)
        elif minor == _LOCK_CLOSED:
            self._stop_relock()
            self._set(STATE_LOCKED)
        elif minor in (_DOOR_OPENED, _FORCED, _HELD_OPEN):
            self.contact = "open"
            self.alarm = {_FORCED: "forced", _HELD_OPEN: "held_open"}.get(minor)
            self._set(self._attr_state)
        elif minor == _DOOR_CLOSED:
            self.contact, self.alarm = "closed", None
            self._set(self._attr_state)

    def _set(self, state: str) -> None:
        self._attr_state = state
        self._refresh_attributes()
        if self.entity_id:
            self.write_state()

    def _refresh_attributes(self) -> None:
        self._attr_extra_attributes = {"door": self.door, "mode": self.mode, "contact": self.contact,
                                       "alarm": self.alarm}  # fmt: skip

    def _relock(self) -> None:
        self._relock_timer = None
        if self.mode == "normal":
            self._set(STATE_LOCKED)

    def _stop_relock(self) -> None:
        if self._relock_timer is not None:
            self._relock_timer.cancel()
            self._relock_timer = None

    async def async_removed(self) -> None:
        self._stop_relock()


class LastAccess(HikvisionEntity):
    """Who presented a credential last (name, else employee number, else card), granted or not."""

    domain: ClassVar[str] = "sensor"

    def __init__(self, device: Device) -> None:
        super().__init__(device, "last_access", "last access")
        self._attr_icon = "mdi:account-clock"

    def update(self, person: str, attributes: dict[str, Any]) -> None:
        self._attr_state = person[:255]
        self._attr_extra_attributes = attributes
        if self.entity_id:
            self.write_state()
