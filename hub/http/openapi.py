"""The API describes itself: ``/api/openapi.json`` (OpenAPI 3.1) is generated from the route declarations, and
``/api/docs`` renders it with Swagger UI from the files of the ``swagger-ui-bundle`` package (no CDN).

Nothing here is written by hand per route: paths, methods, summaries, tags, who may call it, path parameters,
and request bodies and query parameters converted from the declared voluptuous schemas by voluptuous-openapi.
The bundled Swagger UI (4.x) predates OpenAPI 3.1, so the docs page asks for the 3.0 rendering of the same
document (``?version=3.0``); the two differ only in how a nullable value is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import swagger_ui_bundle
import voluptuous as vol
import voluptuous_openapi
from aiohttp import web

from hub.http import VERSION, json_response
from hub.http.middleware import PUBLIC_RESOURCES_KEY
from hub.http.params import openapi_type
from hub.http.routing import ApiRoute, ApiRoutes, declarations_of

routes = ApiRoutes("meta")

DOCS_STATIC = "/api/docs/static"
_PATH_PARAMETER = re.compile(r"\{(\w+)(?::[^}]*)?\}")

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "examples": ["invalid_data"]},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}
_ERRORS = {
    "400": "Bad input; `fields` names each field at fault",
    "401": "No or invalid credentials",
    "403": "Your role does not allow this",
    "404": "Absent, or outside your tenant",
    "413": "Body larger than allowed",
}


@routes.api_route("GET", "/api/", public=True, summary="Whether the API answers, and the hub's version")
async def api_status(request: web.Request) -> web.Response:
    """Clients check this first to know the API answers (Home Assistant's clients do)."""
    return json_response({"message": "Gatehouse API running", "version": VERSION})


@routes.api_route(
    "GET",
    "/api/openapi.json",
    public=True,
    summary="This document",
    query=vol.Schema({vol.Optional("version", default="3.1"): vol.In(["3.1", "3.0"])}),
)
async def get_openapi(request: web.Request) -> web.Response:
    version = request.query.get("version", "3.1")
    return json_response(openapi_document(declarations_of(request.app), openapi_version=version))


@routes.api_route("GET", "/api/docs", public=True, summary="The API's documentation page (Swagger UI)")
async def docs_page(request: web.Request) -> web.Response:
    return web.Response(text=DOCS_HTML, content_type="text/html")


def setup(app: web.Application) -> None:
    """Serve Swagger UI's static files under ``/api/docs/static`` (public: the page itself holds no data)."""
    resource = app.router.add_static(DOCS_STATIC, swagger_ui_bundle.swagger_ui_path)
    app[PUBLIC_RESOURCES_KEY].add(resource)


# -------------------------------------------------------------------------------------------------- document


def openapi_document(declarations: Iterable[ApiRoute], *, openapi_version: str = "3.1") -> dict[str, Any]:
    """The OpenAPI document of ``declarations`` (3.1, or 3.0 for older tools)."""
    version = (
        voluptuous_openapi.OpenApiVersion.V3_1 if openapi_version == "3.1" else voluptuous_openapi.OpenApiVersion.V3
    )
    paths: dict[str, dict[str, Any]] = {}
    tags: set[str] = set()
    for declaration in sorted(declarations, key=lambda item: item.path):
        path = _PATH_PARAMETER.sub(r"{\1}", declaration.path)
        paths.setdefault(path, {})[declaration.method.lower()] = _operation(declaration, version)
        tags.update(declaration.tags)
    return {
        "openapi": "3.1.0" if openapi_version == "3.1" else "3.0.3",
        "info": {
            "title": "Gatehouse API",
            "version": VERSION,
            "description": (
                "The hub's REST API. Sign in with `POST /api/auth/login` and send `Authorization: Bearer "
                "<access token>`, or send an API key the same way. Every list and lookup is limited to your "
                "tenant: anything outside it answers 404. The WebSocket API at `/api/websocket` speaks Home "
                "Assistant's protocol."
            ),
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": tag} for tag in sorted(tags)],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT access token or API key",
                },
                "session": {"type": "apiKey", "in": "cookie", "name": "gh_access"},
            },
            "schemas": {"Error": ERROR_SCHEMA},
        },
    }


def _operation(declaration: ApiRoute, version: voluptuous_openapi.OpenApiVersion) -> dict[str, Any]:
    responses: dict[str, Any] = {str(declaration.status): {"description": "Success"}}
    error = {"$ref": "#/components/schemas/Error"}
    for status, description in _ERRORS.items():
        if status == "401" and declaration.public:
            continue
        responses[status] = {"description": description, "content": {"application/json": {"schema": error}}}
    operation: dict[str, Any] = {
        "operationId": declaration.operation_id,
        "summary": declaration.summary,
        "tags": list(declaration.tags),
        "security": [] if declaration.public else [{"bearer": []}, {"session": []}],
        "x-required-role": declaration.requirement(),
        "responses": responses,
    }
    description = declaration.description
    if not declaration.public:
        description = f"{description}\n\nWho may call it: {declaration.requirement()}.".strip()
    if description:
        operation["description"] = description
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAMETER.findall(declaration.path)
    ]
    if declaration.query is not None:
        parameters += _query_parameters(declaration.query, version)
    if parameters:
        operation["parameters"] = parameters
    if declaration.body is not None:
        operation["requestBody"] = {
            "required": _has_required(declaration.body),
            "content": {"application/json": {"schema": _schema(declaration.body, version)}},
        }
    return operation


def _schema(schema: vol.Schema, version: voluptuous_openapi.OpenApiVersion) -> dict[str, Any]:
    try:
        converted: dict[str, Any] = voluptuous_openapi.convert(
            schema, custom_serializer=openapi_type, openapi_version=version
        )
    except Exception:  # a validator the converter cannot describe: say "an object" rather than fail the document
        return {"type": "object"}
    return converted


def _query_parameters(schema: vol.Schema, version: voluptuous_openapi.OpenApiVersion) -> list[dict[str, Any]]:
    converted = _schema(schema, version)
    required = set(converted.get("required", ()))
    parameters = []
    for name, property_schema in converted.get("properties", {}).items():
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if "description" in property_schema:
            parameter["description"] = property_schema["description"]
        parameter["schema"] = {key: value for key, value in property_schema.items() if key != "description"}
        parameters.append(parameter)
    return parameters


def _has_required(schema: vol.Schema) -> bool:
    keys = schema.schema if isinstance(schema.schema, dict) else {}
    return any(isinstance(key, vol.Required) for key in keys)


DOCS_HTML = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Gatehouse API</title>
  <link rel="stylesheet" href="{DOCS_STATIC}/swagger-ui.css">
  <link rel="icon" href="{DOCS_STATIC}/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{DOCS_STATIC}/swagger-ui-bundle.js"></script>
  <script src="{DOCS_STATIC}/swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "/api/openapi.json?version=3.0",
      dom_id: "#swagger-ui",
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "StandaloneLayout",
      withCredentials: true,
    }});
  </script>
</body>
</html>
"""
