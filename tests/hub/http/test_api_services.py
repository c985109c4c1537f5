"""Services over REST: the list with fields, and calls as the signed-in caller, audited."""

from __future__ import annotations

from typing import Any

import pytest
import voluptuous as vol

from hub.auth.scope import Role
from hub.core import Hub, ServiceCall
from hub.exceptions import DeviceError
from hub.tenants import Tenant
from hub.testing.http import SignedInUser, UserFactory, assert_error


@pytest.fixture
async def school(http_hub: Hub) -> Tenant:
    tenant = await http_hub.tenants.create("school")
    http_hub.states.set("lock.front_gate", "locked", tenant_id=tenant.id)
    return tenant


@pytest.fixture
async def operator(http_hub: Hub, school: Tenant, make_user: UserFactory) -> SignedInUser:
    return await make_user(http_hub, school, Role.OPERATOR)


@pytest.fixture
def calls(http_hub: Hub) -> list[ServiceCall]:
    """Registers ``door.open`` (data: optional whole ``duration`` from 1 to 60 s) and records its calls."""
    received: list[ServiceCall] = []

    async def open_door(call: ServiceCall) -> dict[str, Any]:
        received.append(call)
        return {"opened": list(call.entity_ids)}

    schema = vol.Schema(
        {vol.Optional("duration", default=5, description="seconds"): vol.All(int, vol.Range(min=1, max=60))}
    )
    http_hub.services.register("door", "open", open_door, schema, description="Open a door for a while.")
    return received


async def test_services_are_listed_with_their_fields(operator: SignedInUser, calls: list[ServiceCall]) -> None:
    status, body = await operator.api.get("/api/services")

    assert status == 200
    door = next(entry for entry in body if entry["domain"] == "door")["services"]["open"]
    assert door["description"] == "Open a door for a while."
    assert door["fields"] == {"duration": {"required": False, "description": "seconds"}}
    assert door["schema"][0]["name"] == "duration"


async def test_a_call_with_target_and_data(operator: SignedInUser, calls: list[ServiceCall]) -> None:
    body = {"target": {"entity_id": "lock.front_gate"}, "data": {"duration": 10}}

    status, answer = await operator.api.post("/api/services/door/open", json=body)

    assert (status, answer) == (200, {"result": {"opened": ["lock.front_gate"]}})
    assert dict(calls[0].data) == {"duration": 10}
    assert calls[0].context is not None and calls[0].context.user_id == operator.id


async def test_a_call_with_no_body_uses_the_defaults(operator: SignedInUser, calls: list[ServiceCall]) -> None:
    status, _ = await operator.api.post("/api/services/door/open")
    assert status == 200
    assert dict(calls[0].data) == {"duration": 5}


async def test_bad_service_data_is_400_naming_the_fields(operator: SignedInUser, calls: list[ServiceCall]) -> None:
    body = {"target": {"entity_id": "lock.front_gate"}, "data": {"duration": 600, "colour": "red"}}
    status, answer = await operator.api.post("/api/services/door/open", json=body)
    assert status == 400
    assert_error(answer, "invalid_service_data")
    assert set(answer["error"]["fields"]) == {"duration", "colour"}

    status, answer = await operator.api.post("/api/services/door/open", json={"target": "lock.front_gate"})
    assert status == 400
    assert_error(answer, "invalid_data")
    assert set(answer["error"]["fields"]) == {"target"}
    assert calls == []


async def test_an_unknown_service_or_a_foreign_entity_is_404(
    http_hub: Hub, operator: SignedInUser, calls: list[ServiceCall]
) -> None:
    status, answer = await operator.api.post("/api/services/door/explode", json={})
    assert status == 404
    assert_error(answer, "service_not_found", {})
    http_hub.states.set("lock.bank_vault", "locked")
    status, answer = await operator.api.post(
        "/api/services/door/open", json={"target": {"entity_id": "lock.bank_vault"}}
    )
    assert status == 404
    assert calls == []


async def test_a_device_that_fails_the_call_is_502_with_its_message(http_hub: Hub, operator: SignedInUser) -> None:
    async def jammed(call: ServiceCall) -> None:
        raise DeviceError("door 1: the controller answered statusCode 4 (invalid operation)")

    http_hub.services.register("door", "jam", jammed)
    status, answer = await operator.api.post(
        "/api/services/door/jam", json={"target": {"entity_id": "lock.front_gate"}}
    )

    assert status == 502
    assert_error(answer, "device_error")
    assert "statusCode 4" in answer["error"]["message"]


async def test_service_calls_are_audited(
    http_hub: Hub, school: Tenant, make_user: UserFactory, calls: list[ServiceCall]
) -> None:
    admin = await make_user(http_hub, school, Role.ADMIN)
    await admin.api.post("/api/services/door/open", json={"target": {"entity_id": "lock.front_gate"}})
    _, log = await admin.api.get("/api/audit?action=service.call")
    assert [(entry["target"], entry["details"]["target"]) for entry in log] == [
        ("door.open", {"entity_id": "lock.front_gate"})
    ]
