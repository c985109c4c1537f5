"""Devices: identity (manufacturer + serial number, unique across the hub), owner tenant and claim status.

The claim life cycle: a tenant claims a serial (PENDING); when a device with that serial connects or shows
up in a gateway sync, it becomes ACTIVE for that tenant; when it is lost, OFFLINE. A device that connects
before anybody claims it is held with no tenant: it is visible to platform administrators only.
"""

from __future__ import annotations

import enum
import time
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from sqlalchemy import delete, select

from hub.core import EventType, Hub
from hub.exceptions import DeviceClaimConflict
from hub.ids import new_id
from hub.store.models import DeviceRow


class DeviceStatus(enum.StrEnum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    OFFLINE = "OFFLINE"


EVENT_DEVICE_REGISTRY_UPDATED: EventType[dict[str, Any]] = EventType("device_registry_updated")


@dataclass(frozen=True, slots=True)
class Device:
    id: str
    manufacturer: str
    serial_number: str
    name: str
    status: DeviceStatus
    tenant_id: str | None = None
    model: str | None = None
    sw_version: str | None = None
    config_entry_id: str | None = None
    claimed_at: float | None = None
    last_seen: float | None = None
    created_at: float = 0.0

    @property
    def held(self) -> bool:
        """Connected or known, but claimed by no tenant."""
        return self.tenant_id is None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": str(self.status)}


_FIELDS = tuple(field.name for field in fields(Device))


def _new_device(manufacturer: str, serial: str, name: str | None, status: DeviceStatus, **values: Any) -> Device:
    """A device seen for the first time, named after its identity unless a name is given."""
    return Device(
        id=new_id(),
        manufacturer=manufacturer,
        serial_number=serial,
        name=name or f"{manufacturer} {serial}",
        status=status,
        created_at=time.time(),
        **values,
    )


def _normalise_serial(serial_number: str) -> str:
    serial = serial_number.strip()
    if not serial:
        raise ValueError("serial_number must not be empty")
    return serial


class DeviceRegistry:
    """Every device the hub knows, in memory and written through to the ``devices`` table."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._devices: dict[str, Device] = {}
        self._by_identity: dict[tuple[str, str], str] = {}

    async def load(self) -> None:
        async with self._hub.database.session() as session:
            rows = (await session.scalars(select(DeviceRow))).all()
        for row in rows:
            values = {name: getattr(row, name) for name in _FIELDS}
            self._remember(Device(**{**values, "status": DeviceStatus(row.status)}))

    # ------------------------------------------------------------------------------------------ queries

    def get(self, device_id: str) -> Device | None:
        return self._devices.get(device_id)

    def get_by_serial(self, manufacturer: str, serial_number: str) -> Device | None:
        device_id = self._by_identity.get((manufacturer, serial_number.strip()))
        return self._devices.get(device_id) if device_id else None

    def all(self, tenant_id: str | None = None) -> list[Device]:
        devices = self._devices.values()
        if tenant_id is not None:
            devices = [device for device in devices if device.tenant_id == tenant_id]  # type: ignore[assignment]
        return sorted(devices, key=lambda device: (device.manufacturer, device.serial_number))

    # -------------------------------------------------------------------------------------- life cycle

    async def claim(self, tenant_id: str, manufacturer: str, serial_number: str, name: str | None = None) -> Device:
        """A tenant claims a serial. PENDING until the device connects; ACTIVE at once if it is already here.

        Claiming your own device again returns it; a serial owned by another tenant raises DeviceClaimConflict.
        """
        serial = _normalise_serial(serial_number)
        existing = self.get_by_serial(manufacturer, serial)
        now = time.time()
        if existing is None:
            device = _new_device(manufacturer, serial, name, DeviceStatus.PENDING, tenant_id=tenant_id, claimed_at=now)
            return await self._save(device, "create")
        if existing.tenant_id == tenant_id:
            return existing
        if existing.tenant_id is not None:
            raise DeviceClaimConflict(f"serial {serial} of {manufacturer} is already claimed by another tenant")
        return await self._save(
            replace(existing, tenant_id=tenant_id, claimed_at=now, name=name or existing.name), "claim"
        )

    async def release(self, device_id: str) -> Device | None:
        """The owner gives the device up: it is held again (still known, owned by nobody)."""
        device = self._devices.get(device_id)
        if device is None:
            return None
        if device.status is DeviceStatus.PENDING:
            await self.remove(device_id)
            return None
        return await self._save(replace(device, tenant_id=None, claimed_at=None), "release")

    async def connected(
        self,
        manufacturer: str,
        serial_number: str,
        *,
        name: str | None = None,
        model: str | None = None,
        sw_version: str | None = None,
        config_entry_id: str | None = None,
    ) -> Device:
        """A device with this identity connected or appeared in a sync: ACTIVE (held if nobody claimed it)."""
        serial = _normalise_serial(serial_number)
        existing = self.get_by_serial(manufacturer, serial)
        now = time.time()
        if existing is None:
            device = _new_device(
                manufacturer,
                serial,
                name,
                DeviceStatus.ACTIVE,
                model=model,
                sw_version=sw_version,
                config_entry_id=config_entry_id,
                last_seen=now,
            )
            return await self._save(device, "create")
        device = replace(
            existing,
            status=DeviceStatus.ACTIVE,
            model=model or existing.model,
            sw_version=sw_version or existing.sw_version,
            config_entry_id=config_entry_id or existing.config_entry_id,
            last_seen=now,
        )
        if device == replace(existing, last_seen=now) and existing.status is DeviceStatus.ACTIVE:
            self._devices[device.id] = device  # only last_seen moved: not worth a write per heartbeat
            return device
        return await self._save(device, "update")

    async def disconnected(self, device_id: str) -> Device | None:
        """The device was lost: OFFLINE (a PENDING claim stays PENDING: it never connected)."""
        device = self._devices.get(device_id)
        if device is None or device.status is not DeviceStatus.ACTIVE:
            return device
        return await self._save(replace(device, status=DeviceStatus.OFFLINE), "update")

    async def rename(self, device_id: str, name: str) -> Device:
        device = self._devices[device_id]
        return await self._save(replace(device, name=name), "update")

    async def remove(self, device_id: str) -> None:
        device = self._devices.pop(device_id, None)
        if device is None:
            return
        self._by_identity.pop((device.manufacturer, device.serial_number), None)
        async with self._hub.database.session() as session:
            await session.execute(delete(DeviceRow).where(DeviceRow.id == device_id))
            await session.commit()
        self._announce("remove", device, device.tenant_id)

    # -------------------------------------------------------------------------------------------- write

    async def _save(self, device: Device, action: str) -> Device:
        old = self._devices.get(device.id)
        await self._hub.database.merge(DeviceRow(**{**asdict(device), "status": str(device.status)}))
        self._remember(device)
        self._announce(action, device, old.tenant_id if old else None)
        return device

    def _remember(self, device: Device) -> None:
        self._devices[device.id] = device
        self._by_identity[(device.manufacturer, device.serial_number)] = device.id

    def _announce(self, action: str, device: Device, old_tenant_id: str | None) -> None:
        self._hub.bus.fire(
            EVENT_DEVICE_REGISTRY_UPDATED,
            {"action": action, "device_id": device.id, "status": str(device.status), "old_tenant_id": old_tenant_id},
            tenant_id=device.tenant_id,
        )
