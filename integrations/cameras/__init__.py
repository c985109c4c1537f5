"""Cameras by connection type: RTSP (TCP/UDP), RTSPS, RTMP, HTTP MJPEG, snapshot-only HTTP, HLS, ONVIF, NVR
channels, local files and USB devices, for 23 manufacturers' URL layouts (``profiles``).

Each config entry (tenant-owned; ``schema``) is one camera: a ``hub.camera.Camera`` entity whose stream the
core's stream manager opens on demand, a device in the registry, and health from the core (a check per
connection type, ``checks``). The discovery API (``api``) lists manufacturers and their templates, generates
URLs, auto-detects a camera (ONVIF first, then templates: ``autodetect``), batch-tests cameras and scans private
subnets (``scan``). Dashboard pages: configured cameras, an add-camera wizard built on auto-detect, discovery.
``gatehouse simulate camera`` serves an HTTP MJPEG/snapshot camera (``simulator``).

The hooks of the other modules are re-exported here because pluggy registers this package, not its modules.
"""

from __future__ import annotations

import logging
from functools import partial

from hub.config_entries import ConfigEntry
from hub.core import Hub
from hub.device_registry import Device
from hub.exceptions import ConfigEntryAuthFailed
from hub.hookspecs import hookimpl
from hub.integration import Integration, IotClass

from .api import http_routes
from .camera_http import CameraAuthError
from .checks import Check, check_for
from .cli import cli_commands
from .const import (
    CONF_CONNECTION_TYPE,
    CONF_HOST,
    CONF_MANUFACTURER,
    CONF_PASSWORD,
    CONF_PORT,
    CONF_STREAM,
    CONF_USERNAME,
    DOMAIN,
    HEALTH_INTERVAL,
    HEALTH_TIMEOUT,
    INTEGRATION_NAME,
    STREAM_SUB,
    TYPE_ONVIF,
)
from .entity import ConfiguredCamera, health_key
from .onvif_link import OnvifStreams, onvif_entry_streams
from .pages import dashboard_pages
from .profiles import GENERIC, profile_for
from .runtime import runtime_of
from .schema import CONFIG_ENTRY_SCHEMA, camera_name
from .source import CameraSource, onvif_source, source_for

__all__ = ["cli_commands", "dashboard_pages", "http_routes", "integration"]

_LOGGER = logging.getLogger(__name__)


@hookimpl
def integration() -> Integration:
    return Integration(
        domain=DOMAIN,
        name=INTEGRATION_NAME,
        iot_class=IotClass.LOCAL_POLLING,
        config_entry_schema=CONFIG_ENTRY_SCHEMA,
        async_setup_entry=async_setup_entry,
        async_unload_entry=async_unload_entry,
        documentation="IP cameras by connection type (RTSP, RTSPS, RTMP, MJPEG, snapshot, HLS, ONVIF, NVR "
        "channel, file, USB) with 23 manufacturers' URL templates, auto-detect and subnet scan.",
    )


async def async_setup_entry(hub: Hub, entry: ConfigEntry) -> None:
    """The camera's source (asked from the camera for ONVIF), its device, health and entity."""
    runtime = runtime_of(hub)
    config = entry.data
    onvif: OnvifStreams | None = None
    if config[CONF_CONNECTION_TYPE] == TYPE_ONVIF:
        onvif = await onvif_entry_streams(
            config[CONF_HOST], config[CONF_PORT], config.get(CONF_USERNAME, ""), config.get(CONF_PASSWORD, "")
        )
        chosen = onvif.streams[1 if config.get(CONF_STREAM) == STREAM_SUB and len(onvif.streams) > 1 else 0]
        source: CameraSource = onvif_source(config, chosen.uri, chosen.snapshot_uri)
    else:
        source = source_for(config)
    device = await _register_device(hub, entry, onvif)
    camera = ConfiguredCamera(entry, source, runtime)
    key = health_key(entry.entry_id)
    camera.health = hub.health.track(
        key,
        camera.name or entry.title,
        check=_camera_check(hub, camera, check_for(source, runtime.session, HEALTH_TIMEOUT), device),
        interval=HEALTH_INTERVAL,
        timeout=HEALTH_TIMEOUT,
        device_id=device.id if device else None,
        tenant_id=entry.tenant_id,
    )
    entry.on_unload(partial(hub.health.untrack, key))
    await hub.entities.add(camera, platform=DOMAIN, config_entry=entry, device=device)
    entry.runtime_data = camera
    _LOGGER.info("Camera %s set up: %s", camera.name, source.describe())


async def async_unload_entry(hub: Hub, entry: ConfigEntry) -> None:
    await hub.entities.remove_entry_entities(entry.entry_id)
    camera = entry.runtime_data
    if isinstance(camera, ConfiguredCamera) and camera.device_id is not None:
        await hub.devices.disconnected(camera.device_id)


async def _register_device(hub: Hub, entry: ConfigEntry, onvif: OnvifStreams | None) -> Device | None:
    """The camera's device: identified by its ONVIF serial when it has one, else by the entry."""
    profile = profile_for(entry.data.get(CONF_MANUFACTURER)) or GENERIC
    manufacturer, serial, model = profile.name, f"entry-{entry.entry_id}", entry.data[CONF_CONNECTION_TYPE]
    if onvif is not None and onvif.serial_number:
        manufacturer, serial, model = onvif.manufacturer or profile.name, onvif.serial_number, onvif.model
    name = camera_name(entry.title, entry.data)
    if entry.tenant_id is None:
        return await hub.devices.connected(manufacturer, serial, name=name, model=model,
                                           config_entry_id=entry.entry_id)  # fmt: skip
    await hub.devices.claim(entry.tenant_id, manufacturer, serial, name)
    return await hub.devices.connected(manufacturer, serial, model=model, config_entry_id=entry.entry_id,
                                       sw_version=onvif.firmware_version if onvif else None)  # fmt: skip


def _camera_check(hub: Hub, camera: ConfiguredCamera, check: Check, device: Device | None) -> Check:
    """The connection type's check, with refused credentials reported as such, the device's status kept in
    step (ACTIVE while it answers, OFFLINE when it does not) and the stream statistics refreshed."""

    async def camera_check() -> object:
        try:
            result = await check()
        except CameraAuthError as err:
            await _device_lost(hub, device)
            raise ConfigEntryAuthFailed(str(err)) from None
        except Exception:
            await _device_lost(hub, device)
            raise
        finally:
            camera.refresh_stats()
        if device is not None and (known := hub.devices.get(device.id)) is not None:
            await hub.devices.connected(known.manufacturer, known.serial_number)
        return result

    return camera_check


async def _device_lost(hub: Hub, device: Device | None) -> None:
    if device is not None:
        await hub.devices.disconnected(device.id)
