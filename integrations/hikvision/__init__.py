"""Hikvision: ISAPI devices (cameras, NVRs, access terminals) and the Hik Device Gateway for ISUP 5.0 devices.

Two doors in. A tenant adds a directly reachable device as a config entry (host, credentials, how its events
arrive: ``stream``, ``push`` or ``none``): the hub reads its deviceInfo, claims its serial for the tenant and
follows it (``direct.py``). The platform administrator lists Hik Device Gateways under ``hikvision: gateways:``
in configuration.yaml: the hub syncs their device lists, follows their event subscription and accepts their
signed webhook; a tenant claims a device behind a gateway by its serial (``gateway.py``).

Either way a device becomes a ``HikDevice`` (``device.py``): entities (door locks, detection sensors, the last
access, cameras), ``access`` events de-duplicated on the device's serialNo and stored (``access_log.py``), the
AcsEvent backfill after every reconnection, and services (``services.py``), REST (``api.py``) and pages
(``pages.py``). The protocol lives in ``isapi_client.py``, ``gateway_client.py``, ``events.py``,
``multipart.py``; the simulators in ``simulator/`` (``gatehouse simulate hikvision``, ``cli.py``).

The hooks of the other modules are re-exported here because pluggy registers this package, not its modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hub.config_entries import ConfigEntry
from hub.core import Hub
from hub.hookspecs import hookimpl
from hub.integration import Integration, IotClass

from .api import http_routes
from .cli import cli_commands
from .config import CONFIG_SCHEMA, ENTRY_SCHEMA
from .const import DOMAIN
from .direct import DirectDevice
from .manager import async_get_manager
from .pages import dashboard_pages
from .services import async_register_services

__all__ = ["cli_commands", "dashboard_pages", "http_routes", "integration", "migration_folders"]

MIGRATIONS = Path(__file__).parent / "migrations"


@hookimpl
def integration() -> Integration:
    return Integration(
        domain=DOMAIN,
        name="Hikvision",
        iot_class=IotClass.LOCAL_PUSH,
        config_schema=CONFIG_SCHEMA,
        config_entry_schema=ENTRY_SCHEMA,
        async_setup=async_setup,
        async_setup_entry=async_setup_entry,
        async_unload_entry=async_unload_entry,
        documentation="Hikvision cameras, NVRs and access terminals over ISAPI, and ISUP devices through the Hik "
        "Device Gateway: doors, access events, people, detections, video.",
        secret_fields=frozenset({"password"}),
    )


@hookimpl
def migration_folders() -> list[Path]:
    return [MIGRATIONS]


async def async_setup(hub: Hub, config: Mapping[str, Any]) -> None:
    """``hikvision:`` in configuration.yaml: the gateways start syncing."""
    await async_get_manager(hub, config)
    async_register_services(hub)


async def async_setup_entry(hub: Hub, entry: ConfigEntry) -> None:
    """One directly reachable device; see ``DirectDevice.start`` for what set-up needs of it."""
    manager = await async_get_manager(hub)
    async_register_services(hub)
    direct = DirectDevice(manager, entry)
    try:
        await direct.start()
    except BaseException:
        await direct.stop()
        raise
    entry.runtime_data = direct


async def async_unload_entry(hub: Hub, entry: ConfigEntry) -> None:
    direct = entry.runtime_data
    if isinstance(direct, DirectDevice):
        await direct.stop()
