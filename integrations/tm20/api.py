"""The TM20 REST API: terminals (list, detail, rename, commands, users, logs, who is connected) and people.

Declared with ``ApiRoutes`` so the hub enforces each route's role, validates bodies and queries, and lists them
in ``/api/openapi.json``. Every lookup goes through the caller's ``TenantScope`` (``views.terminal_device``):
another tenant's terminal, person or logs answer 404 exactly like absent ones. Commands go through
``TerminalManager.run_command``, the function the ``tm20.<command>`` services use too; destructive ones need
an administrator and ``params.confirm: true``, and every command is written to the audit log.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

import voluptuous as vol
from aiohttp import web

from hub.auth.scope import NotFound, Role
from hub.core import Hub
from hub.hookspecs import hookimpl
from hub.http import audit, hub_of, json_response, scope_of
from hub.http.errors import ApiError
from hub.http.params import acting_tenant, limit, timestamp
from hub.http.routing import ApiRoutes, body_of, query_of

from . import views
from .const import DESTRUCTIVE_COMMANDS
from .manager import TerminalManager
from .services import COMMANDS
from .session import CommandFailed, CommandTimeout, SessionClosed

routes = ApiRoutes("tm20")


def _manager(hub: Hub) -> TerminalManager:
    manager = views.manager_of(hub)
    if manager is None:
        raise ApiError(503, "tm20_not_configured", "the TM20 endpoint is not configured (no tm20: section)")
    return manager


def _time_zone(value: Any) -> str:
    try:
        zoneinfo.ZoneInfo(str(value))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise vol.Invalid("expected an IANA time zone such as Europe/Paris") from None
    return str(value)


# --------------------------------------------------------------------------------------------------- terminals


@routes.api_route("GET", "/api/terminals", summary="The caller's TM20 terminals, with their connection status")
async def list_terminals(request: web.Request) -> web.Response:
    scope = scope_of(request)
    terminals = await views.terminal_views(hub_of(request), views.scope_terminals(scope))
    return json_response([terminal.as_dict() for terminal in terminals])


@routes.api_route("GET", "/api/terminals/connected", summary="The caller's TM20 terminals connected right now")
async def connected_terminals(request: web.Request) -> web.Response:
    scope = scope_of(request)
    terminals = await views.terminal_views(hub_of(request), views.scope_terminals(scope))
    return json_response([terminal.as_dict(detail=True) for terminal in terminals if terminal.connected])


@routes.api_route("GET", "/api/terminals/{sn}", summary="A TM20 terminal: registration, devinfo, connection")
async def get_terminal(request: web.Request) -> web.Response:
    scope = scope_of(request)
    device = views.terminal_device(scope, request.match_info["sn"])
    (terminal,) = await views.terminal_views(hub_of(request), [device])
    return json_response(terminal.as_dict(detail=True))


TERMINAL_PATCH = vol.Schema(
    {
        vol.Optional("name"): vol.All(str, vol.Strip, vol.Length(min=1, max=255)),
        vol.Optional("time_zone", description="IANA zone of the terminal's clock (logs, cloudtime)"): _time_zone,
    }
)


@routes.api_route(
    "PATCH",
    "/api/terminals/{sn}",
    role=Role.ADMIN,
    summary="Rename a terminal or set the time zone its clock runs in",
    body=TERMINAL_PATCH,
)
async def patch_terminal(request: web.Request) -> web.Response:
    hub, scope, body = hub_of(request), scope_of(request), body_of(request)
    device = views.terminal_device(scope, request.match_info["sn"])
    if "name" in body:
        device = await hub.devices.rename(device.id, body["name"])
    if "time_zone" in body:
        await _manager(hub).set_time_zone(device.serial_number, body["time_zone"])
    await audit(request, "tm20.terminal.update", target=device.serial_number, tenant_id=device.tenant_id,
                details=body)  # fmt: skip
    (terminal,) = await views.terminal_views(hub, [device])
    return json_response(terminal.as_dict(detail=True))


COMMAND_BODY = vol.Schema(
    {
        vol.Required("command", description="a server command of the TM20 protocol"): vol.In(sorted(COMMANDS)),
        vol.Optional("params", default=dict): dict,
    }
)


@routes.api_route(
    "POST",
    "/api/terminals/{sn}/command",
    role=Role.OPERATOR,
    summary="Send a command to a terminal and answer its reply",
    body=COMMAND_BODY,
)
async def run_command(request: web.Request) -> web.Response:
    """Destructive commands (cleanuser, initsys, cleanlog, cleanadmin) need an administrator and
    ``params.confirm: true``. 409 when the terminal is not connected, 504 when it does not answer in time,
    502 when it answers ``result: false`` (its ``reason`` is in the message)."""
    hub, scope, body = hub_of(request), scope_of(request), body_of(request)
    device = views.terminal_device(scope, request.match_info["sn"])
    command, params = body["command"], dict(body["params"])
    if command in DESTRUCTIVE_COMMANDS:
        scope.require(Role.ADMIN)
        if params.get("confirm") is not True:
            raise ApiError(400, "confirmation_required", f"{command} erases data on the terminal: send confirm: true",
                           {"params.confirm": "required: true"})  # fmt: skip
    sn = device.serial_number
    await audit(request, "tm20.command", target=sn, tenant_id=device.tenant_id,
                details={"command": command, "params": sorted(params)})  # fmt: skip
    try:
        reply = await _manager(hub).run_command(sn, command, params)
    except CommandTimeout:
        raise ApiError(504, "terminal_timeout", f"terminal {sn} did not answer {command} in time") from None
    except CommandFailed as error:
        raise ApiError(502, "terminal_refused", f"terminal {sn} refused {command}: {error}") from None
    except SessionClosed:
        raise ApiError(409, "terminal_offline", f"terminal {sn} is not connected") from None
    return json_response({"sn": sn, "command": command, "reply": reply})


@routes.api_route("GET", "/api/terminals/{sn}/users", summary="Users enrolled on a terminal, and the tenant's people")
async def terminal_users(request: web.Request) -> web.Response:
    """``users``: who the terminal holds, from the last pull (``tm20.pull_users``) or ``senduser``; ``people``:
    the tenant's people, which the hub pushes to every terminal of the tenant."""
    hub, scope = hub_of(request), scope_of(request)
    device = views.terminal_device(scope, request.match_info["sn"])
    owner = device.tenant_id
    people = await views.tenant_people(hub, owner) if owner is not None else []
    return json_response(
        {"sn": device.serial_number, "users": await views.terminal_users(hub, device.serial_number), "people": people}
    )


