"""The Entity base class: one thing an integration exposes (a lock, a camera, a sensor) and its state.

An integration subclasses Entity for its platform, sets ``_attr_*`` values (or overrides the properties)
and adds it with ``await hub.entities.add(entity, config_entry=..., device=...)``. The registry gives it a
stable entity id and its tenant (the device's owner, else the config entry's); ``write_state()`` then
publishes its state on the bus.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from hub.core import Hub

STATE_UNAVAILABLE = "unavailable"
STATE_UNKNOWN = "unknown"
STATE_ON = "on"
STATE_OFF = "off"


class Entity:
    """Base of every entity. ``domain`` is the platform: ``lock``, ``sensor``, ``binary_sensor``, ``camera``..."""

    domain: ClassVar[str] = "sensor"

    _attr_unique_id: str | None = None
    _attr_name: str | None = None
    _attr_state: Any = None
    _attr_available: bool = True
    _attr_icon: str | None = None
    _attr_device_class: str | None = None
    _attr_unit_of_measurement: str | None = None
    _attr_extra_attributes: Mapping[str, Any] | None = None

    # Set by the entity registry when the entity is added.
    hub: Hub
    entity_id: str = ""
    device_id: str | None = None
    config_entry_id: str | None = None
    tenant_id: str | None = None

    @property
    def unique_id(self) -> str | None:
        """Stable across restarts (a serial number plus a suffix); keeps the entity id the same."""
        return self._attr_unique_id

    @property
    def name(self) -> str | None:
        return self._attr_name

    @property
    def state(self) -> Any:
        return self._attr_state

    @property
    def available(self) -> bool:
        return self._attr_available

    @property
    def extra_attributes(self) -> Mapping[str, Any] | None:
        return self._attr_extra_attributes

    def state_attributes(self) -> dict[str, Any]:
        """Everything published with the state: the extras plus the standard keys that are set."""
        attributes: dict[str, Any] = dict(self.extra_attributes or {})
        if self.name:
            attributes["friendly_name"] = self.name
        if self._attr_icon:
            attributes["icon"] = self._attr_icon
        if self._attr_device_class:
            attributes["device_class"] = self._attr_device_class
        if self._attr_unit_of_measurement:
            attributes["unit_of_measurement"] = self._attr_unit_of_measurement
        return attributes

    def write_state(self) -> None:
        """Publish the current state (``unavailable`` when the device cannot be reached)."""
        if not self.entity_id:
            raise RuntimeError(f"{type(self).__name__} was not added to the hub yet; use hub.entities.add()")
        if not self.available:
            state = STATE_UNAVAILABLE
        elif self.state is None:
            state = STATE_UNKNOWN
        else:
            state = self.state
        self.hub.states.set(self.entity_id, state, self.state_attributes(), tenant_id=self.tenant_id)

    async def async_added(self) -> None:
        """Called once the entity has its id: subscribe to device updates here."""

    async def async_removed(self) -> None:
        """Called when the entity is removed or its config entry unloads: release what it holds."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.entity_id or '(not added)'}>"
