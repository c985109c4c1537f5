"""The three entities of a station: its status, the remaining time of its session, and the session itself.

They belong to the station's device (manufacturer ``Gatehouse station``, serial = the station id), so they get
the station's tenant and keep their entity ids across restarts and renames. The session entity never shows the
access code: states go to every viewer of the tenant and to the history.
"""

from __future__ import annotations

from typing import Any, ClassVar

from hub.core import Hub
from hub.device_registry import Device
from hub.entity import Entity

from .const import DOMAIN


class StationEntity(Entity):
    domain: ClassVar[str] = "sensor"

    def __init__(self, station_id: str, station_name: str, key: str, label: str) -> None:
        self.station_id = station_id
        self._attr_unique_id = f"{station_id}_{key}"
        self._attr_name = f"{station_name} {label}"

    def update(self, state: Any, attributes: dict[str, Any] | None = None) -> None:
        """Publish only what changed: a heartbeat that changes nothing writes nothing."""
        if not self.entity_id or (state == self._attr_state and attributes == self._attr_extra_attributes):
            return
        self._attr_state = state
        self._attr_extra_attributes = attributes
        self.write_state()


class StationStatusSensor(StationEntity):
    """available, busy, offline or maintenance; ``last_seen`` (epoch seconds) as an attribute."""

    def __init__(self, station_id: str, station_name: str, status: str) -> None:
        super().__init__(station_id, station_name, "status", "status")
        self._attr_state = status
        self._attr_icon = "mdi:monitor"
        self._attr_device_class = "enum"


class StationRemainingSensor(StationEntity):
    """Seconds left in the active session (0 when none)."""

    def __init__(self, station_id: str, station_name: str) -> None:
        super().__init__(station_id, station_name, "remaining_time", "remaining time")
        self._attr_icon = "mdi:timer-sand"
        self._attr_device_class = "duration"
        self._attr_unit_of_measurement = "s"
        self._attr_state = 0


class StationSessionSensor(StationEntity):
    """The active session's id (``none`` when idle), with visitor name and ``ends_at``; never the code."""

    def __init__(self, station_id: str, station_name: str) -> None:
        super().__init__(station_id, station_name, "session", "session")
        self._attr_icon = "mdi:account-clock"
        self._attr_state = "none"


class StationEntities:
    """The entities of one station, added and removed together."""

    def __init__(self, station_id: str, station_name: str, status: str) -> None:
        self.status = StationStatusSensor(station_id, station_name, status)
        self.remaining = StationRemainingSensor(station_id, station_name)
        self.session = StationSessionSensor(station_id, station_name)

    def all(self) -> tuple[StationEntity, ...]:
        return (self.status, self.remaining, self.session)

    async def add(self, hub: Hub, device: Device) -> None:
        for entity in self.all():
            await hub.entities.add(entity, platform=DOMAIN, device=device)

    async def remove(self, hub: Hub, *, forget: bool = False) -> None:
        for entity in self.all():
            if entity.entity_id:
                await hub.entities.remove(entity.entity_id, forget=forget)

    def entity_ids(self) -> list[str]:
        return [entity.entity_id for entity in self.all() if entity.entity_id]
