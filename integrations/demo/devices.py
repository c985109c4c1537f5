"""The simulated devices: what they are, how they join the tenant, and how their health is checked.

Every device is claimed by the demo tenant and then connects, exactly like real hardware does. One camera is
"unplugged on purpose": its check always fails, so the health page shows an offline device on back-off.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from hub.config_entries import ConfigEntry
from hub.core import Hub
from hub.device_health import Check
from hub.device_registry import Device
from hub.validation import slugify

from .const import MANUFACTURER


@dataclass(frozen=True, slots=True)
class DemoDeviceSpec:
    serial: str
    name: str
    model: str
    plugged_in: bool = True
    response_seconds: tuple[float, float] = (0.005, 0.060)

    @property
    def health_key(self) -> str:
        """``DEMO-TM20-0001`` becomes ``demo_tm20_0001``: its health entities are ``sensor.demo_tm20_0001_*``."""
        return slugify(self.serial)


GATE_TERMINAL = DemoDeviceSpec("DEMO-TM20-0001", "TM20 gate terminal", "TM20")
STAFF_TERMINAL = DemoDeviceSpec("DEMO-FACE-0001", "Staff door face terminal", "FaceStation F2")
GATE_CAMERA = DemoDeviceSpec("DEMO-CAM-0001", "Gate camera", "IPC-4MP")
LIBRARY_STATION = DemoDeviceSpec("DEMO-STATION-0001", "Library station", "Station S1")
PARKING_CAMERA = DemoDeviceSpec("DEMO-CAM-0002", "Parking camera", "IPC-4MP", plugged_in=False)

DEVICES = (GATE_TERMINAL, STAFF_TERMINAL, GATE_CAMERA, LIBRARY_STATION, PARKING_CAMERA)


async def async_register_devices(hub: Hub, entry: ConfigEntry, tenant_id: str) -> dict[DemoDeviceSpec, Device]:
    """Claim each serial for the tenant, then let it connect (ACTIVE); the unplugged one ends OFFLINE."""
    devices: dict[DemoDeviceSpec, Device] = {}
    for spec in DEVICES:
        await hub.devices.claim(tenant_id, MANUFACTURER, spec.serial, spec.name)
        device = await hub.devices.connected(
            MANUFACTURER, spec.serial, name=spec.name, model=spec.model, config_entry_id=entry.entry_id
        )
        if not spec.plugged_in:
            device = await hub.devices.disconnected(device.id) or device
        devices[spec] = device
    return devices


def health_check(hub: Hub, spec: DemoDeviceSpec, rng: random.Random) -> Check:
    """A check that answers after a small, varying delay (a real round trip would), or fails if unplugged."""

    async def check() -> None:
        if not spec.plugged_in:
            raise ConnectionRefusedError(f"{spec.name} does not answer (unplugged on purpose)")
        await asyncio.sleep(rng.uniform(*spec.response_seconds))
        await hub.devices.connected(MANUFACTURER, spec.serial)  # a heartbeat: only last_seen moves

    return check