LOGS_QUERY = vol.Schema(
    {
        vol.Optional("enrollid"): vol.All(vol.Coerce(int), vol.Range(min=0)),
        vol.Optional("start"): timestamp,
        vol.Optional("end"): timestamp,
        vol.Optional("before_id", description="the smallest id of the previous page"): vol.All(
            vol.Coerce(int), vol.Range(min=1)
        ),
        vol.Optional("limit", default=100): limit(views.MAX_LOGS),
    }
)


@routes.api_route(
    "GET", "/api/terminals/{sn}/logs", summary="A terminal's attendance and door logs, newest first", query=LOGS_QUERY
)
async def terminal_logs(request: web.Request) -> web.Response:
    """Page back with ``before_id`` (the last ``id`` you received). ``time`` is the terminal's own clock text,
    ``timestamp`` the same moment in epoch seconds; ``raw`` is the record as the terminal sent it."""
    scope, query = scope_of(request), query_of(request)
    device = views.terminal_device(scope, request.match_info["sn"])
    logs = await views.terminal_logs(hub_of(request), scope, device.serial_number, **query)
    return json_response(logs)


# ------------------------------------------------------------------------------------------------------ people

_CREDENTIAL = vol.Schema(
    {
        vol.Required("backupnum", description="0-9 fingerprint, 10 password, 11 card, 20-27 face, 50 photo"): vol.All(
            int, vol.Range(min=0, max=99)
        ),
        vol.Required("record"): vol.Any(str, int),
    }
)
PERSON_FIELDS: dict[Any, Any] = {
    vol.Optional("name"): vol.All(str, vol.Strip, vol.Length(min=1, max=255)),
    vol.Optional("admin"): vol.In([0, 1, 2]),
    vol.Optional("enabled"): bool,
    vol.Optional("credentials", description="replace these slots; other slots are kept"): [_CREDENTIAL],
}
PERSON_CREATE = vol.Schema(
    {
        vol.Required("enrollid"): vol.All(int, vol.Range(min=1, max=999_999_999_999)),
        **PERSON_FIELDS,
        vol.Optional("tenant_id", description="platform administrators: the person's tenant"): str,
    }
)
PERSON_PATCH = vol.Schema(PERSON_FIELDS)


