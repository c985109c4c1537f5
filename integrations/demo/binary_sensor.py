"""Demo binary sensors: a door contact (on = open) and a motion detector (on = motion)."""

from __future__ import annotations

from typing import ClassVar

from hub.device_registry import Device
from hub.entity import STATE_OFF, STATE_ON

from .entity import DemoEntity


class DemoBinarySensor(DemoEntity):
    domain: ClassVar[str] = "binary_sensor"

    def __init__(self, device: Device, key: str, name: str, device_class: str) -> None:
        super().__init__(device, key, name)
        self._attr_device_class = device_class
        self._attr_state = STATE_OFF

    @property
    def is_on(self) -> bool:
        return self._attr_state == STATE_ON

    def set_on(self, on: bool) -> None:
        """Change and publish (publishing the same state again fires nothing)."""
        self._attr_state = STATE_ON if on else STATE_OFF
        self.write_state()
