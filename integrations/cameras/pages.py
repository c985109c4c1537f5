"""The cameras integration's dashboard pages, through the ``dashboard_pages`` hook: ``/cameras/setup`` (the
tenant's configured cameras, their connection and health), ``/cameras/add`` (the add-camera wizard: auto-detect,
pick a result, name it; or enter the fields by hand) and ``/cameras/discovery`` (subnet scan with progress, ONVIF
WS-Discovery). The live grid and one camera's live view are the core's (``/cameras``, ``/cameras/{entity_id}``).

Pages render complete on the server through the caller's scope; ``static/*.js`` call the discovery API and
``POST /api/config_entries`` for the actions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from hub.auth.scope import NotFound, Role, TenantScope
from hub.config_entries import ConfigEntry
from hub.core import Hub
from hub.device_health import DeviceHealth
from hub.hookspecs import hookimpl
from hub.http.dashboard import DashboardPages, NavLink, Page, Rendered, page_handler

from .const import CONF_CONNECTION_TYPE, CONF_HOST, CONF_MANUFACTURER, CONF_PATH, CONF_PORT, CONNECTION_TYPES, DOMAIN
from .entity import ConfiguredCamera, health_key
from .profiles import PROFILES, profile_for
from .scan import DEFAULT_PORTS
from .schema import camera_name

HERE = Path(__file__).parent


@dataclass(frozen=True, slots=True)
class CameraRow:
    """One configured camera as the list shows it (no credentials)."""

    entry: ConfigEntry
    name: str
    manufacturer: str
    where: str
    entity_id: str | None
    health: DeviceHealth | None

    @property
    def connection_type(self) -> str:
        return str(self.entry.data.get(CONF_CONNECTION_TYPE, ""))


def camera_rows(scope: TenantScope) -> list[CameraRow]:
    rows = []
    for entry in sorted(scope.entries(DOMAIN), key=lambda entry: camera_name(entry.title, entry.data).lower()):
        data = entry.data
        profile = profile_for(data.get(CONF_MANUFACTURER))
        host = data.get(CONF_HOST)
        where = f"{host}:{data.get(CONF_PORT)}" if host else str(data.get(CONF_PATH, ""))
        camera = entry.runtime_data if isinstance(entry.runtime_data, ConfiguredCamera) else None
        try:
            health: DeviceHealth | None = scope.health_device(health_key(entry.entry_id))
        except NotFound:
            health = None
        name = camera_name(entry.title, data)
        rows.append(CameraRow(entry, name, profile.name if profile else "", where,
                              camera.entity_id if camera else None, health))  # fmt: skip
    return rows


def _json(value: Any) -> str:
    """JSON for a ``<script type="application/json">`` block (user input must not close the tag)."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


@page_handler(nav="/cameras/setup")
async def camera_setup(request: web.Request, page: Page) -> Rendered:
    rows = camera_rows(page.scope)
    return Rendered("cameras/setup.html", {"title": page.t("cameras.setup.title"), "rows": rows})


@page_handler(nav="/cameras/setup", role=Role.ADMIN)
async def add_camera(request: web.Request, page: Page) -> Rendered:
    """Query ``host``, ``manufacturer`` and ``port`` prefill the form (links from the discovery page)."""
    prefill = {key: request.query.get(key, "") for key in ("host", "manufacturer", "port", "onvif_port")}
    if prefill["manufacturer"] and profile_for(prefill["manufacturer"]) is None:
        prefill["manufacturer"] = ""
    tenants = {tenant.id: tenant.name for tenant in page.scope.tenants()}
    context = {"manufacturers": [profile.as_dict() for profile in PROFILES], "connection_types": CONNECTION_TYPES}
    return Rendered(
        "cameras/add.html",
        {
            "title": page.t("cameras.add.title"),
            "profiles": PROFILES,
            "connection_types": CONNECTION_TYPES,
            "prefill": prefill,
            "tenants": tenants,
            "needs_tenant": page.caller.tenant_id is None,
            "page_json": _json(context),
        },
    )


@page_handler(nav="/cameras/setup", role=Role.ADMIN)
async def discovery(request: web.Request, page: Page) -> Rendered:
    return Rendered(
        "cameras/discovery.html",
        {"title": page.t("cameras.discovery.title"), "default_ports": ", ".join(map(str, DEFAULT_PORTS))},
    )


@hookimpl
def dashboard_pages(hub: Hub) -> DashboardPages:
    """Exact paths under ``/cameras/``: aiohttp matches them before the core's ``/cameras/{entity_id}``."""
    return DashboardPages(
        domain=DOMAIN,
        routes=[
            web.get("/cameras/setup", camera_setup, name="cameras_setup"),
            web.get("/cameras/add", add_camera, name="cameras_add"),
            web.get("/cameras/discovery", discovery, name="cameras_discovery"),
        ],
        templates=HERE / "templates",
        static=HERE / "static",
        locales=HERE / "locales",
        nav=[NavLink("/cameras/setup", "cameras.nav.setup")],
    )
