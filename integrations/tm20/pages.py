"""The TM20 dashboard pages, added through the ``dashboard_pages`` hook: ``/tm20`` (terminals), ``/tm20/{sn}``
(one terminal: facts, open door, recent logs live, users) and ``/tm20/people`` (the tenant's people, admins).

Pages render complete on the server through the caller's scope (another tenant's terminal is the 404 page);
``static/tm20.js`` then keeps the logs live (``subscribe_events`` on ``access`` and ``tm20_door_event``) and
calls the REST API for actions (open door, people).
"""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web

from hub.auth.scope import Role
from hub.core import Hub
from hub.hookspecs import hookimpl
from hub.http.dashboard import DashboardPages, NavLink, Page, Rendered, page_handler

from . import views
from .const import DOMAIN

HERE = Path(__file__).parent
#: Log rows shown on a terminal's page; older ones are in the API (``before_id``).
RECENT_LOGS = 50


@page_handler(nav="/tm20")
async def terminals(request: web.Request, page: Page) -> Rendered:
    rows = await views.terminal_views(page.hub, views.scope_terminals(page.scope))
    return Rendered(
        "tm20/terminals.html",
        {
            "title": page.t("tm20.terminals.title"),
            "terminals": rows,
            "configured": views.manager_of(page.hub) is not None,
            "connected": sum(1 for row in rows if row.connected),
        },
    )


@page_handler(nav="/tm20")
async def terminal(request: web.Request, page: Page) -> Rendered:
    hub, scope = page.hub, page.scope
    device = views.terminal_device(scope, request.match_info["sn"])
    (view,) = await views.terminal_views(hub, [device])
    logs = await views.terminal_logs(hub, scope, device.serial_number, limit=RECENT_LOGS)
    users = await views.terminal_users(hub, device.serial_number)
    people = await views.tenant_people(hub, device.tenant_id) if device.tenant_id is not None else []
    names = {person["enrollid"]: person["name"] for person in people}
    context = {"sn": device.serial_number, "device_id": device.id, "names": {str(k): v for k, v in names.items()}}
    return Rendered(
        "tm20/terminal.html",
        {
            "title": device.name,
            "view": view,
            "device": device,
            "logs": logs,
            "users": users,
            "people": people,
            "page_json": json.dumps(context, ensure_ascii=False).replace("<", "\\u003c"),  # names are user input
        },
    )


@page_handler(nav="/tm20", role=Role.ADMIN)
async def people(request: web.Request, page: Page) -> Rendered:
    rows = await views.tenant_people(page.hub, page.scope)
    tenants = {tenant.id: tenant.name for tenant in page.scope.tenants()}
    return Rendered(
        "tm20/people.html",
        {
            "title": page.t("tm20.people.title"),
            "people": rows,
            "tenants": tenants,
            "configured": views.manager_of(page.hub) is not None,
            "needs_tenant": page.caller.tenant_id is None,
        },
    )


@hookimpl
def dashboard_pages(hub: Hub) -> DashboardPages:
    """The pages, their templates, scripts, strings and header links (``/tm20/people`` is an exact path, so
    aiohttp tries it before ``/tm20/{sn}``)."""
    return DashboardPages(
        domain=DOMAIN,
        routes=[
            web.get("/tm20", terminals, name="tm20_terminals"),
            web.get("/tm20/people", people, name="tm20_people"),
            web.get("/tm20/{sn}", terminal, name="tm20_terminal"),
        ],
        templates=HERE / "templates",
        static=HERE / "static",
        locales=HERE / "locales",
        nav=[NavLink("/tm20", "tm20.nav.terminals")],  # the people page is linked from the terminals page
    )
