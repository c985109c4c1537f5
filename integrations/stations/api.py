"""The stations REST API: visitors, stations (status, agent token), sessions (create -> code, validate, add
time, terminate) and the audit log, all under ``/api/stations``.

Declared with ``ApiRoutes``: the hub enforces each route's role (viewers read, operators write, administrators
delete), validates bodies and queries, and lists the routes in ``/api/openapi.json``. Every lookup goes through
the caller's ``TenantScope``: another tenant's station, visitor, session or log line answers 404 exactly like an
absent one. Without ``stations:`` in configuration.yaml every route answers 404 saying so.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hub.auth.scope import NotFound, Role, TenantScope
from hub.core import Hub
from hub.hookspecs import hookimpl
from hub.http import caller_of, hub_of, json_response, scope_of
from hub.http.errors import ApiError
from hub.http.params import acting_tenant
from hub.http.routing import ApiRoutes, body_of, query_of

from . import schema
from .agent_ws import agent_routes
from .const import INVALID_CODE_MESSAGE, NOT_SET_UP_MESSAGE
from .errors import InvalidCode, SessionFinished, StationUnavailable
from .manager import SessionView, StationManager, iso, manager_of
from .store import LogRecord, StationRecord, VisitorRecord
from .visitors import create_visitor, erase_visitor, update_visitor, visitor_dict

routes = ApiRoutes("stations")


def _manager(request: web.Request) -> StationManager:
    manager = manager_of(hub_of(request))
    if manager is None:
        raise ApiError(404, "not_set_up", NOT_SET_UP_MESSAGE)
    return manager


def actor_of(request: web.Request) -> str:
    """Who the audit log names: the user id, or the API key's name."""
    caller = caller_of(request)
    if caller is None:
        return "anonymous"
    if caller.user_id is not None:
        return caller.user_id
    return f"{caller.via}:{caller.name}" if caller.name else caller.via


def _station(scope: TenantScope, manager: StationManager, station_id: str) -> StationRecord:
    station = manager.station(station_id)
    if station is None or not scope.sees(station.tenant_id):
        raise NotFound("station", station_id)
    return station


async def _visitor(scope: TenantScope, manager: StationManager, visitor_id: str) -> VisitorRecord:
    visitor = await manager.store.visitor(visitor_id)
    if visitor is None or not scope.sees(visitor.tenant_id):
        raise NotFound("visitor", visitor_id)
    return visitor


async def _session(scope: TenantScope, manager: StationManager, session_id: str) -> SessionView:
    view = await manager.session_view(session_id)
    if view is None or not scope.sees(view.tenant_id):
        raise NotFound("session", session_id)
    return view


def _session_dict(scope: TenantScope, view: SessionView) -> dict[str, Any]:
    """Codes are for operators (who hand them out), and only while they can still be used."""
    return view.as_dict(with_code=scope.caller.at_least(Role.OPERATOR) and view.status != "finished")


def _conflict(error: SessionFinished | StationUnavailable) -> ApiError:
    if isinstance(error, SessionFinished):
        return ApiError(409, "already_finished", str(error))
    return ApiError(409, f"station_{error.status}", str(error))


# ---------------------------------------------------------------------------------------------------- visitors


@routes.api_route(
    "GET", "/api/stations/visitors", summary="The tenant's visitors (search with ?q=)", query=schema.VISITORS_QUERY
)
async def list_visitors(request: web.Request) -> web.Response:
    """Erased visitors are left out of the list (``GET /api/stations/visitors/{id}`` still shows the stub)."""
    scope, query = scope_of(request), query_of(request)
    visitors = await _manager(request).store.visitors(
        scope.tenant_filter, search=query.get("q"), limit=query["limit"], offset=query["offset"]
    )
    return json_response([visitor_dict(visitor) for visitor in visitors])


