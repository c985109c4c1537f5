"""PTZ services for ONVIF cameras: ``onvif.ptz_move``, ``onvif.ptz_stop``, ``onvif.goto_preset``, ``onvif.set_preset``.

Target camera entities (or their devices). Velocities are ONVIF's generic space: -1..1 for pan (right is
positive), tilt (up is positive) and zoom (in is positive); ``duration`` stops a move by itself after that many
seconds. ``set_preset`` stores the current position and returns the preset's token.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from hub.core import Hub, ServiceCall
from hub.exceptions import ServiceValidationError

from .camera import OnvifCamera
from .const import (
    ATTR_DURATION,
    ATTR_NAME,
    ATTR_PAN,
    ATTR_PRESET,
    ATTR_SPEED,
    ATTR_TILT,
    ATTR_ZOOM,
    DOMAIN,
    SERVICE_GOTO_PRESET,
    SERVICE_PTZ_MOVE,
    SERVICE_PTZ_STOP,
    SERVICE_SET_PRESET,
)

_VELOCITY = vol.All(vol.Coerce(float), vol.Range(min=-1.0, max=1.0))

PTZ_MOVE_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_PAN, default=0.0): _VELOCITY,
        vol.Optional(ATTR_TILT, default=0.0): _VELOCITY,
        vol.Optional(ATTR_ZOOM, default=0.0): _VELOCITY,
        vol.Optional(ATTR_DURATION): vol.All(vol.Coerce(float), vol.Range(min=0.1, max=60.0)),
    }
)
PTZ_STOP_SCHEMA = vol.Schema({})
GOTO_PRESET_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_PRESET): vol.All(str, vol.Strip, vol.Length(min=1, max=64)),
        vol.Optional(ATTR_SPEED): vol.All(vol.Coerce(float), vol.Range(min=0.0, max=1.0)),
    }
)
SET_PRESET_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_NAME): vol.All(str, vol.Strip, vol.Length(min=1, max=64)),
        vol.Optional(ATTR_PRESET): vol.All(str, vol.Strip, vol.Length(min=1, max=64)),
    }
)
SERVICES = (SERVICE_PTZ_MOVE, SERVICE_PTZ_STOP, SERVICE_GOTO_PRESET, SERVICE_SET_PRESET)


def target_cameras(hub: Hub, call: ServiceCall) -> list[OnvifCamera]:
    """The PTZ cameras a call targets, every target checked before anything moves."""
    cameras: list[OnvifCamera] = []
    for entity_id in call.entity_ids:
        entity = hub.entities.entity(entity_id)
        if not isinstance(entity, OnvifCamera):
            raise ServiceValidationError(DOMAIN, call.service, {"entity_id": f"{entity_id} is not an ONVIF camera"})
        cameras.append(entity)
    for device_id in call.device_ids:
        found = [
            entity
            for registered in hub.entities.all(device_id=device_id)
            if isinstance(entity := hub.entities.entity(registered.entity_id), OnvifCamera)
        ]
        if not found:
            raise ServiceValidationError(DOMAIN, call.service, {"device_id": f"{device_id} has no ONVIF camera"})
        cameras.extend(found)
    if not cameras:
        raise ServiceValidationError(DOMAIN, call.service, {"entity_id": "required: target an ONVIF camera"})
    for camera in cameras:
        if not camera.supports_ptz:
            raise ServiceValidationError(DOMAIN, call.service, {"entity_id": f"{camera.entity_id} has no PTZ"})
    return list(dict.fromkeys(cameras))


def _preset_token(camera: OnvifCamera, wanted: str) -> str:
    """A preset token, or the token of the preset with that name."""
    presets = camera.device.presets
    if any(preset.token == wanted for preset in presets):
        return wanted
    return next((preset.token for preset in presets if preset.name == wanted), wanted)


def async_register_services(hub: Hub) -> None:
    """Register once for every ONVIF entry: handlers find their cameras through the entity registry."""
    if hub.services.has(DOMAIN, SERVICE_PTZ_MOVE):
        return

    async def ptz_move(call: ServiceCall) -> None:
        data = call.data
        for camera in target_cameras(hub, call):
            device = camera.device
            await device.client.continuous_move(
                device.profile.token, data[ATTR_PAN], data[ATTR_TILT], data[ATTR_ZOOM], data.get(ATTR_DURATION)
            )

    async def ptz_stop(call: ServiceCall) -> None:
        for camera in target_cameras(hub, call):
            await camera.device.client.stop(camera.device.profile.token)

    async def goto_preset(call: ServiceCall) -> None:
        for camera in target_cameras(hub, call):
            device = camera.device
            token = _preset_token(camera, call.data[ATTR_PRESET])
            await device.client.goto_preset(device.profile.token, token, call.data.get(ATTR_SPEED))

    async def set_preset(call: ServiceCall) -> Any:
        tokens: dict[str, str] = {}
        for camera in target_cameras(hub, call):
            device = camera.device
            client = device.client
            tokens[camera.entity_id] = await client.set_preset(
                device.profile.token, call.data.get(ATTR_NAME), call.data.get(ATTR_PRESET)
            )
            device.presets = await client.presets(device.profile.token)
            camera.write_state()
        return next(iter(tokens.values())) if len(tokens) == 1 else tokens

    register = hub.services.register
    register(
        DOMAIN,
        SERVICE_PTZ_MOVE,
        ptz_move,
        PTZ_MOVE_SCHEMA,
        description="Move an ONVIF camera continuously (pan, tilt, zoom velocities -1..1, optional duration s)",
    )
    register(DOMAIN, SERVICE_PTZ_STOP, ptz_stop, PTZ_STOP_SCHEMA, description="Stop an ONVIF camera's movement")
    register(
        DOMAIN,
        SERVICE_GOTO_PRESET,
        goto_preset,
        GOTO_PRESET_SCHEMA,
        description="Move an ONVIF camera to a preset (token or name)",
    )
    register(DOMAIN, SERVICE_SET_PRESET, set_preset, SET_PRESET_SCHEMA,
             description="Store an ONVIF camera's position as a preset; returns its token")  # fmt: skip


def async_remove_services(hub: Hub) -> None:
    for service in SERVICES:
        hub.services.remove(DOMAIN, service)
