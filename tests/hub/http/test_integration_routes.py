"""Routes integrations contribute through the ``http_routes`` hook: mounted whole or not at all, signed-in
callers only under /api unless marked ``public``, and their failures answer in the API's error shape."""

from __future__ import annotations

import json
import logging

import aiohttp
import pytest
from aiohttp import web

from hub.core import Hub
from hub.exceptions import DeviceClaimConflict
from hub.hookspecs import hookimpl
from hub.http.routing import public
from hub.testing import HubFactory
from hub.testing.http import ADMIN_PASSWORD, ADMIN_USERNAME, ApiClient, assert_error, sign_in


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