@routes.api_route(
    "POST",
    "/api/stations/visitors",
    role=Role.OPERATOR,
    summary="Register a visitor (GDPR consent required: consent true, consent_at)",
    body=schema.VISITOR_CREATE,
    status=201,
)
async def create_visitor_route(request: web.Request) -> web.Response:
    """``photo``: optional base64 JPEG or PNG, at most 512 KiB."""
    body = dict(body_of(request))
    tenant_id = acting_tenant(scope_of(request), body.pop("tenant_id", None))
    visitor = await create_visitor(_manager(request), tenant_id, body, actor=actor_of(request), client=request.remote)
    return json_response(visitor_dict(visitor), status=201)


@routes.api_route("GET", "/api/stations/visitors/{visitor_id}", summary="A visitor")
async def get_visitor(request: web.Request) -> web.Response:
    visitor = await _visitor(scope_of(request), _manager(request), request.match_info["visitor_id"])
    return json_response(visitor_dict(visitor))


@routes.api_route(
    "PUT",
    "/api/stations/visitors/{visitor_id}",
    role=Role.OPERATOR,
    summary="Change a visitor's details or photo (photo: null removes it)",
    body=schema.VISITOR_UPDATE,
)
async def update_visitor_route(request: web.Request) -> web.Response:
    manager = _manager(request)
    visitor = await _visitor(scope_of(request), manager, request.match_info["visitor_id"])
    visitor = await update_visitor(manager, visitor, body_of(request), actor=actor_of(request), client=request.remote)
    return json_response(visitor_dict(visitor))


@routes.api_route(
    "DELETE",
    "/api/stations/visitors/{visitor_id}",
    role=Role.ADMIN,
    summary="Erase a visitor on request (GDPR): personal fields and photo wiped, sessions kept anonymised",
)
async def erase_visitor_route(request: web.Request) -> web.Response:
    manager = _manager(request)
    visitor = await _visitor(scope_of(request), manager, request.match_info["visitor_id"])
    erased, sessions = await erase_visitor(manager, visitor, actor=actor_of(request), client=request.remote)
    manager.forget_visitor(erased.id)
    return json_response({**visitor_dict(erased), "sessions_anonymised": sessions})


@routes.api_route("GET", "/api/stations/visitors/{visitor_id}/photo", summary="A visitor's photo (JPEG or PNG)")
async def visitor_photo(request: web.Request) -> web.Response:
    manager = _manager(request)
    visitor = await _visitor(scope_of(request), manager, request.match_info["visitor_id"])
    photo = await manager.store.visitor_photo(visitor.id)
    if photo is None:
        raise ApiError(404, "photo_not_found", "this visitor has no photo")
    data, content_type = photo
    return web.Response(body=data, content_type=content_type, headers={"Cache-Control": "private, no-store"})


# ---------------------------------------------------------------------------------------------------- stations


@routes.api_route("GET", "/api/stations/stations", summary="The tenant's stations, with live status and session")
async def list_stations(request: web.Request) -> web.Response:
    scope, manager = scope_of(request), _manager(request)
    return json_response([manager.station_dict(station.id) for station in manager.stations(scope.tenant_filter)])


@routes.api_route(
    "POST",
    "/api/stations/stations",
    role=Role.OPERATOR,
    summary="Add a station; the answer holds its agent token, shown this once",
    body=schema.STATION_CREATE,
    status=201,
)
async def create_station(request: web.Request) -> web.Response:
    body = dict(body_of(request))
    tenant_id = acting_tenant(scope_of(request), body.pop("tenant_id", None))
    manager = _manager(request)
    station, token = await manager.create_station(
        tenant_id, body["name"], address=body.get("address"), mac=body.get("mac"), actor=actor_of(request),
        client=request.remote,
    )  # fmt: skip
    return json_response({**manager.station_dict(station.id), "token": token}, status=201)


@routes.api_route("GET", "/api/stations/stations/{station_id}", summary="A station, with live status and session")
async def get_station(request: web.Request) -> web.Response:
    manager = _manager(request)
    station = _station(scope_of(request), manager, request.match_info["station_id"])
    return json_response(manager.station_dict(station.id))


