"""The demo integration: a simulated school site, so a fresh hub shows living devices at once.

``demo:`` in configuration.yaml creates the demo tenant and one config entry; the entry brings up five
devices (two door terminals, two cameras, a library station) with locks, contacts, motion, a people count
and a temperature, fires ``access`` events, and keeps one camera unplugged so the health page has an
offline device retrying on its back-off table.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import partial
from typing import Any

import voluptuous as vol

from hub.config_entries import ConfigEntry, EntryState
from hub.core import Hub
from hub.hookspecs import hookimpl
from hub.integration import Integration, IotClass

from .const import CONF_INTERVAL, CONF_TENANT, DEFAULT_INTERVAL, DEFAULT_TENANT, DEFAULT_TENANT_NAME, DOMAIN
from .devices import DEVICES, async_register_devices, health_check
from .services import async_register_services, async_remove_services
from .simulation import DemoSimulation

_LOGGER = logging.getLogger(__name__)

_INTERVAL = vol.All(vol.Coerce(float), vol.Range(min=0.01, max=3600))

CONFIG_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_TENANT, default=DEFAULT_TENANT): str,
        vol.Optional(CONF_INTERVAL, default=DEFAULT_INTERVAL): _INTERVAL,
    }
)
ENTRY_SCHEMA = vol.Schema({vol.Optional(CONF_INTERVAL, default=DEFAULT_INTERVAL): _INTERVAL})


@hookimpl
def integration() -> Integration:
    return Integration(
        domain=DOMAIN,
        name="Demo",
        iot_class=IotClass.CALCULATED,
        config_schema=CONFIG_SCHEMA,
        config_entry_schema=ENTRY_SCHEMA,
        async_setup=async_setup,
        async_setup_entry=async_setup_entry,
        async_unload_entry=async_unload_entry,
        documentation="Simulated devices to try the dashboard without hardware.",
    )


async def async_setup(hub: Hub, config: Mapping[str, Any]) -> None:
    """From configuration.yaml: the tenant, and one entry (created on the first start, updated after)."""
    tenant = await hub.tenants.ensure(config[CONF_TENANT], DEFAULT_TENANT_NAME)
    data = {CONF_INTERVAL: config[CONF_INTERVAL]}
    existing = hub.config_entries.all(domain=DOMAIN)
    if not existing:
        await hub.config_entries.add(DOMAIN, data, tenant_id=tenant.id, title="Demo site")
    elif dict(existing[0].data) != data:
        await hub.config_entries.update(existing[0].entry_id, data=data)


async def async_setup_entry(hub: Hub, entry: ConfigEntry) -> None:
    """Devices claimed and connected, their entities, health checks, the simulation's tick and the service."""
    tenant_id = entry.tenant_id or (await hub.tenants.ensure(DEFAULT_TENANT, DEFAULT_TENANT_NAME)).id
    interval: float = entry.data[CONF_INTERVAL]
    devices = await async_register_devices(hub, entry, tenant_id)
    simulation = DemoSimulation(hub, devices, interval, tenant_id)
    entry.runtime_data = simulation
    for entity in simulation.entities():
        await hub.entities.add(entity, platform=DOMAIN, config_entry=entry, device=entity.device)
    for spec in DEVICES:
        hub.health.track(
            spec.health_key,
            spec.name,
            check=health_check(hub, spec, simulation.rng),
            interval=2 * interval,
            device_id=devices[spec].id,
            tenant_id=tenant_id,
        )
        entry.on_unload(partial(hub.health.untrack, spec.health_key))
    entry.on_unload(hub.scheduler.every(interval, simulation.tick, f"demo simulation {entry.entry_id}"))
    async_register_services(hub)
    tenant = hub.tenants.get(tenant_id)
    owner = tenant.code if tenant else tenant_id
    _LOGGER.info("%s up for tenant %s: %d devices, a tick every %g s", entry.title, owner, len(devices), interval)


async def async_unload_entry(hub: Hub, entry: ConfigEntry) -> None:
    """Entities off the bus here; the jobs and health tracking stop through the entry's unload callbacks."""
    await hub.entities.remove_entry_entities(entry.entry_id)
    others = [other for other in hub.config_entries.all(domain=DOMAIN) if other is not entry]
    if not any(other.state is EntryState.LOADED for other in others):
        async_remove_services(hub)
