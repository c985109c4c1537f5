"""The detection dashboard, added through the ``dashboard_pages`` hook: ``/detection`` (events, filtered, new ones
live), ``/detection/events/{detection_id}`` (snapshot, clip, acknowledge) and ``/detection/stats`` (charts per hour,
label and camera; the machine's load).

Pages render complete on the server through the caller's scope (another tenant's event is the 404 page); the
charts are server-side SVG (``charts.py``), so they read without JavaScript. ``static/events.js`` adds events
as ``detection`` bus events arrive and acknowledges through the REST API; ``static/system.js`` refreshes the
system panel from ``/api/detection/system``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from hub.auth.scope import NotFound, TenantScope
from hub.core import Hub, valid_entity_id
from hub.hookspecs import hookimpl
from hub.http.dashboard import DashboardPages, NavLink, Page, Rendered, page_handler

from .api import event_json, event_of, store_of, system_view
from .charts import bar_chart, hour_chart
from .const import DOMAIN
from .models import DetectionEventRow
from .store import UnknownCursor

HERE = Path(__file__).parent
PAGE_SIZE = 50
#: The time-range filter: key -> seconds back from now (None: everything recorded).
RANGES: dict[str, float | None] = {"1h": 3600.0, "24h": 86400.0, "7d": 7 * 86400.0, "30d": 30 * 86400.0, "all": None}
DEFAULT_RANGE = "7d"
#: The statistics windows: key -> seconds back from now.
STATS_WINDOWS: dict[str, float] = {"24h": 86400.0, "7d": 7 * 86400.0, "30d": 30 * 86400.0}
DEFAULT_WINDOW = "24h"
#: Seconds after an event's end during which its page waits for the clip (post-roll, then the remux).
CLIP_WAIT = 120.0


@dataclass(frozen=True, slots=True)
class EventFilters:
    camera: str = ""
    label: str = ""
    range: str = DEFAULT_RANGE
    acknowledged: str = ""  # "", "yes", "no"
    before: str = ""

    @classmethod
    def from_query(cls, query: Any) -> EventFilters:
        camera = query.get("camera", "")
        wanted = query.get("range", DEFAULT_RANGE)
        acknowledged = query.get("acknowledged", "")
        before = query.get("before", "")
        return cls(
            camera=camera if valid_entity_id(camera) else "",
            label=query.get("label", "")[:64].strip().lower(),
            range=wanted if wanted in RANGES else DEFAULT_RANGE,
            acknowledged=acknowledged if acknowledged in ("yes", "no") else "",
            before=before if len(before) == 32 and before.isalnum() else "",
        )

    def as_dict(self) -> dict[str, Any]:
        return {"camera": self.camera, "label": self.label, "range": self.range,
                "acknowledged": self.acknowledged, "paged": bool(self.before)}  # fmt: skip

    def since(self, now: float) -> float | None:
        seconds = RANGES[self.range]
        return None if seconds is None else now - seconds

    def query(self, **changes: str) -> str:
        """This filter's query string with ``changes`` (the "older" link keeps the filters)."""
        values = {"camera": self.camera, "label": self.label, "range": self.range,
                  "acknowledged": self.acknowledged, "before": self.before, **changes}  # fmt: skip
        return urlencode({key: value for key, value in values.items() if value})


def camera_names(hub: Hub, scope: TenantScope, cameras: list[str]) -> dict[str, str]:
    """Friendly names of the cameras the caller sees (an event's camera may have been removed since)."""
    names: dict[str, str] = {}
    for camera in cameras:
        try:
            names[camera] = scope.state(camera).name
        except NotFound:
            names[camera] = camera
    return names


def _event_view(row: DetectionEventRow, names: dict[str, str]) -> dict[str, Any]:
    view = event_json(row)
    view["camera_name"] = names.get(row.camera, row.camera)
    view["start_ts"] = row.start
    view["acknowledged_ts"] = row.acknowledged_at
    return view


def _users(page: Page) -> dict[str, str]:
    return {user.id: user.name or user.username for user in page.hub.auth.users(tenant_id=page.scope.tenant_filter)}


