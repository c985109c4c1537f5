"""Config entries (one configured device or account of an integration) and the integrations that provide them.

Adding an entry validates its data against the integration's schema (400 naming each field) and sets it up at
once; ``GET /api/integrations`` gives that schema as voluptuous-serialize's form description, so the dashboard
builds the form from it, as Home Assistant's frontend does.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from aiohttp import web

from hub.auth.scope import NotFound, Role
from hub.http import audit, hub_of, json_response, scope_of
from hub.http.api_services import serialise
from hub.http.routing import ApiRoutes, body_of

routes = ApiRoutes("config entries")

NEW_ENTRY_BODY = vol.Schema(
    {
        vol.Required("domain"): str,
        vol.Optional("data", default=dict): {str: object},
        vol.Optional("title"): vol.All(str, vol.Length(min=1, max=255)),
        vol.Optional("tenant_id", description="platform administrators: the entry's tenant"): str,
    }
)


@routes.api_route("GET", "/api/config_entries", summary="Config entries of the caller's tenant")
async def get_config_entries(request: web.Request) -> web.Response:
    entries = sorted(scope_of(request).entries(), key=lambda entry: (entry.domain, entry.title))
    return json_response([entry.as_dict() for entry in entries])


@routes.api_route(
    "POST", "/api/config_entries", role=Role.ADMIN, summary="Add a config entry", body=NEW_ENTRY_BODY, status=201
)
async def add_config_entry(request: web.Request) -> web.Response:
    """Validated by the integration's schema, stored, and set up; the answer says whether set-up succeeded."""
    scope = scope_of(request)
    body = body_of(request)
    tenant_id = body.get("tenant_id") or scope.caller.tenant_id
    if tenant_id is not None and (not scope.sees(tenant_id) or scope.hub.tenants.get(tenant_id) is None):
        raise NotFound("tenant", tenant_id)
    entry = await hub_of(request).config_entries.add(
        body["domain"], body["data"], tenant_id=tenant_id, title=body.get("title")
    )
    await audit(request, "config_entry.add", target=entry.entry_id, tenant_id=tenant_id,
                details={"domain": entry.domain, "title": entry.title})  # fmt: skip
    return json_response(entry.as_dict(), status=201)


@routes.api_route(
    "DELETE", "/api/config_entries/{entry_id}", role=Role.ADMIN, summary="Remove a config entry", status=204
)
async def remove_config_entry(request: web.Request) -> web.Response:
    entry = scope_of(request).entry(request.match_info["entry_id"])
    await hub_of(request).config_entries.remove(entry.entry_id)
    await audit(request, "config_entry.remove", target=entry.entry_id, tenant_id=entry.tenant_id,
                details={"domain": entry.domain, "title": entry.title})  # fmt: skip
    return web.Response(status=204)


@routes.api_route(
    "POST", "/api/config_entries/{entry_id}/reload", role=Role.ADMIN, summary="Unload and set up a config entry"
)
async def reload_config_entry(request: web.Request) -> web.Response:
    entry = scope_of(request).entry(request.match_info["entry_id"])
    await hub_of(request).config_entries.reload(entry.entry_id)
    await audit(request, "config_entry.reload", target=entry.entry_id, tenant_id=entry.tenant_id,
                details={"domain": entry.domain, "state": str(entry.state)})  # fmt: skip
    return json_response(entry.as_dict())


@routes.api_route(
    "GET", "/api/integrations", summary="Loaded integrations and those that failed", tags=["integrations"]
)
async def get_integrations(request: web.Request) -> web.Response:
    """Each loaded integration with its config-entry form; integrations and routes that failed, with why."""
    hub = hub_of(request)
    loaded = sorted(hub.plugins.integrations.values(), key=lambda integration: integration.domain)
    http = getattr(hub, "http", None)
    described: list[dict[str, Any]] = [
        {**integration.as_dict(), "config_entry_schema": serialise(integration.config_entry_schema)}
        for integration in loaded
    ]
    return json_response(
        {
            "loaded": described,
            "failures": dict(hub.plugins.failures),
            "route_failures": dict(http.route_failures) if http is not None else {},
        }
    )
