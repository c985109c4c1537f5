"""TM20 / AiFace biometric terminals: they dial in over WebSocket + JSON (REFERENCE.md §1) to one hub-wide port.

``tm20:`` in configuration.yaml starts the endpoint (``server.py``) with the ``TerminalManager`` as its handler:
terminals register, are claimed by tenants through the device registry (manufacturer ``TM20``, serial = ``sn``),
push attendance logs (committed before they are acknowledged), and take every server command as a service
``tm20.<command>``, through ``POST /api/terminals/{sn}/command`` and the dashboard pages.

The hooks of the other modules are re-exported here because pluggy registers this package, not its modules:
``http_routes`` (api), ``dashboard_pages`` (pages), ``cli_commands`` (``gatehouse simulate tm20``) and
``migration_folders`` (the ``tm20`` Alembic branch).
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import voluptuous as vol

from hub.core import Hub
from hub.hookspecs import hookimpl
from hub.integration import Integration, IotClass

from .api import http_routes
from .cli import cli_commands
from .const import COMMAND_TIMEOUT, DEFAULT_PORT, DOMAIN, OFFLINE_TIMEOUT, PING_INTERVAL
from .manager import TerminalManager
from .pages import dashboard_pages
from .services import async_register_services, async_remove_services

__all__ = ["cli_commands", "dashboard_pages", "http_routes", "integration", "migration_folders"]

_LOGGER = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


def _time_zone(value: Any) -> str:
    try:
        zoneinfo.ZoneInfo(str(value))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise vol.Invalid(f"unknown time zone {value!r} (use an IANA name such as Europe/Paris)") from None
    return str(value)


_SECONDS = vol.All(vol.Coerce(float), vol.Range(min=0.1, max=3600))

CONFIG_SCHEMA = vol.Schema(
    {
        # Terminals are on the LAN: listen on every interface unless told otherwise.
        vol.Optional("host", default="0.0.0.0"): str,
        vol.Optional("port", default=DEFAULT_PORT): vol.All(vol.Coerce(int), vol.Range(min=0, max=65535)),
        vol.Optional("whitelist", default=False): bool,
        vol.Optional("allowed_serials", default=list): [vol.All(vol.Coerce(str), vol.Strip, vol.Length(min=1))],
        vol.Optional("time_zone"): _time_zone,
        vol.Optional("nosenduser", default=False): bool,
        vol.Optional("server_validation", default=False): bool,
        vol.Optional("ping_interval", default=PING_INTERVAL): _SECONDS,
        vol.Optional("offline_timeout", default=OFFLINE_TIMEOUT): _SECONDS,
        vol.Optional("command_timeout", default=COMMAND_TIMEOUT): _SECONDS,
    }
)


@hookimpl
def integration() -> Integration:
    return Integration(
        domain=DOMAIN,
        name="TM20 terminals",
        iot_class=IotClass.LOCAL_PUSH,
        config_schema=CONFIG_SCHEMA,
        async_setup=async_setup,
        documentation="TM20 / AiFace biometric terminals over WebSocket + JSON: logs, users, doors.",
    )


@hookimpl
def migration_folders() -> list[Path]:
    return [MIGRATIONS]


async def async_setup(hub: Hub, config: Mapping[str, Any]) -> None:
    """Start the hub-wide endpoint; it stops with the hub, before the database closes."""
    manager = TerminalManager(hub, CONFIG_SCHEMA(dict(config)))
    await manager.start()
    hub.data[DOMAIN] = manager
    async_register_services(hub, manager)

    async def stop() -> None:
        async_remove_services(hub)
        await manager.stop()
        hub.data.pop(DOMAIN, None)

    hub.on_stop(stop)
