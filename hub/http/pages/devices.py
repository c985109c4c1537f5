"""Device pages: ``/devices/{id}`` (entities live, health, history chart) and ``/devices/claim``.

Another tenant's device is absent here (``scope.device`` raises NotFound, shown as the 404 page), exactly as the
API answers 404 for it.
"""

from __future__ import annotations

from aiohttp import web

from hub.auth.scope import Role
from hub.http.pages.formatting import is_numeric
from hub.http.pages.overview import DeviceView
from hub.http.pages.rendering import Page, Rendered, page_handler


@page_handler(nav="/")
async def device_detail(request: web.Request, page: Page) -> Rendered:
    hub, scope = page.hub, page.scope
    device = scope.device(request.match_info["device_id"])
    view = DeviceView(device)
    view.health = [health for health in scope.health_devices() if health.device_id == device.id]
    entity_ids = [entry.entity_id for entry in hub.entities.all(device_id=device.id)]
    entity_ids += [entity_id for health in view.health for entity_id in health.entity_ids]
    for entity_id in dict.fromkeys(entity_ids):
        state = hub.states.get(entity_id)
        if state is not None and scope.sees(state.tenant_id):
            view.states.append(state)
    numeric = [state for state in view.states if is_numeric(state)]
    # The chart starts on the device's own measurement (a temperature, a count) rather than its response time.
    health_ids = {entity_id for health in view.health for entity_id in health.entity_ids}
    chart = next((state for state in numeric if state.entity_id not in health_ids), numeric[0] if numeric else None)
    if chart is None and view.states:
        chart = view.states[0]
    return Rendered(
        "device.html",
        {
            "title": device.name,
            "view": view,
            "device": device,
            "chart_entity": chart.entity_id if chart else None,
            "chart_states": view.states,
        },
    )


@page_handler(nav="/", role=Role.ADMIN)
async def claim(request: web.Request, page: Page) -> Rendered:
    """The claim form; the manufacturers offered are those of the loaded integrations and known devices."""
    names = {integration.name for integration in page.hub.plugins.integrations.values()}
    names |= {device.manufacturer for device in page.scope.devices()}
    return Rendered("claim.html", {"title": page.t("claim.title"), "manufacturers": sorted(names, key=str.lower)})
