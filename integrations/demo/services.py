"""The demo's services: ``demo.open_door`` unlocks the targeted demo locks; they re-lock by themselves."""

from __future__ import annotations

import voluptuous as vol

from hub.core import Hub, ServiceCall
from hub.exceptions import ServiceValidationError

from .const import ATTR_DURATION, DOMAIN, SERVICE_OPEN_DOOR
from .lock import DemoLock

OPEN_DOOR_SCHEMA = vol.Schema({vol.Optional(ATTR_DURATION): vol.All(vol.Coerce(float), vol.Range(min=0.01, max=300))})


def async_register_services(hub: Hub) -> None:
    """Register once for every demo entry: the handler finds its locks through the entity registry."""
    if hub.services.has(DOMAIN, SERVICE_OPEN_DOOR):
        return

    def open_door(call: ServiceCall) -> None:
        for lock in _target_locks(hub, call):
            lock.open(call.data.get(ATTR_DURATION))

    hub.services.register(
        DOMAIN,
        SERVICE_OPEN_DOOR,
        open_door,
        OPEN_DOOR_SCHEMA,
        description="Unlock a demo door (target: lock entities or devices); it re-locks after a few seconds.",
    )


def async_remove_services(hub: Hub) -> None:
    hub.services.remove(DOMAIN, SERVICE_OPEN_DOOR)


def _target_locks(hub: Hub, call: ServiceCall) -> list[DemoLock]:
    """Every targeted lock, checked before any opens: a bad target fails the whole call and names the field."""
    locks: list[DemoLock] = []
    for entity_id in call.entity_ids:
        entity = hub.entities.entity(entity_id)
        if not isinstance(entity, DemoLock):
            raise ServiceValidationError(DOMAIN, SERVICE_OPEN_DOOR, {"entity_id": f"{entity_id} is not a demo lock"})
        locks.append(entity)
    for device_id in call.device_ids:
        device_locks = [
            entity
            for registered in hub.entities.all(device_id=device_id)
            if isinstance(entity := hub.entities.entity(registered.entity_id), DemoLock)
        ]
        if not device_locks:
            raise ServiceValidationError(DOMAIN, SERVICE_OPEN_DOOR, {"device_id": f"{device_id} has no demo lock"})
        locks.extend(device_locks)
    if not locks:
        raise ServiceValidationError(DOMAIN, SERVICE_OPEN_DOOR, {"entity_id": "required: target a demo lock"})
    return locks
