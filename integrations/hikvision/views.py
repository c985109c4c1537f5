"""What the REST API and the dashboard pages show of Hikvision devices, gateways and access records.

Visibility is the device registry's, through the caller's ``TenantScope``: a device is the registry's device with
manufacturer ``Hikvision`` and that serial, visible exactly when ``scope.device`` lets it through (another tenant's
and an absent one are the same ``NotFound``). Access records carry their tenant and are filtered by
``scope.tenant_filter``; a gateway's status lists only the devices the caller sees.
"""

from __future__ import annotations

from typing import Any

from hub.auth.scope import NotFound, TenantScope
from hub.core import Hub
from hub.device_registry import Device

from .const import MANUFACTURER
from .device import HikDevice, health_key
from .manager import HikvisionManager, manager_of


def scope_devices(scope: TenantScope) -> list[Device]:
    """Every Hikvision device the caller sees, by name."""
    devices = [device for device in scope.devices() if device.manufacturer == MANUFACTURER]
    return sorted(devices, key=lambda device: (device.name.lower(), device.serial_number))


def scope_device(scope: TenantScope, serial: str) -> Device:
    """The device if the caller may see it; NotFound otherwise (absent, or another tenant's)."""
    device = scope.hub.devices.get_by_serial(MANUFACTURER, serial.strip())
    if device is None:
        raise NotFound("device", serial)
    try:
        return scope.device(device.id)
    except NotFound:
        raise NotFound("device", serial) from None


def followed(hub: Hub, device: Device) -> HikDevice | None:
    """The running device behind a registry device (None: not configured, or its gateway does not list it)."""
    manager = manager_of(hub)
    return manager.devices.get(device.serial_number) if manager is not None else None


def device_view(hub: Hub, device: Device, counts: dict[str, int] | None = None) -> dict[str, Any]:
    """One device for JSON and the pages: the registry's facts, how it is reached, its health, doors and cameras."""
    manager = manager_of(hub)
    running = manager.devices.get(device.serial_number) if manager is not None else None
    record = manager.records.get(device.serial_number) if manager is not None else None
    health = hub.health.get(health_key(device.serial_number))
    connection = None
    mode = None
    if running is not None and running.entry is not None:
        connection = "direct"
        direct = manager.entries.get(running.entry.entry_id) if manager is not None else None
        mode = direct.mode if direct is not None else None
    elif running is not None or (record is not None and record.gateway):
        connection, mode = "gateway", "gateway"
    return {
        "serial": device.serial_number,
        "device_id": device.id,
        "name": device.name,
        "tenant_id": device.tenant_id,
        "status": str(device.status),
        "model": device.model,
        "firmware": device.sw_version,
        "last_seen": device.last_seen,
        "connection": connection,
        "event_mode": mode,
        "online": bool(running is not None and running.available),
        "gateway": record.gateway if record is not None else None,
        "dev_index": record.dev_index if record is not None else None,
        "device_type": record.device_type if record is not None else None,
        "access_control": running.is_access if running is not None else bool(record and record.doors),
        "doors": _doors(running),
        "cameras": sorted(camera.entity_id for camera in running.cameras.values()) if running is not None else [],
        "health": None if health is None or health.level is None else str(health.level),
        "health_key": health.key if health is not None else None,
        "last_error": health.last_error if health is not None else None,
        "access_records": (counts or {}).get(device.serial_number, 0),
        "config_entry_id": running.entry.entry_id if running is not None and running.entry is not None else None,
    }


def _doors(running: HikDevice | None) -> list[dict[str, Any]]:
    if running is None:
        return []
    return [
        {"door": door, "entity_id": lock.entity_id, "state": lock.state, "mode": lock.mode, "contact": lock.contact}
        for door, lock in sorted(running.locks.items())
    ]


async def device_views(hub: Hub, devices: list[Device]) -> list[dict[str, Any]]:
    manager = manager_of(hub)
    counts = await manager.store.counts([device.serial_number for device in devices]) if manager else {}
    return [device_view(hub, device, counts) for device in devices]


async def access_events(
    hub: Hub, scope: TenantScope, serials: list[str] | None, **filters: Any
) -> list[dict[str, Any]]:
    """Stored access records of ``serials`` (every visible device when None) that the caller may see."""
    manager = manager_of(hub)
    if manager is None:
        return []
    if serials is None:
        serials = [device.serial_number for device in scope_devices(scope)]
    if not serials:
        return []
    events = await manager.store.events(serials=serials, tenant_id=scope.tenant_filter, **filters)
    names = {device.serial_number: device.name for device in scope_devices(scope)}
    for event in events:
        event["device_name"] = names.get(event["serial"], event["serial"])
        event.pop("raw", None)
    return events


def gateway_views(hub: Hub, scope: TenantScope) -> list[dict[str, Any]]:
    """Every gateway's status; a tenant's caller sees only its own devices in the lists and counts."""
    manager: HikvisionManager | None = manager_of(hub)
    if manager is None:
        return []
    serials = None if scope.caller.platform_admin else {device.serial_number for device in scope_devices(scope)}
    views = [gateway.status(serials) for gateway in manager.gateways.values()]
    if not scope.caller.platform_admin:
        for view in views:
            view.pop("url", None)  # the platform's infrastructure: not a tenant's business
    return sorted(views, key=lambda view: view["name"])
