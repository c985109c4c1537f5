"""The Hikvision REST API: devices (list, detail, doors, people, access records, backfill), claims and gateways.

Declared with ``ApiRoutes`` so the hub enforces each route's role, validates bodies and queries, and lists them in
``/api/openapi.json``. Every lookup goes through the caller's ``TenantScope`` (``views.scope_device``): another
tenant's device answers 404 exactly like an absent one. Device errors are told apart: 409 when the device is not
connected, 502 when it refuses (its reason in the message), 504 when it does not answer. The device-facing
routes (push, webhook) are in ``receivers.py``.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from aiohttp import web

from hub.auth.scope import Role
from hub.core import Hub
from hub.hookspecs import hookimpl
from hub.http import audit, hub_of, json_response, scope_of
from hub.http.errors import ApiError
from hub.http.params import acting_tenant, limit
from hub.http.routing import ApiRoutes, body_of, query_of

from . import views
from .const import MANUFACTURER
from .device import HikDevice
from .entities import DOOR_COMMANDS
from .isapi_client import IsapiAuthError, IsapiConnectionError, IsapiError
from .manager import manager_of
from .people import EMPLOYEE_NO, PERSON_SCHEMA, delete_person, pull_users, push_person
from .receivers import receiver_routes
from .store import MAX_EVENTS

routes = ApiRoutes("hikvision")

_KINDS = ["granted", "denied", "door", "alarm", "exception", "operation", "other"]
EVENTS_QUERY = vol.Schema(
    {
        vol.Optional("limit", default=100): limit(MAX_EVENTS),
        vol.Optional("before_id", description="the smallest id of the previous page"): vol.All(
            vol.Coerce(int), vol.Range(min=1)
        ),
        vol.Optional("kind", description="granted, denied, door, alarm, exception, operation or other"): vol.In(_KINDS),
    }
)
DOOR_BODY = vol.Schema({vol.Required("command"): vol.In(list(DOOR_COMMANDS))})
CLAIM_BODY = vol.Schema(
    {
        vol.Required("serial"): vol.All(str, vol.Strip, vol.Length(min=1, max=64)),
        vol.Optional("name"): vol.All(str, vol.Strip, vol.Length(min=1, max=255)),
        vol.Optional("tenant_id", description="platform administrators: the tenant to claim for"): str,
    }
)
GATEWAY_DEVICE_BODY = vol.Schema(
    {
        vol.Required("ehome_id"): vol.All(str, vol.Strip, vol.Length(min=1, max=64)),
        vol.Required("key"): vol.All(str, vol.Length(min=1, max=64)),
        vol.Optional("name"): vol.All(str, vol.Strip, vol.Length(min=1, max=64)),
        vol.Optional("dev_type", default="AccessControl"): vol.In(["AccessControl", "encodingDev"]),
    }
)


def _running(request: web.Request) -> HikDevice:
    """The connected device of the path, if the caller sees it: 404 otherwise, 409 when it is not connected."""
    hub = hub_of(request)
    device = views.scope_device(scope_of(request), request.match_info["serial"])
    running = views.followed(hub, device)
    if running is None or not running.available:
        raise ApiError(409, "device_offline", f"{device.name} is not connected")
    return running


def _device_error(device: HikDevice, error: IsapiError) -> ApiError:
    if isinstance(error, IsapiConnectionError):
        return ApiError(504, "device_unreachable", f"{device.name} did not answer: {error}")
    if isinstance(error, IsapiAuthError):
        return ApiError(502, "device_auth_failed", f"{device.name} refused the hub's credentials")
    return ApiError(502, "device_refused", f"{device.name} refused: {error}")


# ----------------------------------------------------------------------------------------------------- devices


@routes.api_route("GET", "/api/hikvision/devices", summary="The caller's Hikvision devices and how they are reached")
async def list_devices(request: web.Request) -> web.Response:
    scope = scope_of(request)
    return json_response(await views.device_views(hub_of(request), views.scope_devices(scope)))


@routes.api_route("GET", "/api/hikvision/devices/{serial}", summary="A Hikvision device: facts, health, doors")
async def get_device(request: web.Request) -> web.Response:
    scope = scope_of(request)
    device = views.scope_device(scope, request.match_info["serial"])
    (view,) = await views.device_views(hub_of(request), [device])
    return json_response(view)


@routes.api_route(
    "POST",
    "/api/hikvision/claim",
    role=Role.ADMIN,
    summary="Claim a Hikvision device by its serial number",
    body=CLAIM_BODY,
    status=201,
)
async def claim(request: web.Request) -> web.Response:
    """PENDING until the device answers (a gateway sync or its own config entry), then ACTIVE; 200 when the
    tenant owns it already, 409 when another tenant does."""
    body, scope, hub = body_of(request), scope_of(request), hub_of(request)
    tenant_id = acting_tenant(scope, body.get("tenant_id"))
    existing = hub.devices.get_by_serial(MANUFACTURER, body["serial"])
    if existing is not None and existing.tenant_id == tenant_id:
        return json_response(views.device_view(hub, existing))
    device = await hub.devices.claim(tenant_id, MANUFACTURER, body["serial"], body.get("name"))
    await audit(request, "device.claim", target=device.id, tenant_id=tenant_id,
                details={"manufacturer": MANUFACTURER, "serial_number": device.serial_number})  # fmt: skip
    return json_response(views.device_view(hub, device), status=201)


@routes.api_route(
    "POST",
    "/api/hikvision/devices/{serial}/doors/{door}",
    role=Role.OPERATOR,
    summary="Open, close, hold open or hold closed a door of an access terminal",
    body=DOOR_BODY,
)
async def door_command(request: web.Request) -> web.Response:
    """``command``: ``open`` (momentarily), ``close``, ``alwaysOpen``, ``alwaysClose``."""
    running = _running(request)
    try:
        door = int(request.match_info["door"])
    except ValueError:
        raise ApiError(400, "invalid_data", "the door is a number", {"door": "expected a number"}) from None
    if door < 1 or (running.locks and door not in running.locks):
        raise ApiError(404, "door_not_found", f"{running.name} has no door {door}")
    command = body_of(request)["command"]
    await audit(request, "hikvision.door", target=running.serial, tenant_id=running.tenant_id,
                details={"door": door, "command": command})  # fmt: skip
    try:
        await running.door(door, command)
    except IsapiError as error:
        raise _device_error(running, error) from None
    lock = running.locks.get(door)
    return json_response({"serial": running.serial, "door": door, "command": command,
                          "state": lock.state if lock is not None else None})  # fmt: skip


@routes.api_route(
    "GET",
    "/api/hikvision/devices/{serial}/events",
    summary="A device's stored access records, newest first",
    query=EVENTS_QUERY,
)
async def device_events(request: web.Request) -> web.Response:
    """Page back with ``before_id``; ``time`` is the device's own clock (ISO with offset), ``source`` says how the
    record arrived (stream, push, gateway, backfill)."""
    scope = scope_of(request)
    device = views.scope_device(scope, request.match_info["serial"])
    events = await views.access_events(hub_of(request), scope, [device.serial_number], **_filters(query_of(request)))
    return json_response(events)


@routes.api_route(
    "GET", "/api/hikvision/events", summary="Access records of every device the caller sees", query=EVENTS_QUERY
)
async def all_events(request: web.Request) -> web.Response:
    scope = scope_of(request)
    return json_response(await views.access_events(hub_of(request), scope, None, **_filters(query_of(request))))


def _filters(query: dict[str, Any]) -> dict[str, Any]:
    filters: dict[str, Any] = {"limit": query["limit"], "before_id": query.get("before_id")}
    if "kind" in query:
        filters["kinds"] = [query["kind"]]
    return filters


@routes.api_route(
    "POST",
    "/api/hikvision/devices/{serial}/backfill",
    role=Role.OPERATOR,
    summary="Read a device's access history back from the last stored record",
)
async def backfill(request: web.Request) -> web.Response:
    running = _running(request)
    try:
        new = await running.backfill()
    except IsapiError as error:
        raise _device_error(running, error) from None
    return json_response({"serial": running.serial, "new_records": new})


# ------------------------------------------------------------------------------------------------------ people


@routes.api_route(
    "GET", "/api/hikvision/devices/{serial}/people", role=Role.ADMIN, summary="People enrolled on an access terminal"
)
async def list_people(request: web.Request) -> web.Response:
    """Read live from the terminal (users, their cards, whether a face is enrolled)."""
    running = _running(request)
    try:
        return json_response(await pull_users(running))
    except IsapiError as error:
        raise _device_error(running, error) from None


@routes.api_route(
    "POST",
    "/api/hikvision/devices/{serial}/people",
    role=Role.ADMIN,
    summary="Add or update a person (cards, face) on an access terminal",
    body=PERSON_SCHEMA,
    max_body=512 * 1024,
)
async def add_person(request: web.Request) -> web.Response:
    running = _running(request)
    person = body_of(request)
    await audit(request, "hikvision.person.push", target=running.serial, tenant_id=running.tenant_id,
                details={"employee_no": person["employee_no"], "cards": len(person["cards"]),
                         "face": "face" in person})  # fmt: skip
    try:
        return json_response(await push_person(running, person))
    except IsapiError as error:
        raise _device_error(running, error) from None


@routes.api_route(
    "DELETE",
    "/api/hikvision/devices/{serial}/people/{employee_no}",
    role=Role.ADMIN,
    summary="Remove a person (with cards and face) from an access terminal",
)
async def remove_person(request: web.Request) -> web.Response:
    running = _running(request)
    try:
        employee_no = EMPLOYEE_NO(request.match_info["employee_no"])
    except vol.Invalid as error:
        raise ApiError(400, "invalid_data", str(error), {"employee_no": str(error)}) from None
    await audit(request, "hikvision.person.delete", target=running.serial, tenant_id=running.tenant_id,
                details={"employee_no": employee_no})  # fmt: skip
    try:
        await delete_person(running, employee_no)
    except IsapiError as error:
        raise _device_error(running, error) from None
    return json_response({"serial": running.serial, "employee_no": employee_no, "deleted": True})


# ---------------------------------------------------------------------------------------------------- gateways


@routes.api_route("GET", "/api/hikvision/gateways", summary="The Hik Device Gateways and the caller's devices on them")
async def list_gateways(request: web.Request) -> web.Response:
    return json_response(views.gateway_views(hub_of(request), scope_of(request)))


def _gateway(request: web.Request) -> Any:
    manager = manager_of(hub_of(request))
    name = request.match_info["name"]
    gateway = manager.gateways.get(name) if manager is not None else None
    if gateway is None:
        raise ApiError(404, "gateway_not_found", f"no gateway named {name}")
    return gateway


@routes.api_route(
    "POST", "/api/hikvision/gateways/{name}/sync", role=Role.OPERATOR, summary="Sync a gateway's device list now"
)
async def sync_gateway(request: web.Request) -> web.Response:
    gateway = _gateway(request)
    await gateway.sync_now()
    (view,) = [view for view in views.gateway_views(hub_of(request), scope_of(request)) if view["name"] == gateway.name]
    return json_response(view)


@routes.api_route(
    "POST",
    "/api/hikvision/gateways/{name}/devices",
    platform_admin=True,
    summary="Register an ISUP 5.0 device with a gateway (its EhomeID and key)",
    body=GATEWAY_DEVICE_BODY,
    status=201,
)
async def add_gateway_device(request: web.Request) -> web.Response:
    """The device appears once it registers with that EhomeID and key; a tenant then claims it by serial."""
    gateway = _gateway(request)
    body = body_of(request)
    try:
        dev_index = await gateway.add_device(body["ehome_id"], body["key"], body.get("name") or body["ehome_id"],
                                             body["dev_type"])  # fmt: skip
    except IsapiError as error:
        raise ApiError(502, "gateway_refused", f"gateway {gateway.name}: {error}") from None
    await audit(request, "hikvision.gateway.add_device", target=gateway.name,
                details={"ehome_id": body["ehome_id"], "dev_index": dev_index})  # fmt: skip
    return json_response({"gateway": gateway.name, "dev_index": dev_index}, status=201)


@hookimpl
def http_routes(hub: Hub) -> list[Any]:
    """The REST declarations (roles, schemas, OpenAPI) and the two public receivers (push, webhook)."""
    return [*routes, *receiver_routes()]
