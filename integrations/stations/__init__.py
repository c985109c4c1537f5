"""Public computer stations: visitors get a 6-character access code, type it on a station, and the hub times
their session (cyber-cafés, libraries, town halls).

``stations:`` in configuration.yaml (it may be empty) creates the ``StationManager`` (``manager.py``), the hub's
one authority on stations, sessions and their timers, starts the scheduled jobs (``jobs.py``) and registers the
services (``services.py``). Without the section the routes answer 404 and no job runs.

The hooks of the other modules are re-exported here because pluggy registers this package, not its modules:
``http_routes`` (the REST API of ``api.py`` and the agent WebSocket of ``agent_ws.py``), ``dashboard_pages``
(``pages.py``), ``cli_commands`` (``gatehouse simulate station``) and ``migration_folders`` (the ``stations``
Alembic branch).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hub.core import Hub
from hub.hookspecs import hookimpl
from hub.integration import Integration, IotClass

from .api import http_routes
from .cli import cli_commands
from .const import DOMAIN
from .jobs import start_jobs
from .manager import StationManager, manager_of
from .pages import dashboard_pages
from .schema import CONFIG_SCHEMA
from .services import async_register_services, async_remove_services

__all__ = ["cli_commands", "dashboard_pages", "http_routes", "integration", "manager_of", "migration_folders"]

_LOGGER = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
#: Seconds between refreshes of the remaining-time entities of active stations (between heartbeats).
REFRESH_INTERVAL = 10.0


@hookimpl
def integration() -> Integration:
    return Integration(
        domain=DOMAIN,
        name="Public computer stations",
        iot_class=IotClass.LOCAL_PUSH,
        config_schema=CONFIG_SCHEMA,
        async_setup=async_setup,
        documentation="Public computers lent by the hour: access codes, timed sessions, station agents.",
    )


@hookimpl
def migration_folders() -> list[Path]:
    return [MIGRATIONS]


async def async_setup(hub: Hub, config: Mapping[str, Any]) -> None:
    """Create the manager (stations and active sessions loaded), its services and jobs; all stop with the hub."""
    section = CONFIG_SCHEMA(dict(config or {}))
    manager = StationManager(hub, section)
    await manager.start()
    hub.data[DOMAIN] = manager
    async_register_services(hub, manager)
    cancels = [*start_jobs(hub, manager, section)]
    refresh = float(section.get("remaining_interval", REFRESH_INTERVAL))
    cancels.append(hub.scheduler.every(refresh, manager.refresh_remaining, "stations remaining time"))

    async def stop() -> None:
        for cancel in cancels:
            cancel()
        async_remove_services(hub)
        await manager.stop()
        hub.data.pop(DOMAIN, None)

    hub.on_stop(stop)
