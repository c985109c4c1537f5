"""Demo sensors: a measurement with a unit (people on site, room temperature)."""

from __future__ import annotations

from typing import ClassVar

from hub.device_registry import Device

from .entity import DemoEntity


class DemoSensor(DemoEntity):
    domain: ClassVar[str] = "sensor"

    def __init__(
        self,
        device: Device,
        key: str,
        name: str,
        value: float,
        *,
        unit: str | None = None,
        device_class: str | None = None,
        icon: str | None = None,
    ) -> None:
        super().__init__(device, key, name)
        self._attr_state = value
        self._attr_unit_of_measurement = unit
        self._attr_device_class = device_class
        self._attr_icon = icon
        self._attr_extra_attributes = {"state_class": "measurement"}

    @property
    def value(self) -> float:
        return float(self._attr_state)

    def set_value(self, value: float) -> None:
        self._attr_state = value
        self.write_state()