@routes.api_route(
    "PUT",
    "/api/stations/stations/{station_id}",
    role=Role.OPERATOR,
    summary="Rename a station or change its IP or MAC address",
    body=schema.STATION_UPDATE,
)
async def update_station(request: web.Request) -> web.Response:
    manager = _manager(request)
    station = _station(scope_of(request), manager, request.match_info["station_id"])
    await manager.update_station(station.id, actor=actor_of(request), client=request.remote, **body_of(request))
    return json_response(manager.station_dict(station.id))


@routes.api_route(
    "DELETE",
    "/api/stations/stations/{station_id}",
    role=Role.ADMIN,
    summary="Remove a station; its live sessions finish, past sessions and logs stay",
)
async def delete_station(request: web.Request) -> web.Response:
    manager = _manager(request)
    station = _station(scope_of(request), manager, request.match_info["station_id"])
    await manager.delete_station(station.id, actor=actor_of(request), client=request.remote)
    return json_response({"deleted": station.id})


@routes.api_route(
    "PUT",
    "/api/stations/stations/{station_id}/status",
    role=Role.OPERATOR,
    summary="Put a station in maintenance or back in service (busy and offline follow the station)",
    body=schema.STATION_STATUS,
)
async def set_station_status(request: web.Request) -> web.Response:
    manager = _manager(request)
    station = _station(scope_of(request), manager, request.match_info["station_id"])
    await manager.set_status(station.id, body_of(request)["status"], actor=actor_of(request), client=request.remote)
    return json_response(manager.station_dict(station.id))


@routes.api_route(
    "POST",
    "/api/stations/stations/{station_id}/token",
    role=Role.OPERATOR,
    summary="Regenerate a station's agent token (shown this once; the old one stops working)",
)
async def regenerate_token(request: web.Request) -> web.Response:
    manager = _manager(request)
    station = _station(scope_of(request), manager, request.match_info["station_id"])
    token = await manager.regenerate_token(station.id, actor=actor_of(request), client=request.remote)
    return json_response({"id": station.id, "token": token})


# ---------------------------------------------------------------------------------------------------- sessions


@routes.api_route(
    "GET",
    "/api/stations/sessions",
    summary="The tenant's sessions, newest first (?status=, ?station=, ?visitor=)",
    query=schema.SESSIONS_QUERY,
)
async def list_sessions(request: web.Request) -> web.Response:
    scope, query, manager = scope_of(request), query_of(request), _manager(request)
    records = await manager.store.sessions(
        scope.tenant_filter,
        status=query.get("status"),
        station_id=query.get("station"),
        visitor_id=query.get("visitor"),
        limit=query["limit"],
        offset=query["offset"],
    )
    return json_response([_session_dict(scope, view) for view in await manager.session_views(records)])


@routes.api_route(
    "POST",
    "/api/stations/sessions",
    role=Role.OPERATOR,
    summary="Start a session: a waiting session with a fresh 6-character access code",
    body=schema.SESSION_CREATE,
    status=201,
)
async def create_session(request: web.Request) -> web.Response:
    """The timer starts when the code is typed at a station (``station_id``: only that one accepts it)."""
    scope, body = scope_of(request), dict(body_of(request))
    tenant_id = acting_tenant(scope, body.pop("tenant_id", None))
    view = await _manager(request).create_session(
        tenant_id, body["minutes"], station_id=body.get("station_id"), visitor_id=body.get("visitor_id"),
        actor=actor_of(request), client=request.remote,
    )  # fmt: skip
    return json_response(view.as_dict(), status=201)


