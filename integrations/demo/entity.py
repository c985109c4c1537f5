"""The base of every demo entity: a stable unique id made of the device's serial and a key."""

from __future__ import annotations

from hub.device_registry import Device
from hub.entity import Entity


class DemoEntity(Entity):
    """One thing a simulated device exposes; ``key`` tells its entities apart (``lock``, ``contact``)."""

    def __init__(self, device: Device, key: str, name: str) -> None:
        self.device = device
        self._attr_unique_id = f"{device.serial_number}_{key}"
        self._attr_name = name
