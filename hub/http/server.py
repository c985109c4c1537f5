"""The hub's HTTP server: one aiohttp application embedded in the hub's event loop.

It mounts the core's REST API (the declared routes of each ``api_*`` module, ``/metrics`` and the OpenAPI
document), the WebSocket API, the dashboard, then the routes integrations contribute through the
``http_routes`` hook and their pages (the ``dashboard_pages`` hook). Three middlewares wrap every request,
outermost first: credentials (who is asking), errors (one JSON shape), access (the route's declared role, and
its validated body and query).

An integration whose routes or pages cannot be mounted (a bad path, a path the core or another integration already
serves, a hook that raises) is logged once and skipped; the server still starts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from hub.core import Hub
from hub.http import (
    HUB_KEY,
    api_auth,
    api_automations,
    api_blueprints,
    api_cameras,
    api_config_entries,
    api_devices,
    api_events,
    api_health,
    api_notifications,
    api_services,
    api_states,
    dashboard,
    metrics,
    middleware,
    openapi,
    websocket_api,
)
from hub.http.errors import error_middleware
from hub.http.middleware import PUBLIC_RESOURCES_KEY, access_middleware, credentials_middleware
from hub.http.routing import ApiRoute, mount

__all__ = ["DEFAULT_CLIENT_MAX_SIZE", "HUB_KEY", "HttpServer"]

_LOGGER = logging.getLogger(__name__)

#: Largest request body accepted: room for a face photo or a batch of attendance logs, not for abuse.
DEFAULT_CLIENT_MAX_SIZE = 8 * 1024 * 1024

#: aiohttp's access log would print every dashboard poll; it stays quiet unless configured
#: (``logger: logs: hub.http.access: info`` in configuration.yaml).
_ACCESS_LOGGER = logging.getLogger("hub.http.access")

#: Every declared REST route of the core, by resource.
API_ROUTES: tuple[ApiRoute, ...] = (
    *openapi.routes,
    *api_auth.routes,
    *api_states.routes,
    *api_devices.routes,
    *api_services.routes,
    *api_events.routes,
    *api_config_entries.routes,
    *api_health.routes,
    *api_cameras.routes,
    *api_automations.routes,
    *api_blueprints.routes,
    *api_notifications.routes,
    *metrics.routes,
)

_WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # shown as loopback, never bound


class HttpServer:
    """The aiohttp application, its runner and its site, bound to ``host``:``port`` (0 picks a free port)."""

    def __init__(
        self,
        hub: Hub,
        host: str,
        port: int,
        *,
        client_max_size: int = DEFAULT_CLIENT_MAX_SIZE,
        shutdown_timeout: float = 5.0,
    ) -> None:
        self.hub = hub
        self.host = host
        self.port = port
        self.app = web.Application(
            middlewares=[credentials_middleware, error_middleware, access_middleware], client_max_size=client_max_size
        )
        self.app[HUB_KEY] = hub
        middleware.setup(self.app)
        api_states.setup(self.app)
        self.metrics = metrics.setup(self.app, hub)
        self.route_failures: dict[str, str] = {}  # plugin name -> why its routes were not mounted
        self._shutdown_timeout = shutdown_timeout
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """Where a browser on this machine reaches the hub (a wildcard bind address shows as loopback)."""
        host = _WILDCARD_HOSTS.get(self.host, self.host)
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Mount every route, then listen. Raises OSError when the port is taken."""
        if self._runner is not None:
            return
        mount(self.app, API_ROUTES)
        openapi.setup(self.app)
        self._mount_websocket()
        dashboard.setup(self.app)
        self._mount_integration_routes()
        self._mount_integration_pages()
        if _ACCESS_LOGGER.level == logging.NOTSET:
            _ACCESS_LOGGER.setLevel(logging.WARNING)
        runner = web.AppRunner(
            self.app, handle_signals=False, access_log=_ACCESS_LOGGER, shutdown_timeout=self._shutdown_timeout
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.metrics.start()
        addresses = runner.addresses
        if self.port == 0 and addresses:
            self.port = int(addresses[0][1])
        _LOGGER.info("HTTP server listening on %s", self.url)

    async def stop(self) -> None:
        """Stop listening, let requests in flight finish (up to the shutdown timeout), close connections."""
        runner, self._runner = self._runner, None
        self.metrics.stop()
        if runner is not None:
            await runner.cleanup()

    def _mount_websocket(self) -> None:
        """The WebSocket API authenticates inside its own protocol (the auth message), so its route is public."""
        for route in websocket_api.websocket_routes():
            for resource_route in route.register(self.app.router):
                if resource_route.resource is not None:
                    self.app[PUBLIC_RESOURCES_KEY].add(resource_route.resource)

    # ------------------------------------------------------------------------------------ integrations

    def _mount_integration_routes(self) -> None:
        plugins = getattr(self.hub, "plugins", None)
        if plugins is None:
            return
        for implementation in plugins.hook.http_routes.get_hookimpls():
            name = implementation.plugin_name
            try:
                routes = implementation.function(**{arg: self.hub for arg in implementation.argnames})
                self._mount(list(routes or ()))
            except Exception as error:
                reason = f"{type(error).__name__}: {error}"
                self.route_failures[name] = reason
                _LOGGER.error("HTTP routes of %s were not mounted: %s", name, reason)

    def _mount_integration_pages(self) -> None:
        """Each integration's dashboard pages (the ``dashboard_pages`` hook), all or none, like its routes."""
        plugins = getattr(self.hub, "plugins", None)
        if plugins is None:
            return
        for implementation in plugins.hook.dashboard_pages.get_hookimpls():
            name = implementation.plugin_name
            try:
                pages = implementation.function(**{arg: self.hub for arg in implementation.argnames})
                if pages is None:
                    continue
                if not isinstance(pages, dashboard.DashboardPages):
                    raise TypeError(f"expected hub.http.dashboard.DashboardPages, got {pages!r}")
                dashboard.add_pages(self.app, pages)
            except Exception as error:
                reason = f"{type(error).__name__}: {error}"
                self.route_failures[name] = reason
                _LOGGER.error("Dashboard pages of %s were not added: %s", name, reason)

    def _mount(self, routes: list[Any]) -> None:
        """Mount all of one integration's routes or none: they are tried on a scratch router first.

        Plain aiohttp route definitions are mounted as they are; ``ApiRoute`` declarations (an ``ApiRoutes``
        table) get what the core's routes get: the declared role, validated body and query, OpenAPI.
        """
        for route in routes:
            if not isinstance(route, web.AbstractRouteDef | ApiRoute):
                raise TypeError(f"expected aiohttp route definitions or ApiRoute declarations, got {route!r}")
        scratch = web.UrlDispatcher()
        for route in routes:
            if isinstance(route, ApiRoute):
                scratch.add_route(route.method, route.path, route.handler)
            else:
                route.register(scratch)
        taken = _served(self.app.router.routes())
        if clashes := sorted(_served(scratch.routes()) & taken):
            listed = ", ".join(f"{method} {path}" for method, path in clashes)
            raise ValueError(f"already served: {listed}")
        mount(self.app, [route for route in routes if isinstance(route, ApiRoute)])
        self.app.add_routes([route for route in routes if not isinstance(route, ApiRoute)])


def _served(routes: Iterable[web.AbstractRoute]) -> set[tuple[str, str]]:
    """(method, canonical path) of each route: two routes with the same pair would shadow each other."""
    return {(route.method, route.resource.canonical) for route in routes if route.resource is not None}