async def _person(request: web.Request) -> dict[str, Any]:
    """The person of the path if the caller sees its tenant; NotFound otherwise."""
    scope = scope_of(request)
    person_id = request.match_info["person_id"]
    person = await _manager(hub_of(request)).people.get(person_id)
    if person is None or not scope.sees(person["tenant_id"]):
        raise NotFound("person", person_id)
    return person


@routes.api_route("GET", "/api/tm20/people", summary="The tenant's people, known to all of its terminals")
async def list_people(request: web.Request) -> web.Response:
    """Credentials are listed by kind (``backupnum``), never with their templates, card numbers or PINs."""
    return json_response(await views.tenant_people(hub_of(request), scope_of(request)))


@routes.api_route(
    "POST",
    "/api/tm20/people",
    role=Role.ADMIN,
    summary="Add a person and push them to every terminal of the tenant",
    body=PERSON_CREATE,
    status=201,
)
async def create_person(request: web.Request) -> web.Response:
    """Terminals that are offline get the person when they next register (queued commands)."""
    body = dict(body_of(request))
    tenant_id = acting_tenant(scope_of(request), body.pop("tenant_id", None))
    person = views.person_dict(await _manager(hub_of(request)).people.create(tenant_id, **body))
    await audit(request, "tm20.person.create", target=person["id"], tenant_id=tenant_id,
                details={"enrollid": person["enrollid"], "name": person["name"]})  # fmt: skip
    return json_response(person, status=201)


@routes.api_route(
    "PATCH",
    "/api/tm20/people/{person_id}",
    role=Role.ADMIN,
    summary="Change a person and push the change to every terminal of the tenant",
    body=PERSON_PATCH,
)
async def update_person(request: web.Request) -> web.Response:
    body = body_of(request)
    person = await _person(request)
    person = views.person_dict(await _manager(hub_of(request)).people.update(person["id"], **body))
    await audit(request, "tm20.person.update", target=person["id"], tenant_id=person["tenant_id"],
                details={key: value for key, value in body.items() if key != "credentials"})  # fmt: skip
    return json_response(person)


@routes.api_route(
    "DELETE",
    "/api/tm20/people/{person_id}",
    role=Role.ADMIN,
    summary="Remove a person from the tenant and from every terminal of the tenant",
)
async def delete_person(request: web.Request) -> web.Response:
    person = await _person(request)
    await _manager(hub_of(request)).people.delete(person["id"])
    await audit(request, "tm20.person.delete", target=person["id"], tenant_id=person["tenant_id"],
                details={"enrollid": person["enrollid"], "name": person["name"]})  # fmt: skip
    return json_response({"deleted": person["id"]})


@hookimpl
def http_routes(hub: Hub) -> list[Any]:
    """The declarations as they are: the hub mounts them with their roles, schemas and OpenAPI entries."""
    return list(routes)
