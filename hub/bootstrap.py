"""Puts a hub together from a configuration directory, in order, and takes it apart in reverse.

Start: configuration, plugins, database (migrated), recorder, tenants, users and tokens (auth), registries,
health, camera streams, integrations set up from configuration.yaml, stored config entries, automations, HTTP. Each part
registers its stop callback as it starts, so ``hub.stop()`` undoes them last-in first-out: HTTP closes first, the
recorder's final flush runs before the database closes, and nothing acknowledged is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

from hub.auth.manager import AuthManager
from hub.auth.scope import authorize_service_call
from hub.automation.manager import AutomationManager
from hub.config import load_configuration, validate_configuration
from hub.config_entries import ConfigEntries
from hub.core import Hub
from hub.device_registry import DeviceRegistry
from hub.entity_registry import EntityRegistry
from hub.exceptions import HubError
from hub.health import HealthMonitor
from hub.notifications import async_setup_notifications
from hub.plugins import PluginManager
from hub.scheduler import Scheduler
from hub.store.backup import async_setup_backup
from hub.store.database import Database, default_url
from hub.store.recorder import Recorder
from hub.streams import StreamManager
from hub.tenants import TenantRegistry

_LOGGER = logging.getLogger(__name__)

CORE_SECTIONS = frozenset({"gatehouse", "http", "recorder", "auth", "logger", "backup"})


async def start_hub(
    config_dir: Path | str,
    *,
    raw_config: Mapping[str, Any] | None = None,
    plugins: Iterable[ModuleType | object] = (),
    load_builtin: bool = True,
    load_entry_points: bool = True,
    database_url: str | None = None,
    http: bool = True,
) -> Hub:
    """Start a hub. ``raw_config`` replaces configuration.yaml (tests); ``plugins`` are extra plugin objects.

    Configuration problems are logged with file, line and key; the sections they affect are skipped and the
    rest of the hub starts.
    """
    config_dir = Path(config_dir)
    plugin_manager = PluginManager()
    plugin_manager.load_all(builtin=load_builtin, entry_points=load_entry_points)
    for plugin in plugins:
        plugin_manager.register(plugin)

    raw = dict(raw_config) if raw_config is not None else await asyncio.to_thread(_load_raw, config_dir)
    config, problems = validate_configuration(raw, plugin_manager.integrations)
    for problem in problems:
        _LOGGER.error("Configuration: %s", problem)
    _configure_logging(config.get("logger") or {})

    hub = Hub(config_dir, config)
    hub.plugins = plugin_manager
    hub.services.authorize = partial(authorize_service_call, hub)
    hub.scheduler = Scheduler(hub, (config.get("gatehouse") or {}).get("time_zone", "UTC"))
    try:
        await _start_parts(hub, database_url, http=http)
    except BaseException:
        await hub.stop()
        raise
    hub.mark_started()
    return hub


def _load_raw(config_dir: Path) -> dict[str, Any]:
    try:
        return dict(load_configuration(config_dir))
    except HubError as err:  # malformed YAML: say where, start with defaults
        _LOGGER.error("Configuration could not be read, starting with defaults: %s", err)
        return {}


async def _start_parts(hub: Hub, database_url: str | None, *, http: bool) -> None:
    recorder_config: Mapping[str, Any] = hub.config.get("recorder") or {}
    database = Database(
        database_url or recorder_config.get("db_url") or default_url(hub.config_dir),
        migration_folders=hub.plugins.migration_folders(),
    )
    await database.start()
    hub.database = database
    hub.on_stop(database.close)

    hub.recorder = Recorder(
        hub,
        database,
        commit_interval=recorder_config.get("commit_interval", 1.0),
        keep_days=recorder_config.get("keep_days", 10),
        exclude_event_types=recorder_config.get("exclude_event_types", ()),
    )
    await hub.recorder.start()
    hub.on_stop(hub.recorder.stop)
    await async_setup_backup(hub, hub.config.get("backup"))

    hub.tenants = TenantRegistry(database)
    await hub.tenants.load()
    hub.auth = AuthManager(hub, database, hub.config.get("auth") or {})
    await hub.auth.load()
    hub.on_stop(hub.auth.stop)
    hub.devices = DeviceRegistry(hub)
    await hub.devices.load()
    hub.entities = EntityRegistry(hub)
    await hub.entities.load()

    hub.health = HealthMonitor(hub, database)
    await hub.health.start()
    hub.on_stop(hub.health.stop)

    # Camera decoders: before the integrations that open them; stopped again first of all (below), so that
    # live MJPEG and HLS responses end before the HTTP server waits for the requests in flight.
    hub.streams = StreamManager(hub)
    hub.on_stop(hub.streams.async_stop)

    hub.config_entries = ConfigEntries(hub)
    await hub.config_entries.load()
    hub.on_stop(hub.config_entries.unload_all)

    # Before the integrations and automations: notify.persistent_notification is a core service they may call.
    await async_setup_notifications(hub)
    await _setup_yaml_integrations(hub)
    await hub.config_entries.setup_all()

    # Automations: after the integrations (their services and trigger types exist), before HTTP (the API and
    # the webhook route read hub.automations).
    hub.automations = AutomationManager(hub)
    await hub.automations.start()

    if http:
        from hub.http.server import HttpServer

        http_config: Mapping[str, Any] = hub.config.get("http") or {}
        server = HttpServer(hub, http_config.get("host", "127.0.0.1"), http_config.get("port", 8123))
        await server.start()
        hub.http = server
        hub.on_stop(server.stop)
    hub.on_stop(hub.streams.async_stop)


async def _setup_yaml_integrations(hub: Hub) -> None:
    """Run ``async_setup`` of each integration that has a section in configuration.yaml; isolate failures."""
    for domain, section in hub.config.items():
        if domain in CORE_SECTIONS:
            continue
        integration = hub.plugins.integrations.get(domain)
        if integration is None or integration.async_setup is None:
            continue
        try:
            await integration.async_setup(hub, section or {})
        except Exception:
            _LOGGER.exception("Integration %s failed to set up from configuration.yaml", domain)


def _configure_logging(logger_config: Mapping[str, Any]) -> None:
    default = str(logger_config.get("default", "info")).upper()
    logging.getLogger().setLevel(default)
    for name, level in (logger_config.get("logs") or {}).items():
        logging.getLogger(name).setLevel(str(level).upper())
