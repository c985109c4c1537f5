"""Devices of the caller's tenant: list, detail (entities and health), claim a serial, release, rename.

A claim names manufacturer + serial number: new to the hub, it is PENDING (201) until the device connects; a
serial the tenant already claimed answers 200; one another tenant owns answers 409 without saying whose.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import voluptuous as vol
from aiohttp import web

from hub.auth.scope import NotFound, Role, TenantScope
from hub.device_health import DeviceHealth
from hub.http import audit, hub_of, json_response, scope_of
from hub.http.params import acting_tenant
from hub.http.routing import ApiRoutes, body_of

routes = ApiRoutes("devices")

_text = vol.All(str, vol.Strip, vol.Length(min=1, max=255))

CLAIM_BODY = vol.Schema(
    {
        vol.Required("manufacturer", description="as the integration names it, e.g. ZKTeco"): _text,
        vol.Required("serial_number"): vol.All(str, vol.Strip, vol.Length(min=1, max=128)),
        vol.Optional("name"): _text,
        vol.Optional("tenant_id", description="platform administrators: the tenant to claim for"): str,
    }
)
RENAME_BODY = vol.Schema({vol.Required("name"): _text})


def health_as_dict(device: DeviceHealth) -> dict[str, Any]:
    """One watched connection as the API and dashboard show it: level, timing, uptime, failures, retries."""
    return {
        "key": device.key,
        "name": device.name,
        "device_id": device.device_id,
        "tenant_id": device.tenant_id,
        "level": None if device.level is None else str(device.level),
        "connected": device.connected,
        "response_time_ms": None if device.response_time_ms is None else round(device.response_time_ms, 1),
        "uptime_percent": None if (uptime := device.uptime_percent) is None else round(uptime, 1),
        "consecutive_failures": device.consecutive_failures,
        "last_error": device.last_error,
        "last_check": device.last_check,
        "next_retry_at": device.next_retry_at,
        "retries_stopped": device.retries_stopped,
        "entity_ids": list(device.entity_ids),
    }


@routes.api_route("GET", "/api/devices", summary="Devices of the caller's tenant")
async def get_devices(request: web.Request) -> web.Response:
    return json_response([device.as_dict() for device in scope_of(request).devices()])


@routes.api_route("GET", "/api/devices/{device_id}", summary="One device with its entities and health")
async def get_device(request: web.Request) -> web.Response:
    scope = scope_of(request)
    device = scope.device(request.match_info["device_id"])
    entities = hub_of(request).entities.all(tenant_id=scope.tenant_filter, device_id=device.id)
    states = [state.as_dict() for entry in entities if (state := _state(scope, entry.entity_id)) is not None]
    return json_response(
        {
            **device.as_dict(),
            "entities": [dataclasses.asdict(entry) for entry in sorted(entities, key=lambda entry: entry.entity_id)],
            "states": states,
            "health": [health_as_dict(item) for item in scope.health_devices() if item.device_id == device.id],
        }
    )


def _state(scope: TenantScope, entity_id: str) -> Any:
    try:
        return scope.state(entity_id)
    except NotFound:
        return None


@routes.api_route(
    "POST", "/api/devices/claim", role=Role.ADMIN, summary="Claim a device by its serial number", body=CLAIM_BODY,
    status=201,
)  # fmt: skip
async def claim_device(request: web.Request) -> web.Response:
    """201 with the new (PENDING, or ACTIVE when already connected) device; 200 when the tenant owns it already;
    409 when another tenant does."""
    body = body_of(request)
    scope = scope_of(request)
    tenant_id = acting_tenant(scope, body.get("tenant_id"))
    devices = hub_of(request).devices
    existing = devices.get_by_serial(body["manufacturer"], body["serial_number"])
    if existing is not None and existing.tenant_id == tenant_id:
        return json_response(existing.as_dict())
    device = await devices.claim(tenant_id, body["manufacturer"], body["serial_number"], body.get("name"))
    await audit(request, "device.claim", target=device.id, tenant_id=tenant_id, details=_identity(device.as_dict()))
    return json_response(device.as_dict(), status=201)


def _identity(device: dict[str, Any]) -> dict[str, Any]:
    return {"manufacturer": device["manufacturer"], "serial_number": device["serial_number"]}


@routes.api_route("POST", "/api/devices/{device_id}/release", role=Role.ADMIN, summary="Give a device up")
async def release_device(request: web.Request) -> web.Response:
    """The device is held again (owned by nobody); a PENDING claim is simply withdrawn."""
    device = scope_of(request).device(request.match_info["device_id"])
    released = await hub_of(request).devices.release(device.id)
    await audit(
        request, "device.release", target=device.id, tenant_id=device.tenant_id, details=_identity(device.as_dict())
    )
    return json_response({"device_id": device.id, "released": True, "held": released is not None})


@routes.api_route("PATCH", "/api/devices/{device_id}", role=Role.ADMIN, summary="Rename a device", body=RENAME_BODY)
async def rename_device(request: web.Request) -> web.Response:
    device = scope_of(request).device(request.match_info["device_id"])
    name = body_of(request)["name"]
    renamed = await hub_of(request).devices.rename(device.id, name)
    await audit(
        request,
        "device.rename",
        target=device.id,
        tenant_id=device.tenant_id,
        details={"old": device.name, "new": name},
    )
    return json_response(renamed.as_dict())
