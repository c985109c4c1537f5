"""Services for automations: ``stations.add_time``, ``stations.terminate`` and ``stations.warn``.

A call names a session (``session_id``) or a station: ``station`` (its name, its id, or one of its entity ids)
or a target ``entity_id`` (one of the station's sensors). A call with a tenant in its context (an automation of
that tenant, a user through the API) only reaches that tenant's stations and sessions: another tenant's are
"not found", exactly like absent ones. The audit log names the caller (user id) or ``automation``.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from hub.auth.scope import NotFound
from hub.core import Hub, ServiceCall
from hub.exceptions import ServiceValidationError

from .const import ACTOR_AUTOMATION, DOMAIN, MAX_ADD_MINUTES
from .manager import StationManager
from .schema import whole_minutes
from .store import StationRecord

SERVICE_ADD_TIME = "add_time"
SERVICE_TERMINATE = "terminate"
SERVICE_WARN = "warn"

_TARGET: dict[Any, Any] = {
    vol.Optional("session_id"): str,
    vol.Optional("station"): vol.All(str, vol.Length(min=1, max=255)),
}
ADD_TIME_SCHEMA = vol.Schema({**_TARGET, vol.Required("minutes"): whole_minutes(1, MAX_ADD_MINUTES)})
TERMINATE_SCHEMA = vol.Schema(_TARGET)
WARN_SCHEMA = vol.Schema(
    {
        vol.Optional("station"): vol.All(str, vol.Length(min=1, max=255)),
        vol.Required("message"): vol.All(str, vol.Strip, vol.Length(min=1, max=500)),
    }
)


def actor_of(call: ServiceCall) -> str:
    user_id = call.context.user_id if call.context is not None else None
    return user_id or ACTOR_AUTOMATION


def _tenant(call: ServiceCall) -> str | None:
    return call.context.tenant_id if call.context is not None else None


def resolve_station(manager: StationManager, call: ServiceCall, *, required: bool = True) -> StationRecord | None:
    """The station a call names (``station`` in data, else a target entity), inside the caller's tenant."""
    tenant_id = _tenant(call)
    wanted: str | None = call.data.get("station")
    candidates: list[StationRecord] = []
    if wanted is not None:
        by_entity = manager.station_by_entity(wanted) if "." in wanted else None
        by_id = manager.station(wanted)
        if by_entity is not None:
            candidates = [by_entity]
        elif by_id is not None:
            candidates = [by_id]
        else:
            candidates = [s for s in manager.stations(tenant_id) if s.name.lower() == wanted.strip().lower()]
    else:
        for entity_id in call.entity_ids:
            station = manager.station_by_entity(entity_id)
            if station is None:
                raise ServiceValidationError(DOMAIN, call.service, {"entity_id": f"{entity_id} is not a station's"})
            candidates.append(station)
    candidates = [station for station in candidates if tenant_id is None or station.tenant_id == tenant_id]
    unique = {station.id: station for station in candidates}
    if not unique:
        if wanted is not None:
            raise NotFound("station", wanted)
        if required:
            raise ServiceValidationError(DOMAIN, call.service, {"station": "required: name a station or session_id"})
        return None
    if len(unique) > 1:
        raise ServiceValidationError(DOMAIN, call.service, {"station": "names several stations: use the station id"})
    return next(iter(unique.values()))


async def resolve_session(manager: StationManager, call: ServiceCall) -> str:
    """The session a call names: ``session_id`` (in the caller's tenant), else the station's active one."""
    tenant_id = _tenant(call)
    session_id: str | None = call.data.get("session_id")
    if session_id is not None:
        session = await manager.store.session(session_id)
        if session is None or (tenant_id is not None and session.tenant_id != tenant_id):
            raise NotFound("session", session_id)
        return session.id
    station = resolve_station(manager, call)
    assert station is not None
    active = manager.active_session_id(station.id)
    if active is None:
        raise ServiceValidationError(DOMAIN, call.service, {"station": f"{station.name} has no active session"})
    return active


def async_register_services(hub: Hub, manager: StationManager) -> None:
    async def add_time(call: ServiceCall) -> dict[str, Any]:
        session_id = await resolve_session(manager, call)
        view = await manager.add_time(session_id, call.data["minutes"], actor=actor_of(call))
        return view.as_dict(with_code=False)

    async def terminate(call: ServiceCall) -> dict[str, Any]:
        session_id = await resolve_session(manager, call)
        view = await manager.terminate(session_id, actor=actor_of(call))
        return view.as_dict(with_code=False)

    async def warn(call: ServiceCall) -> dict[str, Any]:
        station = resolve_station(manager, call)
        assert station is not None
        delivered = await manager.warn(station.id, call.data["message"], actor=actor_of(call))
        return {"station_id": station.id, "delivered": delivered}

    hub.services.register(
        DOMAIN,
        SERVICE_ADD_TIME,
        add_time,
        ADD_TIME_SCHEMA,
        description="Add 1 to 720 minutes to a station's session (session_id or station); 24 h at most in all",
    )
    hub.services.register(
        DOMAIN,
        SERVICE_TERMINATE,
        terminate,
        TERMINATE_SCHEMA,
        description="End a station's session now (session_id or station)",
    )
    hub.services.register(
        DOMAIN, SERVICE_WARN, warn, WARN_SCHEMA, description="Show a message on a station (its agent's warn)"
    )


def async_remove_services(hub: Hub) -> None:
    for service in (SERVICE_ADD_TIME, SERVICE_TERMINATE, SERVICE_WARN):
        hub.services.remove(DOMAIN, service)
