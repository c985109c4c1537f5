"""Automation blueprints: the shipped ones and the config directory's, each with its inputs as form fields.

Blueprints are shared by every tenant (they hold no tenant's things); an automation made from one belongs to the
tenant that made it. ``GET /api/blueprints/{path}`` answers the blueprint and its ``fields`` (one per input:
name, label, description, required, default, and what its selector asks for: entity domains, number range,
select options...), which is what the dashboard's form is generated from.
"""

from __future__ import annotations

from aiohttp import web

from hub.auth.scope import NotFound
from hub.automation import blueprints
from hub.automation.blueprints import BlueprintError
from hub.http import hub_of, json_response
from hub.http.errors import ApiError
from hub.http.routing import ApiRoutes

routes = ApiRoutes("blueprints")


@routes.api_route("GET", "/api/blueprints", summary="Every automation blueprint, with its input fields")
async def get_blueprints(request: web.Request) -> web.Response:
    """Each readable blueprint; ``errors`` lists the files refused and why."""
    library = blueprints.library(hub_of(request))
    return json_response(
        {
            "blueprints": [blueprint.as_dict() for blueprint in library.list_blueprints()],
            "errors": [{"path": error.path, "key": error.key, "reason": error.reason} for error in library.errors()],
        }
    )


@routes.api_route("GET", "/api/blueprints/{path:.+}", summary="One blueprint and its form fields")
async def get_blueprint(request: web.Request) -> web.Response:
    """``path`` is relative to ``blueprints/automation/``, such as ``gatehouse/device_offline.yaml``."""
    path = request.match_info["path"]
    try:
        blueprint = blueprints.get(hub_of(request), path)
    except BlueprintError as error:
        if error.key == blueprints.CONF_PATH:
            raise NotFound("blueprint", path) from None
        fields = {error.key or "blueprint": error.reason}
        raise ApiError(422, "invalid_blueprint", f"the blueprint cannot be used: {error}", fields) from None
    return json_response(blueprint.as_dict())
