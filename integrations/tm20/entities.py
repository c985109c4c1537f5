"""The entities of a claimed terminal: its door lock, the last access, and user and log counts.

Ids come from the device's name (``lock.<name>_door``, ``sensor.<name>_last_access``...), unique ids from the
serial, so a renamed terminal keeps its entity ids and the same serial always maps to the same entities.
"""

from __future__ import annotations

from typing import Any, ClassVar

from hub.device_registry import Device
from hub.entity import Entity
from hub.scheduler import Cancel

from .const import DOMAIN

STATE_LOCKED = "locked"
STATE_UNLOCKED = "unlocked"
# How long the lock shows "unlocked" after an opendoor: the terminal's relay delay is not reported back.
UNLOCKED_FOR = 5.0


class Tm20Entity(Entity):
    def __init__(self, device: Device, key: str, label: str) -> None:
        self.sn = device.serial_number
        self._attr_unique_id = f"{device.serial_number}_{key}"
        self._attr_name = f"{device.name} {label}"


class Tm20DoorLock(Tm20Entity):
    """Locked unless we just opened it; unavailable while the terminal is not connected."""

    domain: ClassVar[str] = "lock"

    def __init__(self, device: Device) -> None:
        super().__init__(device, "door", "door")
        self._attr_state = STATE_LOCKED
        self._attr_icon = "mdi:door"
        self._cancel_relock: Cancel | None = None

    def opened(self, doornum: int | None = None, duration: float = UNLOCKED_FOR) -> None:
        self._stop_relock()
        self._attr_state = STATE_UNLOCKED
        self._attr_extra_attributes = {"doornum": doornum} if doornum is not None else None
        self.write_state()
        self._cancel_relock = self.hub.scheduler.later(duration, self._relock, f"tm20 relock {self.entity_id}")

    def set_available(self, available: bool) -> None:
        if available != self._attr_available:
            self._attr_available = available
            self.write_state()

    def _relock(self) -> None:
        self._cancel_relock = None
        self._attr_state = STATE_LOCKED
        self.write_state()

    async def async_removed(self) -> None:
        self._stop_relock()

    def _stop_relock(self) -> None:
        if self._cancel_relock is not None:
            self._cancel_relock()
            self._cancel_relock = None


class Tm20LastAccess(Tm20Entity):
    """Who passed last (name, else enrollid), with method, direction and the terminal's time."""

    domain: ClassVar[str] = "sensor"

    def __init__(self, device: Device) -> None:
        super().__init__(device, "last_access", "last access")
        self._attr_icon = "mdi:account-clock"

    def update(self, person: str, attributes: dict[str, Any]) -> None:
        self._attr_state = person
        self._attr_extra_attributes = attributes
        self.write_state()


class Tm20Count(Tm20Entity):
    """A count (users enrolled on the terminal, logs stored by the hub)."""

    domain: ClassVar[str] = "sensor"

    def __init__(self, device: Device, key: str, label: str, unit: str, value: int | None) -> None:
        super().__init__(device, key, label)
        self._attr_state = value
        self._attr_unit_of_measurement = unit
        self._attr_extra_attributes = {"state_class": "measurement"}

    @property
    def value(self) -> int:
        return int(self._attr_state or 0)

    def set(self, value: int) -> None:
        if value != self._attr_state:
            self._attr_state = value
            self.write_state()


class TerminalEntities:
    """The four entities of one terminal, added together."""

    def __init__(self, device: Device, *, users: int | None, logs: int) -> None:
        self.lock = Tm20DoorLock(device)
        self.last_access = Tm20LastAccess(device)
        self.users = Tm20Count(device, "users", "users", "users", users)
        self.logs = Tm20Count(device, "logs", "logs", "logs", logs)

    def all(self) -> tuple[Entity, ...]:
        return (self.lock, self.last_access, self.users, self.logs)

    async def add(self, hub: Any, device: Device) -> None:
        for entity in self.all():
            await hub.entities.add(entity, platform=DOMAIN, device=device)

    async def remove(self, hub: Any) -> None:
        for entity in self.all():
            if entity.entity_id:
                await hub.entities.remove(entity.entity_id)
