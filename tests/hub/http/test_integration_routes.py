"""Routes integrations contribute through the ``http_routes`` hook: mounted whole or not at all, signed-in
callers only under /api unless marked ``public``, and their failures answer in the API's error shape."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import voluptuous as vol
from aiohttp import web

from hub.auth.scope import Role
from hub.core import Hub
from hub.exceptions import DeviceClaimConflict
from hub.hookspecs import hookimpl
from hub.http import json_response
from hub.http.dashboard import DashboardPages, NavLink, Page, Rendered, page_handler
from hub.http.routing import ApiRoutes, body_of, public
from hub.testing import HubFactory
from hub.testing.http import ADMIN_PASSWORD, ADMIN_USERNAME, ApiClient, UserFactory, assert_error, sign_in


class DoorbellRoutes:
    __name__ = "tests.doorbell"

    @hookimpl
    def http_routes(self, hub: Hub) -> list[web.AbstractRouteDef]:
        async def ring(request: web.Request) -> web.Response:
            hub.states.set("binary_sensor.doorbell", "on")
            return web.json_response({"rang": request.match_info["name"]})

        @public
        async def webhook(request: web.Request) -> web.Response:
            return web.json_response({"received": True})

        async def claimed(request: web.Request) -> web.Response:
            raise DeviceClaimConflict("serial SN-1 of Acme is already claimed by another tenant")

        async def broken(request: web.Request) -> web.Response:
            raise RuntimeError("secret internals /etc/doorbell.key")

        return [
            web.post("/api/doorbell/{name}/ring", ring),
            web.post("/api/doorbell/webhook", webhook),
            web.post("/api/doorbell/claim", claimed),
            web.get("/api/doorbell/broken", broken),
        ]


class ClashingRoutes:
    """Tries to take over a core route: its routes are refused as a whole, the others still mount."""

    __name__ = "tests.clashing"

    @hookimpl
    def http_routes(self, hub: Hub) -> list[web.AbstractRouteDef]:
        async def steal(request: web.Request) -> web.Response:
            return web.json_response({"stolen": True})

        return [web.get("/api/clash/ok", steal), web.get("/api/states", steal)]


class FailingRoutes:
    __name__ = "tests.failing"

    @hookimpl
    def http_routes(self, hub: Hub) -> list[web.AbstractRouteDef]:
        raise RuntimeError("no routes today")


@pytest.fixture
async def plugin_hub(hub_factory: HubFactory) -> Hub:
    hub = await hub_factory(http=True, plugins=[DoorbellRoutes(), ClashingRoutes(), FailingRoutes()])
    await hub.auth.onboard(ADMIN_USERNAME, ADMIN_PASSWORD)
    return hub


@pytest.fixture
async def admin(plugin_hub: Hub, api_session: aiohttp.ClientSession) -> ApiClient:
    return (await sign_in(plugin_hub, api_session, ADMIN_USERNAME, ADMIN_PASSWORD)).api


async def test_an_integration_route_is_mounted_and_needs_a_caller(plugin_hub: Hub, admin: ApiClient) -> None:
    assert (await admin.with_token(None).post("/api/doorbell/front/ring"))[0] == 401
    status, body = await admin.post("/api/doorbell/front/ring")
    assert (status, body) == (200, {"rang": "front"})
    assert plugin_hub.states.get("binary_sensor.doorbell").state == "on"  # type: ignore[union-attr]


async def test_a_public_integration_route_needs_no_credentials(admin: ApiClient) -> None:
    assert await admin.with_token(None).post("/api/doorbell/webhook") == (200, {"received": True})


async def test_routes_that_clash_or_fail_are_skipped_and_reported(admin: ApiClient) -> None:
    status, states = await admin.get("/api/states")
    assert status == 200 and isinstance(states, list)  # still the core's handler
    assert (await admin.get("/api/clash/ok"))[0] == 404  # all of a clashing integration's routes are refused

    status, body = await admin.get("/api/integrations")
    assert set(body["route_failures"]) == {"tests.clashing", "tests.failing"}
    assert "GET /api/states" in body["route_failures"]["tests.clashing"]
    assert "no routes today" in body["route_failures"]["tests.failing"]


async def test_a_hub_error_in_an_integration_route_keeps_the_error_shape(admin: ApiClient) -> None:
    status, body = await admin.post("/api/doorbell/claim")
    assert status == 409
    assert_error(body, "claim_conflict", {})


async def test_a_bug_is_500_logged_once_and_leaks_nothing(admin: ApiClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="hub.http"):
        status, body = await admin.get("/api/doorbell/broken")

    assert status == 500
    assert "secret" not in json.dumps(body) and "Traceback" not in json.dumps(body)
    assert_error(body, "internal_error", {})
    logged = [record for record in caplog.records if record.name.startswith("hub.http")]
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    assert "/api/doorbell/broken" in logged[0].getMessage()


# ----------------------------------------------------------------------------- declared routes and pages


class DeclaredRoutes:
    """An integration with an ``ApiRoutes`` table and dashboard pages (template, strings, static, header link)."""

    __name__ = "tests.declared"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @hookimpl
    def http_routes(self, hub: Hub) -> list[Any]:
        routes = ApiRoutes("gates")

        @routes.api_route("POST", "/api/gates/open", role=Role.OPERATOR, summary="Open the gate",
                          body=vol.Schema({vol.Required("seconds"): int}))  # fmt: skip
        async def open_gate(request: web.Request) -> web.Response:
            return json_response({"seconds": body_of(request)["seconds"]})

        return list(routes)

    @hookimpl
    def dashboard_pages(self, hub: Hub) -> DashboardPages:
        @page_handler(nav="/gates")
        async def gates(request: web.Request, page: Page) -> Rendered:
            return Rendered("gates/list.html", {"title": page.t("gates.title")})

        return DashboardPages(
            domain="gates",
            routes=[web.get("/gates", gates)],
            templates=self.folder / "templates",
            static=self.folder / "static",
            locales=self.folder / "locales",
            nav=[NavLink("/gates", "gates.title")],
        )


class ClashingPages:
    __name__ = "tests.clashing_pages"

    @hookimpl
    def dashboard_pages(self, hub: Hub) -> DashboardPages:
        async def steal(request: web.Request) -> web.Response:
            return web.Response(text="stolen")

        return DashboardPages(domain="thief", routes=[web.get("/health", steal)], nav=[NavLink("/health", "x")])


@pytest.fixture
async def declared_hub(hub_factory: HubFactory, tmp_path: Path) -> Hub:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "list.html").write_text(
        '{% extends "base.html" %}{% block content %}<h1 id="gates">{{ t("gates.title") }}</h1>{% endblock %}'
    )
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "gates.js").write_text("export const gates = 1;\n")
    (tmp_path / "locales").mkdir()
    (tmp_path / "locales" / "en.json").write_text('{"gates.title": "Gates"}')
    (tmp_path / "locales" / "fr.json").write_text('{"gates.title": "Portails"}')
    hub = await hub_factory(http=True, plugins=[DeclaredRoutes(tmp_path), ClashingPages()])
    await hub.auth.onboard(ADMIN_USERNAME, ADMIN_PASSWORD)
    return hub


async def test_declared_integration_routes_get_roles_validation_and_openapi(
    declared_hub: Hub, make_user: UserFactory
) -> None:
    tenant = await declared_hub.tenants.create("school")
    viewer = (await make_user(declared_hub, tenant, Role.VIEWER)).api
    operator = (await make_user(declared_hub, tenant, Role.OPERATOR)).api
    assert (await viewer.post("/api/gates/open", json={"seconds": 3}))[0] == 403
    status, body = await operator.post("/api/gates/open", json={"seconds": "x"})
    assert status == 400 and "seconds" in body["error"]["fields"]
    assert await operator.post("/api/gates/open", json={"seconds": 3}) == (200, {"seconds": 3})
    _, document = await viewer.get("/api/openapi.json")
    assert document["paths"]["/api/gates/open"]["post"]["summary"] == "Open the gate"


async def test_integration_pages_render_with_their_templates_strings_links_and_files(
    declared_hub: Hub, make_user: UserFactory
) -> None:
    tenant = await declared_hub.tenants.create("school")
    viewer = await make_user(declared_hub, tenant, Role.VIEWER)
    cookies = {"gh_access": viewer.access_token, "lang": "fr"}
    async with aiohttp.ClientSession(cookies=cookies) as browser:
        async with browser.get(declared_hub.http.url + "/gates") as response:
            html = await response.text()
        assert response.status == 200, html
        assert '<h1 id="gates">Portails</h1>' in html
        assert '<a href="/gates" aria-current="page">Portails</a>' in html
        async with browser.get(declared_hub.http.url + "/static/gates/gates.js") as response:
            assert response.status == 200
        async with browser.get(declared_hub.http.url + "/health") as response:
            assert "stolen" not in await response.text()  # the core's page, not the clashing integration's
    assert "already served: GET /health" in declared_hub.http.route_failures["tests.clashing_pages"]
