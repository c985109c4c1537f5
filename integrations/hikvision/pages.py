"""The Hikvision dashboard pages (the ``dashboard_pages`` hook): ``/hikvision`` (the tenant's devices, claim by
serial, gateway status, recent access events) and ``/hikvision/{serial}`` (one device: facts, door buttons,
its access records live).

Pages render complete on the server through the caller's scope (another tenant's device is the 404 page);
``static/hikvision.js`` then keeps the access records live (``subscribe_events`` on ``access`` and
``hikvision_event``) and calls the REST API for actions (claim, doors, sync).
"""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web

from hub.core import Hub
from hub.hookspecs import hookimpl
from hub.http.dashboard import DashboardPages, NavLink, Page, Rendered, page_handler

from . import views
from .const import DOMAIN
from .manager import manager_of

HERE = Path(__file__).parent
#: Access records shown on a page; older ones are in the API (``before_id``).
RECENT_EVENTS = 50


def _page_json(context: dict[str, object]) -> str:
    return json.dumps(context, ensure_ascii=False).replace("<", "\\u003c")  # names are user input


@page_handler(nav="/hikvision")
async def devices(request: web.Request, page: Page) -> Rendered:
    hub, scope = page.hub, page.scope
    rows = await views.device_views(hub, views.scope_devices(scope))
    events = await views.access_events(hub, scope, None, limit=20)
    return Rendered(
        "hikvision/devices.html",
        {
            "title": page.t("hikvision.devices.title"),
            "devices": rows,
            "online": sum(1 for row in rows if row["online"]),
            "offline": sum(1 for row in rows if not row["online"] and row["status"] != "PENDING"),
            "gateways": views.gateway_views(hub, scope),
            "events": events,
            "configured": manager_of(hub) is not None,
            "needs_tenant": page.caller.tenant_id is None,
            "tenants": {tenant.id: tenant.name for tenant in scope.tenants()},
            "page_json": _page_json({"serial": None, "device_id": None}),
        },
    )


@page_handler(nav="/hikvision")
async def device(request: web.Request, page: Page) -> Rendered:
    hub, scope = page.hub, page.scope
    registered = views.scope_device(scope, request.match_info["serial"])
    (view,) = await views.device_views(hub, [registered])
    events = await views.access_events(hub, scope, [registered.serial_number], limit=RECENT_EVENTS)
    return Rendered(
        "hikvision/device.html",
        {
            "title": registered.name,
            "device": registered,
            "view": view,
            "events": events,
            "page_json": _page_json({"serial": registered.serial_number, "device_id": registered.id}),
        },
    )


@hookimpl
def dashboard_pages(hub: Hub) -> DashboardPages:
    return DashboardPages(
        domain=DOMAIN,
        routes=[
            web.get("/hikvision", devices, name="hikvision_devices"),
            web.get("/hikvision/{serial}", device, name="hikvision_device"),
        ],
        templates=HERE / "templates",
        static=HERE / "static",
        locales=HERE / "locales",
        nav=[NavLink("/hikvision", "hikvision.nav.devices")],
    )
