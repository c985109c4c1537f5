"""The demo door lock: opens on a granted scan or on ``demo.open_door``, and re-locks by itself."""

from __future__ import annotations

from typing import ClassVar

from hub.device_registry import Device
from hub.scheduler import Cancel

from .binary_sensor import DemoBinarySensor
from .entity import DemoEntity

STATE_LOCKED = "locked"
STATE_UNLOCKED = "unlocked"


class DemoLock(DemoEntity):
    """A lock with a door contact: the door opens while it is unlocked and closes before it re-locks."""

    domain: ClassVar[str] = "lock"

    def __init__(self, device: Device, name: str, relock_after: float) -> None:
        super().__init__(device, "lock", name)
        self.relock_after = relock_after
        self.contact = DemoBinarySensor(device, "contact", f"{name} contact", "door")
        self._attr_state = STATE_LOCKED
        self._attr_extra_attributes = {"relock_after": relock_after}
        self._cancel_relock: Cancel | None = None

    @property
    def is_locked(self) -> bool:
        return self._attr_state == STATE_LOCKED

    def open(self, duration: float | None = None) -> None:
        """Unlock now and re-lock after ``duration`` seconds (default ``relock_after``); opening again extends it."""
        self._stop_relock()
        self._attr_state = STATE_UNLOCKED
        self.write_state()
        self.contact.set_on(True)
        self._cancel_relock = self.hub.scheduler.later(
            self.relock_after if duration is None else duration, self.relock, f"demo relock {self.entity_id}"
        )

    def relock(self) -> None:
        self._cancel_relock = None
        self.contact.set_on(False)
        self._attr_state = STATE_LOCKED
        self.write_state()

    async def async_removed(self) -> None:
        self._stop_relock()

    def _stop_relock(self) -> None:
        if self._cancel_relock is not None:
            self._cancel_relock()
            self._cancel_relock = None
