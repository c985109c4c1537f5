"""The camera pages: ``/cameras`` (a grid of the tenant's cameras with stills refreshed every few seconds) and
``/cameras/{entity_id}`` (one camera live over HLS, its stream figures, and PTZ buttons when it has them).

Both render complete on the server from the caller's ``TenantScope``; ``static/js/cameras.js`` refreshes the
stills and ``static/js/camera.js`` plays the stream with our own small Media Source Extensions player.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hub.auth.scope import NotFound, Role
from hub.camera import DOMAIN as CAMERA_DOMAIN
from hub.camera import Camera
from hub.core import State
from hub.http.pages.rendering import Page, Rendered, page_handler

#: Only entity ids (they have a dot), so ``/cameras/add`` and integrations' other pages under ``/cameras/`` stay
#: theirs; an entity that is not one of the caller's cameras gets the not-found page.
CAMERA_PATH = r"/cameras/{entity_id:[a-z0-9_]+\.[a-z0-9_]+}"
#: How often the grid refreshes each visible still (seconds); the page's script reads it from the markup.
STILL_REFRESH_SECONDS = 5


def _card(state: State, page: Page) -> dict[str, Any]:
    entity = page.hub.entities.entity(state.entity_id)
    stats = page.hub.streams.stats(state.entity_id)
    return {
        "entity_id": state.entity_id,
        "name": state.attributes.get("friendly_name") or state.entity_id,
        "state": state,
        "live": isinstance(entity, Camera) and entity.frontend_stream_type is not None,
        "stats": stats,
    }


@page_handler(nav="/cameras")
async def cameras(request: web.Request, page: Page) -> Rendered:
    states = sorted(page.scope.states(CAMERA_DOMAIN), key=lambda state: state.name.lower())
    return Rendered(
        "cameras.html",
        {
            "title": page.t("camera.grid.title"),
            "cameras": [_card(state, page) for state in states],
            "refresh_seconds": STILL_REFRESH_SECONDS,
        },
    )


@page_handler(nav="/cameras")
async def camera_detail(request: web.Request, page: Page) -> Rendered:
    entity_id = request.match_info["entity_id"]
    state = page.scope.state(entity_id)
    camera = page.hub.entities.entity(entity_id)
    if not isinstance(camera, Camera):
        raise NotFound("camera", entity_id)
    registry_entry = page.hub.entities.get(entity_id)
    return Rendered(
        "camera.html",
        {
            "title": state.name,
            "camera": _card(state, page),
            "stream_type": camera.frontend_stream_type,
            "ptz_domain": registry_entry.platform if registry_entry else None,
            "show_ptz": camera.supports_ptz and page.can(Role.OPERATOR) and registry_entry is not None,
        },
    )