@page_handler(nav="/detection")
async def events(request: web.Request, page: Page) -> Rendered:
    filters = EventFilters.from_query(request.query)
    scope, store = page.scope, store_of(page.hub)
    tenant_id = scope.tenant_filter
    cameras = sorted(
        set(await store.cameras(tenant_id=tenant_id)) | {state.entity_id for state in scope.states("camera")}
    )
    names = camera_names(page.hub, scope, cameras)
    try:
        rows = await store.query(
            tenant_id=tenant_id,
            camera=filters.camera or None,
            label=filters.label or None,
            since=filters.since(time.time()),
            acknowledged={"yes": True, "no": False}.get(filters.acknowledged),
            limit=PAGE_SIZE,
            before=filters.before or None,
        )
    except UnknownCursor:  # a page link to a deleted event, or another tenant's: nothing older to show
        rows = []
    older = filters.query(before=rows[-1].id) if len(rows) == PAGE_SIZE else None
    return Rendered(
        "detection/events.html",
        {
            "title": page.t("detection.events.title"),
            "events": [_event_view(row, names) for row in rows],
            "filters": filters,
            "ranges": list(RANGES),
            "cameras": names,
            "labels": await store.labels(tenant_id=tenant_id),
            "users": _users(page),
            "older": older,
            "newest": filters.query(before="") if filters.before else None,
            "page_json": _script_json({"cameras": names, "filters": filters.as_dict()}),
        },
    )


@page_handler(nav="/detection")
async def event_detail(request: web.Request, page: Page) -> Rendered:
    row = await event_of(page.hub, page.scope, request.match_info["detection_id"])
    names = camera_names(page.hub, page.scope, [row.camera])
    view = _event_view(row, names)
    return Rendered(
        "detection/event.html",
        {
            "title": f"{row.label} · {view['camera_name']}",
            "event": view,
            "users": _users(page),
            "page_json": _script_json({"event_id": row.id, "clip_pending": _clip_pending(row, time.time())}),
        },
    )


@page_handler(nav="/detection")
async def stats(request: web.Request, page: Page) -> Rendered:
    wanted = request.query.get("window", DEFAULT_WINDOW)
    window = wanted if wanted in STATS_WINDOWS else DEFAULT_WINDOW
    camera = request.query.get("camera", "")
    camera = camera if valid_entity_id(camera) else ""
    scope, store = page.scope, store_of(page.hub)
    now = time.time()
    figures = await store.stats(
        tenant_id=scope.tenant_filter, since=now - STATS_WINDOWS[window], until=now, camera=camera or None
    )
    cameras = sorted(
        set(await store.cameras(tenant_id=scope.tenant_filter)) | {s.entity_id for s in scope.states("camera")}
    )
    names = camera_names(page.hub, scope, cameras)
    system = await system_view(page.hub, scope)
    return Rendered(
        "detection/stats.html",
        {
            "title": page.t("detection.stats.title"),
            "stats": figures,
            "window": window,
            "windows": list(STATS_WINDOWS),
            "camera": camera,
            "cameras": names,
            "hour_chart": hour_chart(figures["hours"], page.t("detection.stats.per_hour")),
            "label_chart": bar_chart(
                [(row["label"], row["count"]) for row in figures["labels"]], page.t("detection.stats.per_label")
            ),
            "camera_chart": bar_chart(
                [(names.get(row["camera"], row["camera"]), row["count"]) for row in figures["cameras"]],
                page.t("detection.stats.per_camera"),
            ),
            "system": system,
            "camera_names": names,
        },
    )


def _clip_pending(row: DetectionEventRow, now: float) -> bool:
    """The clip may still come: the event is open, or ended less than ``CLIP_WAIT`` ago without clip or error."""
    if row.clip_key is not None or row.media_error is not None:
        return False
    return row.end is None or now - row.end < CLIP_WAIT


def _script_json(data: Any) -> str:
    """JSON for a ``<script type="application/json">`` block: names are user input, ``<`` must not close it."""
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


@hookimpl
def dashboard_pages(hub: Hub) -> DashboardPages:
    """The pages, their templates, scripts, strings and the header link (``/detection/stats`` is an exact path
    next to ``/detection/events/{detection_id}``, so nothing shadows it)."""
    return DashboardPages(
        domain=DOMAIN,
        routes=[
            web.get("/detection", events, name="detection_events"),
            web.get("/detection/stats", stats, name="detection_stats"),
            web.get("/detection/events/{detection_id}", event_detail, name="detection_event"),
        ],
        templates=HERE / "templates",
        static=HERE / "static",
        locales=HERE / "locales",
        nav=[NavLink("/detection", "detection.nav.events")],
    )
