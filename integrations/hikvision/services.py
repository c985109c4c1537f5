"""The ``hikvision.*`` services: doors, people, history, gateways.

Door services target lock entities (their door) or devices (``door``, default 1); people services target access
terminals by device or entity. A device that refuses or cannot be reached fails the call with a message naming
it (``ServiceValidationError``: the call cannot be done as asked). Gateway services act on the platform's
gateways: ``add_to_gateway`` is for platform administrators (calls without a tenant), ``sync_gateway`` for
anyone (it only refreshes what the caller already sees).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import voluptuous as vol

from hub.auth.scope import Forbidden
from hub.core import Hub, ServiceCall
from hub.exceptions import ServiceValidationError

from .const import (
    DOMAIN,
    MANUFACTURER,
    SERVICE_ADD_TO_GATEWAY,
    SERVICE_BACKFILL,
    SERVICE_CLOSE_DOOR,
    SERVICE_DELETE_PERSON,
    SERVICE_DOOR_ALWAYS_CLOSED,
    SERVICE_DOOR_ALWAYS_OPEN,
    SERVICE_OPEN_DOOR,
    SERVICE_PULL_USERS,
    SERVICE_PUSH_PERSON,
    SERVICE_SYNC_GATEWAY,
)
from .device import HikDevice
from .entities import DoorCommand, DoorLock
from .isapi_client import IsapiError
from .manager import HikvisionManager, manager_of
from .people import EMPLOYEE_NO, PERSON_FIELDS, delete_person, pull_users, push_person

DOOR_SERVICES: dict[str, DoorCommand] = {
    SERVICE_OPEN_DOOR: "open",
    SERVICE_CLOSE_DOOR: "close",
    SERVICE_DOOR_ALWAYS_OPEN: "alwaysOpen",
    SERVICE_DOOR_ALWAYS_CLOSED: "alwaysClose",
}
DOOR_SCHEMA = vol.Schema({vol.Optional("door"): vol.All(vol.Coerce(int), vol.Range(min=1, max=64))})
PUSH_PERSON_SCHEMA = vol.Schema(PERSON_FIELDS)
DELETE_PERSON_SCHEMA = vol.Schema({vol.Required("employee_no"): EMPLOYEE_NO})
NO_DATA = vol.Schema({})
ADD_TO_GATEWAY_SCHEMA = vol.Schema(
    {
        vol.Required("gateway"): str,
        vol.Required("ehome_id", description="the ISUP device ID set on the device"): vol.All(
            vol.Coerce(str), vol.Strip, vol.Length(min=1, max=64)
        ),
        vol.Required("key", description="the ISUP 5.0 key set on the device"): vol.All(
            vol.Coerce(str), vol.Length(min=1, max=64)
        ),
        vol.Optional("name"): vol.All(vol.Coerce(str), vol.Strip, vol.Length(min=1, max=64)),
        vol.Optional("dev_type", default="AccessControl"): vol.In(["AccessControl", "encodingDev"]),
    }
)
SYNC_GATEWAY_SCHEMA = vol.Schema({vol.Optional("gateway"): str})


def _manager(call: ServiceCall, hub: Hub) -> HikvisionManager:
    manager = manager_of(hub)
    if manager is None:
        raise ServiceValidationError(DOMAIN, call.service, {"device_id": "no Hikvision device is configured"})
    return manager


def targets(hub: Hub, call: ServiceCall) -> list[tuple[HikDevice, DoorLock | None]]:
    """The followed Hikvision devices a call targets (with the lock, for a lock entity), in order, once each."""
    manager = _manager(call, hub)
    found: dict[tuple[str, int | None], tuple[HikDevice, DoorLock | None]] = {}
    for device_id in call.device_ids:
        registered = hub.devices.get(device_id)
        if registered is None or registered.manufacturer != MANUFACTURER:
            raise ServiceValidationError(DOMAIN, call.service, {"device_id": f"{device_id} is not a Hikvision device"})
        device = manager.devices.get(registered.serial_number)
        if device is None:
            raise ServiceValidationError(DOMAIN, call.service, {"device_id": f"{registered.name} is not connected"})
        found.setdefault((device.serial, None), (device, None))
    for entity_id in call.entity_ids:
        entry = hub.entities.get(entity_id)
        registered = hub.devices.get(entry.device_id) if entry is not None and entry.device_id else None
        if entry is None or entry.platform != DOMAIN or registered is None:
            raise ServiceValidationError(DOMAIN, call.service, {"entity_id": f"{entity_id} is not a Hikvision entity"})
        device = manager.devices.get(registered.serial_number)
        if device is None:
            raise ServiceValidationError(DOMAIN, call.service, {"entity_id": f"{registered.name} is not connected"})
        entity = hub.entities.entity(entity_id)
        lock = entity if isinstance(entity, DoorLock) else None
        found.setdefault((device.serial, lock.door if lock else None), (device, lock))
    if not found:
        raise ServiceValidationError(DOMAIN, call.service, {"device_id": "required: target a Hikvision device"})
    return list(found.values())


async def _each(call: ServiceCall, hub: Hub, work: Callable[[HikDevice, DoorLock | None], Awaitable[Any]]) -> Any:
    """Run ``work`` on every target; a device error names the device. One target: its result; several: by serial."""
    results: dict[str, Any] = {}
    for device, lock in targets(hub, call):
        try:
            results[device.serial if lock is None else f"{device.serial}/{lock.door}"] = await work(device, lock)
        except IsapiError as err:
            raise ServiceValidationError(DOMAIN, call.service, {"device_id": f"{device.name}: {err}"}) from None
    return next(iter(results.values())) if len(results) == 1 else results


def async_register_services(hub: Hub) -> None:
    """Register every service once per hub (the manager may not exist yet: handlers look it up per call)."""
    if hub.services.has(DOMAIN, SERVICE_OPEN_DOOR):
        return

    def door_handler(command: DoorCommand) -> Callable[[ServiceCall], Awaitable[Any]]:
        async def handle(call: ServiceCall) -> Any:
            async def act(device: HikDevice, lock: DoorLock | None) -> dict[str, Any]:
                door = lock.door if lock is not None else int(call.data.get("door", 1))
                await device.door(door, command)
                return {"door": door, "command": command}

            return await _each(call, hub, act)

        return handle

    for service, command in DOOR_SERVICES.items():
        hub.services.register(
            DOMAIN,
            service,
            door_handler(command),
            DOOR_SCHEMA,
            description=f"Door command {command} on a Hikvision access terminal (a lock entity, or a device + door)",
        )

    async def push(call: ServiceCall) -> Any:
        return await _each(call, hub, lambda device, _lock: push_person(device, call.data))

    async def delete(call: ServiceCall) -> Any:
        async def act(device: HikDevice, _lock: DoorLock | None) -> dict[str, Any]:
            await delete_person(device, call.data["employee_no"])
            return {"employee_no": call.data["employee_no"], "deleted": True}

        return await _each(call, hub, act)

    async def pull(call: ServiceCall) -> Any:
        return await _each(call, hub, lambda device, _lock: pull_users(device))

    async def backfill(call: ServiceCall) -> Any:
        async def act(device: HikDevice, _lock: DoorLock | None) -> dict[str, Any]:
            return {"new_records": await device.backfill()}

        return await _each(call, hub, act)

    async def add_to_gateway(call: ServiceCall) -> Any:
        if call.context is not None and call.context.tenant_id is not None:
            raise Forbidden("adding a device to a gateway is for platform administrators")
        gateway = _manager(call, hub).gateways.get(call.data["gateway"])
        if gateway is None:
            raise ServiceValidationError(DOMAIN, call.service, {"gateway": f"no gateway named {call.data['gateway']}"})
        name = call.data.get("name") or call.data["ehome_id"]
        try:
            dev_index = await gateway.add_device(call.data["ehome_id"], call.data["key"], name, call.data["dev_type"])
        except IsapiError as err:
            raise ServiceValidationError(DOMAIN, call.service, {"gateway": f"{gateway.name}: {err}"}) from None
        return {"gateway": gateway.name, "dev_index": dev_index}

    async def sync_gateway(call: ServiceCall) -> Any:
        manager = _manager(call, hub)
        wanted = call.data.get("gateway")
        if wanted is not None and wanted not in manager.gateways:
            raise ServiceValidationError(DOMAIN, call.service, {"gateway": f"no gateway named {wanted}"})
        chosen = [manager.gateways[wanted]] if wanted is not None else list(manager.gateways.values())
        return {gateway.name: await gateway.sync_now() for gateway in chosen}

    described: list[tuple[str, Callable[[ServiceCall], Awaitable[Any]], vol.Schema, str]] = [
        (SERVICE_PUSH_PERSON, push, PUSH_PERSON_SCHEMA, "Add or update a person (cards, face) on access terminals"),
        (SERVICE_DELETE_PERSON, delete, DELETE_PERSON_SCHEMA, "Remove a person with cards and face from terminals"),
        (SERVICE_PULL_USERS, pull, NO_DATA, "Read the people enrolled on an access terminal"),
        (SERVICE_BACKFILL, backfill, NO_DATA, "Read a terminal's access history back from the last stored record"),
        (SERVICE_ADD_TO_GATEWAY, add_to_gateway, ADD_TO_GATEWAY_SCHEMA, "Register an ISUP device with a gateway"),
        (SERVICE_SYNC_GATEWAY, sync_gateway, SYNC_GATEWAY_SCHEMA, "Sync the Hik Device Gateways' device lists now"),
    ]
    for service, handler, schema, description in described:
        hub.services.register(DOMAIN, service, handler, schema, description=description)


SERVICES = (*DOOR_SERVICES, SERVICE_PUSH_PERSON, SERVICE_DELETE_PERSON, SERVICE_PULL_USERS, SERVICE_BACKFILL,
            SERVICE_ADD_TO_GATEWAY, SERVICE_SYNC_GATEWAY)  # fmt: skip


def async_remove_services(hub: Hub) -> None:
    for service in SERVICES:
        hub.services.remove(DOMAIN, service)
