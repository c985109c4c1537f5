"""The REST API over the hub's real HTTP server: what each route answers, and the one shape every error takes."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import aiohttp
import pytest
import voluptuous as vol
from aiohttp import web

from hub.core import Hub, ServiceCall
from hub.exceptions import DeviceClaimConflict
from hub.hookspecs import hookimpl
from hub.integration import Integration
from hub.testing import HubFactory


async def get(session: aiohttp.ClientSession, hub: Hub, path: str) -> tuple[int, Any]:
    async with session.get(hub.http.url + path) as response:
        return response.status, await response.json()


async def post(session: aiohttp.ClientSession, hub: Hub, path: str, **kwargs: Any) -> tuple[int, Any]:
    async with session.post(hub.http.url + path, **kwargs) as response:
        return response.status, await response.json()


def assert_error(body: Any, code: str, fields: dict[str, str] | None = None) -> None:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    if fields is not None:
        assert body["error"]["fields"] == fields


# ----------------------------------------------------------------------------------------------- reading


async def test_api_root_says_it_runs(http_hub: Hub, session: aiohttp.ClientSession) -> None:
    status, body = await get(session, http_hub, "/api/")

    assert status == 200
    assert body["message"] == "Gatehouse API running"
    assert body["version"]


async def test_states_lists_every_entity_sorted(http_hub: Hub, session: aiohttp.ClientSession) -> None:
    http_hub.states.set("lock.staff_door", "locked", {"friendly_name": "Staff door"})
    http_hub.states.set("lock.front_gate", "unlocked", {"friendly_name": "Front gate"})

    status, body = await get(session, http_hub, "/api/states")

    assert status == 200
    assert [state["entity_id"] for state in body] == ["lock.front_gate", "lock.staff_door"]
    assert body[0]["state"] == "unlocked"
    assert body[0]["attributes"] == {"friendly_name": "Front gate"}
    assert body[0]["last_changed"] == pytest.approx(time.time(), abs=10)


async def test_one_state(http_hub: Hub, session: aiohttp.ClientSession) -> None:
    http_hub.states.set("sensor.library_temperature", "21.5", {"unit_of_measurement": "°C"})

    status, body = await get(session, http_hub, "/api/states/sensor.library_temperature")

    assert status == 200
    assert body["state"] == "21.5"
    assert body["attributes"]["unit_of_measurement"] == "°C"


async def test_unknown_entity_is_404_in_the_error_shape(http_hub: Hub, session: aiohttp.ClientSession) -> None:
    status, body = await get(session, http_hub, "/api/states/lock.nowhere")

    assert status == 404
    assert_error(body, "entity_not_found", {})
    assert "lock.nowhere" in body["error"]["message"]


async def test_unknown_route_is_404_in_the_error_shape(http_hub: Hub, session: aiohttp.ClientSession) -> None:
    status, body = await get(session, http_hub, "/api/no/such/thing")

    assert status == 404
    assert_error(body, "not_found", {})


async def test_wrong_method_is_405_in_the_error_shape(http_hub: Hub, session: aiohttp.ClientSession) -> None:
    async with session.delete(http_hub.http.url + "/api/states") as response:
        assert response.status == 405
        assert_error(await response.json(), "method_not_allowed")


async def test_devices(http_hub: Hub, session: aiohttp.ClientSession) -> None:
    await http_hub.devices.connected("Acme", "SN-0001", name="Gate terminal", model="T1")

    status, body = await get(session, http_hub, "/api/devices")

    assert status == 200
    assert [(device["serial_number"], device["name"], device["status"]) for device in body] == [
        ("SN-0001", "Gate terminal", "ACTIVE")
    ]


async def test_health_summary(http_hub: Hub, session: aiohttp.ClientSession) -> None:
    http_hub.health.track("gate_terminal", "Gate terminal").report_success(120.0)
    http_hub.health.track("parking_camera", "Parking camera").report_failure("connection refused")

    status, body = await get(session, http_hub, "/api/health/summary")

    assert status == 200
    assert body["total"] == 2
    assert body["online"] == 1
    assert body["offline"] == 1
    assert body["levels"] == {"excellent": 1, "good": 0, "fair": 0, "poor": 0, "offline": 1}


async def test_history_of_an_entity(http_hub: Hub, session: aiohttp.ClientSession) -> None:
    before = time.time() - 1
    http_hub.states.set("lock.front_gate", "locked")
    http_hub.states.set("lock.front_gate", "unlocked")
    await http_hub.recorder.commit_barrier()

    status, body = await get(session, http_hub, f"/api/history/lock.front_gate?start={before}")
    assert status == 200
    assert [state["state"] for state in body] == ["locked", "unlocked"]

    status, body = await get(session, http_hub, "/api/history/lock.front_gate?end=2001-01-01T00:00:00Z")
    assert status == 200
    assert body == []


async def test_history_with_a_bad_time_names_the_parameter(http_hub: Hub, session: aiohttp.ClientSession) -> None:
    status, body = await get(session, http_hub, "/api/history/lock.front_gate?start=yesterday")

    assert status == 400
    assert_error(body, "invalid_query")
    assert set(body["error"]["fields"]) == {"start"}


async def test_history_of_an_invalid_entity_id_is_400(http_hub: Hub, session: aiohttp.ClientSession) -> None:
    status, body = await get(session, http_hub, "/api/history/Not-An-Entity")

    assert status == 400
    assert_error(body, "invalid_entity_id")


# ------------------------------------------------------------------------------------------------ services


@pytest.fixture
def calls(http_hub: Hub) -> list[ServiceCall]:
    """Registers ``door.open`` (data: optional whole ``duration`` from 1 to 60 s) and records its calls."""
    received: list[ServiceCall] = []

    async def open_door(call: ServiceCall) -> dict[str, Any]:
        received.append(call)
        return {"opened": list(call.entity_ids)}

    schema = vol.Schema({vol.Optional("duration", default=5): vol.All(int, vol.Range(min=1, max=60))})
    http_hub.services.register("door", "open", open_door, schema, description="Open a door for a while.")
    return received


async def test_services_are_listed_with_their_fields(
    http_hub: Hub, session: aiohttp.ClientSession, calls: list[ServiceCall]
) -> None:
    status, body = await get(session, http_hub, "/api/services")

    assert status == 200
    door = next(entry for entry in body if entry["domain"] == "door")
    assert door["services"]["open"]["description"] == "Open a door for a while."
    assert door["services"]["open"]["fields"] == {"duration": {"required": False, "description": ""}}


async def test_call_service_with_target_and_data(
    http_hub: Hub, session: aiohttp.ClientSession, calls: list[ServiceCall]
) -> None:
    body = {"target": {"entity_id": "lock.front_gate"}, "data": {"duration": 10}}

    status, answer = await post(session, http_hub, "/api/services/door/open", json=body)

    assert status == 200
    assert answer == {"result": {"opened": ["lock.front_gate"]}}
    assert len(calls) == 1
    assert calls[0].entity_ids == ("lock.front_gate",)
    assert dict(calls[0].data) == {"duration": 10}


async def test_call_service_with_no_body_uses_the_defaults(
    http_hub: Hub, session: aiohttp.ClientSession, calls: list[ServiceCall]
) -> None:
    status, _ = await post(session, http_hub, "/api/services/door/open")

    assert status == 200
    assert dict(calls[0].data) == {"duration": 5}


async def test_bad_service_data_is_400_naming_the_field(
    http_hub: Hub, session: aiohttp.ClientSession, calls: list[ServiceCall]
) -> None:
    body = {"target": {"entity_id": "lock.front_gate"}, "data": {"duration": 600, "colour": "red"}}

    status, answer = await post(session, http_hub, "/api/services/door/open", json=body)

    assert status == 400
    assert_error(answer, "invalid_service_data")
    assert set(answer["error"]["fields"]) == {"duration", "colour"}
    assert answer["error"]["fields"]["colour"] == "unknown key"
    assert calls == []


async def test_a_malformed_body_is_400_naming_the_field(
    http_hub: Hub, session: aiohttp.ClientSession, calls: list[ServiceCall]
) -> None:
    status, answer = await post(session, http_hub, "/api/services/door/open", json={"target": "lock.front_gate"})

    assert status == 400
    assert_error(answer, "invalid_data")
    assert set(answer["error"]["fields"]) == {"target"}


@pytest.mark.parametrize("payload", [b"{not json", b"[1, 2]", b"\xff\xfe"])
async def test_malformed_json_is_400(
    http_hub: Hub, session: aiohttp.ClientSession, calls: list[ServiceCall], payload: bytes
) -> None:
    headers = {"Content-Type": "application/json"}
    status, answer = await post(session, http_hub, "/api/services/door/open", data=payload, headers=headers)

    assert status == 400
    assert_error(answer, "invalid_json")
    assert set(answer["error"]["fields"]) == {"<root>"}
    assert calls == []


async def test_unknown_service_is_404(http_hub: Hub, session: aiohttp.ClientSession) -> None:
    status, answer = await post(session, http_hub, "/api/services/door/explode", json={})

    assert status == 404
    assert_error(answer, "service_not_found", {})


# ------------------------------------------------------------------------------ integrations and entries


class DoorbellIntegration:
    """A small integration: one config entry kind, and HTTP routes through the ``http_routes`` hook."""

    __name__ = "tests.doorbell"

    @hookimpl
    def integration(self) -> Integration:
        async def setup_entry(hub: Hub, entry: Any) -> None:
            hub.states.set("binary_sensor.doorbell", "off", {"friendly_name": "Doorbell"})

        return Integration(domain="doorbell", name="Doorbell", async_setup_entry=setup_entry)

    @hookimpl
    def http_routes(self, hub: Hub) -> list[web.AbstractRouteDef]:
        async def ring(request: web.Request) -> web.Response:
            hub.states.set("binary_sensor.doorbell", "on")
            return web.json_response({"rang": request.match_info["name"]})

        async def claimed(request: web.Request) -> web.Response:
            raise DeviceClaimConflict("serial SN-1 of Acme is already claimed by another tenant")

        async def broken(request: web.Request) -> web.Response:
            raise RuntimeError("secret internals /etc/doorbell.key")

        return [
            web.post("/api/doorbell/{name}/ring", ring),
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
    return await hub_factory(http=True, plugins=[DoorbellIntegration(), ClashingRoutes(), FailingRoutes()])


async def test_an_integration_route_is_mounted_through_the_hook(
    plugin_hub: Hub, session: aiohttp.ClientSession
) -> None:
    status, body = await post(session, plugin_hub, "/api/doorbell/front/ring")

    assert status == 200
    assert body == {"rang": "front"}
    assert plugin_hub.states.get("binary_sensor.doorbell").state == "on"  # type: ignore[union-attr]


async def test_routes_that_clash_or_fail_are_skipped_and_reported(
    plugin_hub: Hub, session: aiohttp.ClientSession
) -> None:
    status, states = await get(session, plugin_hub, "/api/states")
    assert status == 200
    assert isinstance(states, list)  # still the core's handler

    status, _ = await get(session, plugin_hub, "/api/clash/ok")
    assert status == 404  # all of a clashing integration's routes are refused, not half of them

    status, body = await get(session, plugin_hub, "/api/integrations")
    assert status == 200
    assert set(body["route_failures"]) == {"tests.clashing", "tests.failing"}
    assert "GET /api/states" in body["route_failures"]["tests.clashing"]
    assert "no routes today" in body["route_failures"]["tests.failing"]


async def test_integrations_lists_loaded_ones_and_failures(plugin_hub: Hub, session: aiohttp.ClientSession) -> None:
    plugin_hub.plugins.failures["acme_broken"] = "ImportError: no module named acme_sdk"

    status, body = await get(session, plugin_hub, "/api/integrations")

    assert status == 200
    doorbell = next(integration for integration in body["loaded"] if integration["domain"] == "doorbell")
    assert doorbell["name"] == "Doorbell"
    assert doorbell["config_entries"] is True
    assert body["failures"] == {"acme_broken": "ImportError: no module named acme_sdk"}


async def test_config_entries(plugin_hub: Hub, session: aiohttp.ClientSession) -> None:
    entry = await plugin_hub.config_entries.add("doorbell", {}, tenant_id=None, title="Front doorbell")

    status, body = await get(session, plugin_hub, "/api/config_entries")

    assert status == 200
    assert [(item["entry_id"], item["title"], item["state"]) for item in body] == [
        (entry.entry_id, "Front doorbell", "loaded")
    ]


async def test_a_claim_conflict_is_409(plugin_hub: Hub, session: aiohttp.ClientSession) -> None:
    status, body = await post(session, plugin_hub, "/api/doorbell/claim")

    assert status == 409
    assert_error(body, "claim_conflict", {})


async def test_a_bug_is_500_logged_once_and_leaks_nothing(
    plugin_hub: Hub, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="hub.http"):
        async with session.get(plugin_hub.http.url + "/api/doorbell/broken") as response:
            status, text = response.status, await response.text()

    assert status == 500
    assert "secret" not in text and "Traceback" not in text
    assert_error(json.loads(text), "internal_error", {})
    logged = [record for record in caplog.records if record.name.startswith("hub.http")]
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    assert "/api/doorbell/broken" in logged[0].getMessage()
