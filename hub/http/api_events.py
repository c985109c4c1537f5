"""Recorded events (access granted, person detected, device offline...) and their acknowledgement.

Read from the recorder's ``events`` table, newest first, filtered to the caller's tenant by ``tenant_filter``.
An operator acknowledges an event once (an alarm seen, a refused access checked); the first one stands.
"""

from __future__ import annotations

import voluptuous as vol
from aiohttp import web

from hub.auth.scope import NotFound, Role
from hub.http import audit, hub_of, json_response, scope_of
from hub.http.params import boolean, limit, timestamp
from hub.http.routing import ApiRoutes, query_of
from hub.store.history import acknowledge_event, event_record, event_records

routes = ApiRoutes("events")

EVENTS_QUERY = vol.Schema(
    {
        vol.Optional("type", description="event type, e.g. access_granted"): str,
        vol.Optional("device_id"): str,
        vol.Optional("start"): timestamp,
        vol.Optional("end"): timestamp,
        vol.Optional("acknowledged"): boolean,
        vol.Optional("limit", default=100): limit(1000),
    }
)


@routes.api_route("GET", "/api/events", summary="Recorded events, newest first", query=EVENTS_QUERY)
async def get_events(request: web.Request) -> web.Response:
    query = query_of(request)
    records = await event_records(
        hub_of(request).database,
        event_type=query.get("type"),
        device_id=query.get("device_id"),
        start=query.get("start"),
        end=query.get("end"),
        acknowledged=query.get("acknowledged"),
        tenant_id=scope_of(request).tenant_filter,
        limit=query["limit"],
    )
    return json_response([record.as_dict() for record in records])


@routes.api_route(
    "POST", "/api/events/{event_id}/acknowledge", role=Role.OPERATOR, summary="Acknowledge a recorded event"
)
async def acknowledge(request: web.Request) -> web.Response:
    """Answers the event with who acknowledged it and when; acknowledging again changes nothing."""
    scope = scope_of(request)
    text = request.match_info["event_id"]
    database = hub_of(request).database
    record = await event_record(database, int(text)) if text.isdigit() and len(text) < 19 else None
    if record is None or not scope.event_visible(record.event):
        raise NotFound("event", text)
    if record.acknowledged_at is None:
        record = await acknowledge_event(database, record.id, scope.caller.user_id) or record
        await audit(request, "event.acknowledge", target=str(record.id), tenant_id=record.tenant_id,
                    details={"event_type": record.event.event_type})  # fmt: skip
    return json_response(record.as_dict())
