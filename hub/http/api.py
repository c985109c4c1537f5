"""The JSON REST API under ``/api``: what the hub holds (states, services, devices, integrations, config entries,
health, history) and calling a service.

Shapes follow Home Assistant's REST API where one exists (``/api/states``, ``/api/services``), so its clients and
habits carry over. Handlers stay small: they read the hub and raise hub errors; ``hub.http.errors`` answers.
Everything here is unscoped for now; the tenant layer will filter each list in one place, not per handler.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import time
from collections.abc import Iterable, Mapping
from typing import Any

import voluptuous as vol
from aiohttp import web

from hub.core import Context, Service, valid_entity_id
from hub.exceptions import InvalidEntityId
from hub.http import hub_of, json_response
from hub.http.errors import ApiError, json_object
from hub.store.history import state_history

try:
    VERSION = importlib.metadata.version("gatehouse")
except importlib.metadata.PackageNotFoundError:  # running from a source tree that was never installed
    VERSION = "0.0.0+unknown"

DEFAULT_HISTORY_PERIOD = 24 * 3600.0

routes = web.RouteTableDef()

_ids = vol.Any(str, [str])
SERVICE_CALL_BODY = vol.Schema(
    {
        vol.Optional("target", default=dict): {vol.Optional("entity_id"): _ids, vol.Optional("device_id"): _ids},
        vol.Optional("data", default=dict): {str: object},
    }
)


@routes.get("/api/")
async def api_status(request: web.Request) -> web.Response:
    """Clients check this first to know the API answers (Home Assistant's clients do)."""
    return json_response({"message": "Gatehouse API running", "version": VERSION})


# ------------------------------------------------------------------------------------------------ states


@routes.get("/api/states")
async def get_states(request: web.Request) -> web.Response:
    states = sorted(hub_of(request).states.all(), key=lambda state: state.entity_id)
    return json_response([state.as_dict() for state in states])


@routes.get("/api/states/{entity_id}")
async def get_state(request: web.Request) -> web.Response:
    entity_id = request.match_info["entity_id"]
    state = hub_of(request).states.get(entity_id)
    if state is None:
        raise ApiError(404, "entity_not_found", f"entity {entity_id} not found")
    return json_response(state.as_dict())


@routes.get("/api/history/{entity_id}")
async def get_history(request: web.Request) -> web.Response:
    """Recorded states of one entity, oldest first: ``start`` and ``end`` are ISO 8601 or epoch seconds."""
    entity_id = request.match_info["entity_id"]
    if not valid_entity_id(entity_id):
        raise InvalidEntityId(entity_id)
    now = time.time()
    end = _time_param(request.query, "end", now)
    start = _time_param(request.query, "start", end - DEFAULT_HISTORY_PERIOD)
    if start > end:
        raise ApiError(400, "invalid_query", "start is after end", {"start": "must not be after end"})
    history = await state_history(hub_of(request).database, entity_id, start, end)
    return json_response([state.as_dict() for state in history])


def _time_param(query: Mapping[str, str], name: str, default: float) -> float:
    """Epoch seconds from ``?name=``: a number, or ISO 8601 (a time without an offset is UTC)."""
    text = query.get(name)
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(
            400, "invalid_query", f"{name} is not a time", {name: "expected ISO 8601 or epoch seconds"}
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


# ---------------------------------------------------------------------------------------------- services


@routes.get("/api/services")
async def get_services(request: web.Request) -> web.Response:
    """Every service by domain, with the fields its schema accepts."""
    registry = hub_of(request).services.all()
    return json_response(
        [
            {"domain": domain, "services": {name: _describe(service) for name, service in sorted(services.items())}}
            for domain, services in sorted(registry.items())
        ]
    )


def _describe(service: Service) -> dict[str, Any]:
    schema = service.schema.schema if service.schema is not None else None
    fields: dict[str, dict[str, Any]] = {}
    if isinstance(schema, Mapping):
        for key in schema:
            fields[str(key)] = {
                "required": isinstance(key, vol.Required),
                "description": getattr(key, "description", None) or "",
            }
    return {"description": service.description, "fields": fields}


@routes.post("/api/services/{domain}/{service}")
async def call_service(request: web.Request) -> web.Response:
    """Call a service with ``{"target": {"entity_id": ...}, "data": {...}}``; bad data answers 400 naming fields."""
    body = SERVICE_CALL_BODY(await json_object(request))
    result = await hub_of(request).services.call(
        request.match_info["domain"],
        request.match_info["service"],
        body["data"],
        target=body["target"],
        context=Context(),
    )
    return json_response({"result": result})


# ------------------------------------------------------------------------------ devices and integrations


@routes.get("/api/devices")
async def get_devices(request: web.Request) -> web.Response:
    return json_response(_as_dicts(hub_of(request).devices.all()))


@routes.get("/api/integrations")
async def get_integrations(request: web.Request) -> web.Response:
    """Loaded integrations, and those that failed to load or to mount their routes, with the reason."""
    hub = hub_of(request)
    loaded = sorted(hub.plugins.integrations.values(), key=lambda integration: integration.domain)
    http = getattr(hub, "http", None)
    return json_response(
        {
            "loaded": _as_dicts(loaded),
            "failures": dict(hub.plugins.failures),
            "route_failures": dict(http.route_failures) if http is not None else {},
        }
    )


@routes.get("/api/config_entries")
async def get_config_entries(request: web.Request) -> web.Response:
    entries = sorted(hub_of(request).config_entries.all(), key=lambda entry: (entry.domain, entry.title))
    return json_response(_as_dicts(entries))


@routes.get("/api/health/summary")
async def get_health_summary(request: web.Request) -> web.Response:
    """Device counts per health level and the average uptime, for the overview."""
    return json_response(hub_of(request).health.summary())


def _as_dicts(items: Iterable[Any]) -> list[dict[str, Any]]:
    return [item.as_dict() for item in items]