@routes.api_route(
    "POST",
    "/api/stations/sessions/validate-code",
    role=Role.OPERATOR,
    summary="Validate a code at a station: its session starts there (rate-limited against guessing)",
    body=schema.VALIDATE_CODE,
)
async def validate_code(request: web.Request) -> web.Response:
    """Wrong and expired codes get the same 400; 5 of them in 5 minutes per station or client answer 429 with
    Retry-After. A busy station or one in maintenance answers 409."""
    scope, body, manager = scope_of(request), body_of(request), _manager(request)
    station = _station(scope, manager, body["station_id"])
    try:
        view = await manager.validate_code(
            body["code"], station_id=station.id, client=request.remote or "", actor=actor_of(request)
        )
    except InvalidCode:
        raise ApiError(400, "invalid_code", INVALID_CODE_MESSAGE, {"code": INVALID_CODE_MESSAGE}) from None
    except StationUnavailable as error:
        raise _conflict(error) from None
    return json_response(view.as_dict())


@routes.api_route("GET", "/api/stations/sessions/{session_id}", summary="A session, with its remaining time")
async def get_session(request: web.Request) -> web.Response:
    scope = scope_of(request)
    return json_response(
        _session_dict(scope, await _session(scope, _manager(request), request.match_info["session_id"]))
    )


@routes.api_route(
    "POST",
    "/api/stations/sessions/{session_id}/add-time",
    role=Role.OPERATOR,
    summary="Add 1 to 720 minutes to a session (24 h at most in all)",
    body=schema.ADD_TIME,
)
async def add_time(request: web.Request) -> web.Response:
    scope, manager = scope_of(request), _manager(request)
    view = await _session(scope, manager, request.match_info["session_id"])
    try:
        view = await manager.add_time(
            view.id, body_of(request)["minutes"], actor=actor_of(request), client=request.remote
        )
    except SessionFinished as error:
        raise _conflict(error) from None
    return json_response(_session_dict(scope, view))


@routes.api_route(
    "POST",
    "/api/stations/sessions/{session_id}/terminate",
    role=Role.OPERATOR,
    summary="End a session now (a second time: 409, nothing changes)",
)
async def terminate(request: web.Request) -> web.Response:
    scope, manager = scope_of(request), _manager(request)
    view = await _session(scope, manager, request.match_info["session_id"])
    try:
        view = await manager.terminate(view.id, actor=actor_of(request), client=request.remote)
    except SessionFinished as error:
        raise _conflict(error) from None
    return json_response(_session_dict(scope, view))


# -------------------------------------------------------------------------------------------------------- logs


@routes.api_route(
    "GET",
    "/api/stations/logs",
    summary="The audit log of stations, sessions and visitors, newest first",
    query=schema.LOGS_QUERY,
)
async def list_logs(request: web.Request) -> web.Response:
    """Filter with ``?station=``, ``?session=``, ``?visitor=``, ``?action=``; page back with ``before_id``."""
    scope, query = scope_of(request), query_of(request)
    logs = await _manager(request).store.logs(
        scope.tenant_filter,
        station_id=query.get("station"),
        session_id=query.get("session"),
        visitor_id=query.get("visitor"),
        action=query.get("action"),
        before_id=query.get("before_id"),
        limit=query["limit"],
    )
    return json_response([_log_dict(log) for log in logs])


@routes.api_route("GET", "/api/stations/logs/{log_id}", summary="One audit line")
async def get_log(request: web.Request) -> web.Response:
    scope, log_id = scope_of(request), request.match_info["log_id"]
    log = await _manager(request).store.log(int(log_id)) if log_id.isdigit() and len(log_id) < 19 else None
    if log is None or not scope.sees(log.tenant_id):
        raise NotFound("log", log_id)
    return json_response(_log_dict(log))


def _log_dict(log: LogRecord) -> dict[str, Any]:
    return {**log.as_dict(), "time": iso(log.time)}


@hookimpl
def http_routes(hub: Hub) -> list[Any]:
    """The REST declarations (roles, schemas, OpenAPI) and the agents' WebSocket endpoint."""
    return [*routes, *agent_routes(hub)]
