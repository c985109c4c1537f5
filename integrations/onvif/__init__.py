"""ONVIF cameras (REFERENCE.md §4): one config entry per device, with the onvif-zeep-async client.

An entry (host, port, username, password, optional profile token, RTSP transport) gives a camera entity whose
stream comes from GetStreamUri and whose stills come from GetSnapshotUri, binary sensors fed by PullPoint
events (motion, tamper, line crossing, intrusion, digital inputs), the core's device health, and the PTZ
services ``onvif.ptz_move``, ``onvif.ptz_stop``, ``onvif.goto_preset`` and ``onvif.set_preset``.
``probe.probe_onvif`` and ``discovery.async_discover`` serve camera auto-detect and discovery;
``gatehouse simulate onvif`` runs the device simulator (``simulator``).

The other modules' hooks are re-exported here because pluggy registers this package, not its modules.
"""

from __future__ import annotations

import logging

import voluptuous as vol

from hub.config_entries import ConfigEntry, EntryState
from hub.core import Hub
from hub.hookspecs import hookimpl
from hub.integration import Integration, IotClass

from .cli import cli_commands
from .const import (
    CONF_HOST,
    CONF_PASSWORD,
    CONF_PORT,
    CONF_PROFILE_TOKEN,
    CONF_RTSP_TRANSPORT,
    CONF_USERNAME,
    DEFAULT_PORT,
    DOMAIN,
    RTSP_TRANSPORTS,
)

__all__ = ["CONFIG_ENTRY_SCHEMA", "cli_commands", "integration"]

_LOGGER = logging.getLogger(__name__)

_TEXT = vol.All(str, vol.Strip)

CONFIG_ENTRY_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_HOST): vol.All(_TEXT, vol.Length(min=1, max=253, msg="required: the camera's address")),
        vol.Optional(CONF_PORT, default=DEFAULT_PORT): vol.All(vol.Coerce(int), vol.Range(min=1, max=65535)),
        vol.Optional(CONF_USERNAME, default=""): vol.All(str, vol.Length(max=128)),
        vol.Optional(CONF_PASSWORD, default=""): vol.All(str, vol.Length(max=256)),
        vol.Optional(CONF_PROFILE_TOKEN): vol.Any(None, vol.All(_TEXT, vol.Length(max=64))),
        vol.Optional(CONF_RTSP_TRANSPORT, default="tcp"): vol.In(RTSP_TRANSPORTS, msg="must be tcp, udp or http"),
    }
)


@hookimpl
def integration() -> Integration:
    return Integration(
        domain=DOMAIN,
        name="ONVIF cameras",
        iot_class=IotClass.LOCAL_PUSH,
        config_entry_schema=CONFIG_ENTRY_SCHEMA,
        async_setup_entry=async_setup_entry,
        async_unload_entry=async_unload_entry,
        documentation="ONVIF cameras: stream and snapshot URIs, PullPoint events, PTZ, WS-Discovery.",
    )


async def async_setup_entry(hub: Hub, entry: ConfigEntry) -> None:
    """Connect, register the device and its entities, start events; services once for every entry."""
    from .device import OnvifDevice  # the SOAP stack loads only when an ONVIF camera is configured
    from .services import async_register_services

    device = OnvifDevice(hub, entry)
    entry.runtime_data = device
    await device.async_setup()
    async_register_services(hub)
    _LOGGER.info(
        "%s: %s %s at %s:%s, profile %s", entry.title, device.manufacturer, device.info.model or "(no model)",
        device.host, device.port, device.profile.token,
    )  # fmt: skip


async def async_unload_entry(hub: Hub, entry: ConfigEntry) -> None:
    """Entities off the bus; the device's connections close through the entry's unload callbacks."""
    from .services import async_remove_services

    await hub.entities.remove_entry_entities(entry.entry_id)
    others = [other for other in hub.config_entries.all(domain=DOMAIN) if other is not entry]
    if not any(other.state is EntryState.LOADED for other in others):
        async_remove_services(hub)
