"""The events page (``/events``): recorded access, detection and other events of the tenant, filtered by type,
device, time range and acknowledgement, with an acknowledge button for operators; events.js adds new ones live
(``subscribe_events``).

Events are read with the REST API's own query (``hub.store.history.event_records``) and the scope's tenant filter.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from hub.auth.scope import TenantScope
from hub.http.pages.rendering import Page, Rendered, page_handler
from hub.store.history import RecordedEvent, event_records
from hub.store.models import EventRow

PAGE_SIZE = 100
#: The time-range filter: key -> seconds back from now (None: everything recorded).
RANGES: dict[str, float | None] = {"1h": 3600.0, "24h": 86400.0, "7d": 7 * 86400.0, "30d": 30 * 86400.0, "all": None}
DEFAULT_RANGE = "7d"
#: Event types that describe the hub's own bookkeeping more than what happened on site: listed last.
FIRST_TYPES = ("access", "detection", "device_health_changed")


@dataclass(frozen=True, slots=True)
class EventFilters:
    event_type: str = ""
    device_id: str = ""
    range: str = DEFAULT_RANGE
    acknowledged: str = ""  # "", "yes", "no"

    @classmethod
    def from_query(cls, query: Any) -> EventFilters:
        wanted = query.get("range", DEFAULT_RANGE)
        acknowledged = query.get("acknowledged", "")
        return cls(
            event_type=query.get("type", "")[:64],
            device_id=query.get("device", "")[:32],
            range=wanted if wanted in RANGES else DEFAULT_RANGE,
            acknowledged=acknowledged if acknowledged in ("yes", "no") else "",
        )

    def since(self, now: float) -> float | None:
        seconds = RANGES[self.range]
        return None if seconds is None else now - seconds


async def recorded_types(scope: TenantScope) -> list[str]:
    """The event types the tenant has recorded (for the type filter): site events first."""
    statement = select(func.distinct(EventRow.event_type))
    if (tenant_id := scope.tenant_filter) is not None:
        statement = statement.where(EventRow.tenant_id == tenant_id)
    async with scope.hub.database.session() as session:
        found = set((await session.scalars(statement)).all())
    found.update(FIRST_TYPES)
    return sorted(found, key=lambda name: (FIRST_TYPES.index(name) if name in FIRST_TYPES else len(FIRST_TYPES), name))


async def recorded_events(scope: TenantScope, filters: EventFilters, limit: int = PAGE_SIZE) -> list[RecordedEvent]:
    """The newest recorded events of the caller's tenant that pass the filters."""
    return await event_records(
        scope.hub.database,
        event_type=filters.event_type or None,
        device_id=filters.device_id or None,
        start=filters.since(time.time()),
        acknowledged={"yes": True, "no": False}.get(filters.acknowledged),
        tenant_id=scope.tenant_filter,
        limit=limit,
    )


@page_handler(nav="/events")
async def events(request: web.Request, page: Page) -> Rendered:
    filters = EventFilters.from_query(request.query)
    scope = page.scope
    devices = {device.id: device for device in scope.devices()}
    users = {user.id: user.name or user.username for user in page.hub.auth.users(tenant_id=scope.tenant_filter)}
    return Rendered(
        "events.html",
        {
            "title": page.t("events.title"),
            "events": await recorded_events(scope, filters),
            "types": await recorded_types(scope),
            "filters": filters,
            "ranges": list(RANGES),
            "devices": devices,
            "users": users,
            "device_names_json": {device_id: device.name for device_id, device in devices.items()},
        },
    )
