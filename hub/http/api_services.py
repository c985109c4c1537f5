"""Services: what can be called, with the fields each accepts, and calling one as the signed-in caller.

A call goes through ``TenantScope.call_service``: operators and above, and only at the caller's tenant's
entities and devices (``authorize_service_call`` answers 404 for anything else). Every call is audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
import voluptuous_serialize
from aiohttp import web

from hub.auth.scope import Role
from hub.core import Service
from hub.http import audit, hub_of, json_response, scope_of
from hub.http.routing import ApiRoutes, body_of

routes = ApiRoutes("services")

_ids = vol.Any(str, [str])
SERVICE_CALL_BODY = vol.Schema(
    {
        vol.Optional("target", default=dict): {vol.Optional("entity_id"): _ids, vol.Optional("device_id"): _ids},
        vol.Optional("data", default=dict): {str: object},
    }
)


@routes.api_route("GET", "/api/services", summary="Every service by domain, with its fields")
async def get_services(request: web.Request) -> web.Response:
    registry = hub_of(request).services.all()
    return json_response(
        [
            {"domain": domain, "services": {name: describe(service) for name, service in sorted(services.items())}}
            for domain, services in sorted(registry.items())
        ]
    )


def describe(service: Service) -> dict[str, Any]:
    """Description and fields; ``schema`` is voluptuous-serialize's form description when it can make one."""
    schema = service.schema.schema if service.schema is not None else None
    fields: dict[str, dict[str, Any]] = {}
    if isinstance(schema, Mapping):
        for key in schema:
            fields[str(key)] = {
                "required": isinstance(key, vol.Required),
                "description": getattr(key, "description", None) or "",
            }
    return {"description": service.description, "fields": fields, "schema": serialise(service.schema)}


def serialise(schema: vol.Schema | None) -> list[dict[str, Any]] | None:
    if schema is None:
        return None
    try:
        converted = voluptuous_serialize.convert(schema, custom_serializer=_unsupported)
    except Exception:  # a validator voluptuous-serialize does not know: the field list still describes it
        return None
    return converted if isinstance(converted, list) else None


def _unsupported(value: Any) -> Any:
    if value is object:
        return {"type": "any"}
    return voluptuous_serialize.UNSUPPORTED


@routes.api_route(
    "POST", "/api/services/{domain}/{service}", role=Role.OPERATOR, summary="Call a service", body=SERVICE_CALL_BODY
)
async def call_service(request: web.Request) -> web.Response:
    """``{"target": {"entity_id": ...}, "data": {...}}``; bad data answers 400 naming each field."""
    body = body_of(request)
    domain, service = request.match_info["domain"], request.match_info["service"]
    result = await scope_of(request).call_service(domain, service, body["data"], target=body["target"])
    await audit(request, "service.call", target=f"{domain}.{service}",
                details={"target": body["target"], "fields": sorted(body["data"])})  # fmt: skip
    return json_response({"result": result})
