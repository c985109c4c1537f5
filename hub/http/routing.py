"""Route declarations: each REST handler states its method, path, the least role that may call it, and what
OpenAPI needs to know (summary, tags, the voluptuous schema of its body and query).

One declaration feeds three things: the router (``ApiRoutes.mount``), the authentication middleware (which
enforces ``role``, ``platform_admin`` and ``public`` before the handler runs, and validates body and query with
the declared schemas), and ``/api/openapi.json``. A handler therefore never checks a role or parses JSON itself:

    routes = ApiRoutes("devices")

    @routes.api_route("PATCH", "/api/devices/{device_id}", role=Role.ADMIN, summary="Rename a device",
                      body=vol.Schema({vol.Required("name"): str}))
    async def rename_device(request: web.Request) -> web.Response:
        device = scope_of(request).device(request.match_info["device_id"])
        ...body_of(request)["name"]...

Integration routes (the ``http_routes`` hook) are either declarations like these (an integration's REST resource
gets the same roles, validation and OpenAPI entries) or plain aiohttp routes: under ``/api`` those need a signed-in
caller unless their handler is marked with ``public`` (a device endpoint or a webhook that checks its own secret).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import voluptuous as vol
from aiohttp import web

from hub.auth.scope import Role

__all__ = [
    "BODY_KEY",
    "DECLARATIONS_KEY",
    "QUERY_KEY",
    "ApiRoute",
    "ApiRoutes",
    "body_of",
    "is_public",
    "public",
    "query_of",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: Largest body a declared API route accepts (the app's own limit stays larger for integrations' uploads).
API_MAX_BODY = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ApiRoute:
    """One declared route. ``role`` is the least role inside the caller's tenant; ``platform_admin`` routes are
    for platform administrators only; ``public`` routes need no credentials at all."""

    method: str
    path: str
    handler: Handler
    summary: str
    role: Role = Role.VIEWER
    public: bool = False
    platform_admin: bool = False
    body: vol.Schema | None = None
    query: vol.Schema | None = None
    tags: tuple[str, ...] = ()
    status: int = 200  # the success status, for the document
    max_body: int = API_MAX_BODY

    @property
    def description(self) -> str:
        return (self.handler.__doc__ or "").strip()

    @property
    def operation_id(self) -> str:
        return self.handler.__name__

    def requirement(self) -> str:
        """Who may call it, in words (OpenAPI descriptions and 403 messages)."""
        if self.public:
            return "public"
        if self.platform_admin:
            return "platform administrators"
        return f"{self.role} or higher"


#: The declaration of every mounted API route, keyed by the aiohttp route object the router matches.
DECLARATIONS_KEY = web.AppKey("api_routes", dict[web.AbstractRoute, ApiRoute])
BODY_KEY = web.RequestKey("api_body", dict[str, Any])
QUERY_KEY = web.RequestKey("api_query", dict[str, Any])


class ApiRoutes:
    """The declared routes of one resource module (aiohttp's ``RouteTableDef``, with roles and OpenAPI facts)."""

    def __init__(self, *tags: str) -> None:
        self.tags = tags
        self.routes: list[ApiRoute] = []

    def api_route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        role: Role = Role.VIEWER,
        public: bool = False,
        platform_admin: bool = False,
        body: vol.Schema | None = None,
        query: vol.Schema | None = None,
        tags: Sequence[str] = (),
        status: int = 200,
        max_body: int = API_MAX_BODY,
    ) -> Callable[[Handler], Handler]:
        """Declare ``handler`` as ``method path``; see the module docstring."""

        def declare(handler: Handler) -> Handler:
            self.routes.append(
                ApiRoute(
                    method=method.upper(),
                    path=path,
                    handler=handler,
                    summary=summary,
                    role=role,
                    public=public,
                    platform_admin=platform_admin,
                    body=body,
                    query=query,
                    tags=tuple(tags) or self.tags,
                    status=status,
                    max_body=max_body,
                )
            )
            return handler

        return declare

    def __iter__(self) -> Any:
        return iter(self.routes)


def mount(app: web.Application, declarations: Iterable[ApiRoute]) -> None:
    """Add each declared route to ``app`` and remember its declaration for the middleware and the document."""
    registry = app.get(DECLARATIONS_KEY)
    if registry is None:
        registry = app[DECLARATIONS_KEY] = {}
    for declaration in declarations:
        route = app.router.add_route(declaration.method, declaration.path, declaration.handler)
        registry[route] = declaration


def declarations_of(app: web.Application) -> list[ApiRoute]:
    return list(app.get(DECLARATIONS_KEY, {}).values())


def declaration_of(request: web.Request) -> ApiRoute | None:
    """The declaration of the route ``request`` matched; None for undeclared routes (integrations, pages)."""
    registry = request.app.get(DECLARATIONS_KEY)
    if registry is None:
        return None
    return registry.get(request.match_info.route)


# --------------------------------------------------------------------------------------------- public routes

_PUBLIC_ATTRIBUTE = "__gatehouse_public__"


def public(handler: Handler) -> Handler:
    """Mark an undeclared handler (an integration's device endpoint, a webhook) as needing no credentials."""
    setattr(handler, _PUBLIC_ATTRIBUTE, True)
    return handler


def is_public(handler: Any) -> bool:
    return bool(getattr(handler, _PUBLIC_ATTRIBUTE, False))


# ----------------------------------------------------------------------------------------- validated input


def body_of(request: web.Request) -> dict[str, Any]:
    """The request body, parsed and validated against the route's declared schema by the middleware."""
    return request.get(BODY_KEY) or {}


def query_of(request: web.Request) -> dict[str, Any]:
    """The query string, validated (and coerced) against the route's declared schema by the middleware."""
    return request.get(QUERY_KEY) or {}
