"""States, history and the entity registry over the real HTTP server, as one tenant's user sees them."""

from __future__ import annotations

import time

import pytest

from hub.auth.scope import Role
from hub.core import Hub
from hub.testing.http import ApiClient, UserFactory, assert_error


@pytest.fixture
async def viewer(http_hub: Hub, make_user: UserFactory) -> ApiClient:
    school = await http_hub.tenants.create("school")
    http_hub.states.set("lock.staff_door", "locked", {"friendly_name": "Staff door"}, tenant_id=school.id)
    http_hub.states.set("lock.front_gate", "unlocked", {"friendly_name": "Front gate"}, tenant_id=school.id)
    http_hub.states.set("sensor.library_temperature", "21.5", {"unit_of_measurement": "°C"}, tenant_id=school.id)
    return (await make_user(http_hub, school, Role.VIEWER)).api


async def test_states_lists_the_tenants_entities_sorted(http_hub: Hub, viewer: ApiClient) -> None:
    http_hub.states.set("lock.bank_vault", "locked")  # no tenant: platform administrators only

    status, body = await viewer.get("/api/states")

    assert status == 200
    assert [state["entity_id"] for state in body] == [
        "lock.front_gate",
        "lock.staff_door",
        "sensor.library_temperature",
    ]
    assert body[0]["state"] == "unlocked"
    assert body[0]["attributes"] == {"friendly_name": "Front gate"}
    assert body[0]["last_changed"] == pytest.approx(time.time(), abs=10)


async def test_a_changed_state_is_served_fresh(http_hub: Hub, viewer: ApiClient) -> None:
    await viewer.get("/api/states")
    http_hub.states.set("lock.front_gate", "locked")

    _, body = await viewer.get("/api/states")
    status, one = await viewer.get("/api/states/lock.front_gate")

    assert body[0]["state"] == "locked"
    assert status == 200
    assert one["state"] == "locked"


async def test_one_state(viewer: ApiClient) -> None:
    status, body = await viewer.get("/api/states/sensor.library_temperature")

    assert status == 200
    assert body["state"] == "21.5"
    assert body["attributes"]["unit_of_measurement"] == "°C"


async def test_an_unknown_entity_is_404_in_the_error_shape(viewer: ApiClient) -> None:
    status, body = await viewer.get("/api/states/lock.nowhere")

    assert status == 404
    assert_error(body, "entity_not_found", {})
    assert "lock.nowhere" in body["error"]["message"]


async def test_history_of_an_entity(http_hub: Hub, viewer: ApiClient) -> None:
    before = time.time() - 1
    http_hub.states.set("lock.front_gate", "locked")
    http_hub.states.set("lock.front_gate", "unlocked")
    await http_hub.recorder.commit_barrier()

    status, body = await viewer.get(f"/api/history/lock.front_gate?start={before}")
    assert status == 200
    assert [state["state"] for state in body] == ["unlocked", "locked", "unlocked"]

    status, body = await viewer.get("/api/history/lock.front_gate?end=2001-01-01T00:00:00Z")
    assert status == 200
    assert body == []


async def test_history_with_a_bad_time_names_the_parameter(viewer: ApiClient) -> None:
    status, body = await viewer.get("/api/history/lock.front_gate?start=yesterday")

    assert status == 400
    assert_error(body, "invalid_query", {"start": "expected ISO 8601 or epoch seconds"})


async def test_history_of_an_invalid_entity_id_is_400(viewer: ApiClient) -> None:
    status, body = await viewer.get("/api/history/Not-An-Entity")

    assert status == 400
    assert_error(body, "invalid_entity_id")


async def test_entities_are_the_tenants_registry_entries(http_hub: Hub, make_user: UserFactory) -> None:
    from hub.entity import Entity

    school = await http_hub.tenants.create("school")
    device = await http_hub.devices.claim(school.id, "Acme", "SN-1", "Gate terminal")

    class Gate(Entity):
        _attr_unique_id = "sn-1-gate"
        _attr_name = "Gate"

    await http_hub.entities.add(Gate(), platform="acme", device=device)  # type: ignore[call-arg]
    viewer = (await make_user(http_hub, school)).api

    status, body = await viewer.get("/api/entities")

    assert status == 200
    assert [(entry["platform"], entry["unique_id"], entry["device_id"]) for entry in body] == [
        ("acme", "sn-1-gate", device.id)
    ]
