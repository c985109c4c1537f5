"""States, their recorded history, and the entity registry, as the caller's tenant sees them.

Shapes follow Home Assistant's REST API (``/api/states``, ``/api/history``) so its clients and habits carry over.
``GET /api/states`` is the hottest route of the API: it serialises the list once, from each state's cached JSON.
"""

from __future__ import annotations

import dataclasses
import time

import voluptuous as vol
from aiohttp import web

from hub.core import State, valid_entity_id
from hub.exceptions import InvalidEntityId
from hub.http import dumps, hub_of, json_response, scope_of
from hub.http.errors import ApiError
from hub.http.params import timestamp
from hub.http.routing import ApiRoutes, query_of
from hub.store.history import state_history

DEFAULT_HISTORY_PERIOD = 24 * 3600.0

routes = ApiRoutes("states")

HISTORY_QUERY = vol.Schema(
    {
        vol.Optional("start", description="from (default: 24 h before end)"): timestamp,
        vol.Optional("end", description="until (default: now)"): timestamp,
    }
)


class StateJsonCache:
    """Each state's JSON text, made once per State object: states are immutable, so identity is freshness."""

    __slots__ = ("_texts",)

    def __init__(self) -> None:
        self._texts: dict[str, tuple[State, str]] = {}

    def text(self, state: State) -> str:
        cached = self._texts.get(state.entity_id)
        if cached is not None and cached[0] is state:
            return cached[1]
        text = dumps(state.as_dict())
        self._texts[state.entity_id] = (state, text)
        return text

    def array(self, states: list[State]) -> str:
        if len(self._texts) > 2 * len(states) + 1024:  # entities were removed: forget them now and then
            self._texts.clear()
        return "[" + ",".join([self.text(state) for state in states]) + "]"


STATE_JSON_KEY = web.AppKey("state_json", StateJsonCache)


def setup(app: web.Application) -> None:
    app[STATE_JSON_KEY] = StateJsonCache()


def _state_json(request: web.Request) -> StateJsonCache:
    return request.app[STATE_JSON_KEY]


@routes.api_route("GET", "/api/states", summary="Every state the caller may see, sorted by entity id")
async def get_states(request: web.Request) -> web.Response:
    """The current state of each entity of the caller's tenant (all tenants for platform administrators)."""
    states = sorted(scope_of(request).states(), key=_entity_id)
    return web.Response(text=_state_json(request).array(states), content_type="application/json")


def _entity_id(state: State) -> str:
    return state.entity_id


@routes.api_route("GET", "/api/states/{entity_id}", summary="One entity's current state")
async def get_state(request: web.Request) -> web.Response:
    state = scope_of(request).state(request.match_info["entity_id"])
    return web.Response(text=_state_json(request).text(state), content_type="application/json")


@routes.api_route("GET", "/api/history/{entity_id}", summary="Recorded states of one entity", query=HISTORY_QUERY)
async def get_history(request: web.Request) -> web.Response:
    """Recorded states of one entity, oldest first, between ``start`` and ``end``; only the caller's tenant's."""
    entity_id = request.match_info["entity_id"]
    if not valid_entity_id(entity_id):
        raise InvalidEntityId(entity_id)
    query = query_of(request)
    end = query.get("end", time.time())
    start = query.get("start", end - DEFAULT_HISTORY_PERIOD)
    if start > end:
        raise ApiError(400, "invalid_query", "start is after end", {"start": "must not be after end"})
    scope = scope_of(request)
    history = await state_history(hub_of(request).database, entity_id, start, end, tenant_id=scope.tenant_filter)
    return json_response([state.as_dict() for state in history])


@routes.api_route("GET", "/api/entities", summary="Entity registry entries", tags=["entities"])
async def get_entities(request: web.Request) -> web.Response:
    """Registry entries: each entity's stable id, platform, device and config entry."""
    scope = scope_of(request)
    entries = hub_of(request).entities.all(tenant_id=scope.tenant_filter)
    return json_response([dataclasses.asdict(entry) for entry in sorted(entries, key=lambda entry: entry.entity_id)])
