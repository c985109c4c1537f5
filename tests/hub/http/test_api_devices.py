"""Devices over REST: claim a serial, see it with its entities and health, rename it, release it; all audited."""

from __future__ import annotations

import pytest

from hub.auth.scope import Role
from hub.core import Hub
from hub.tenants import Tenant
from hub.testing.http import SignedInUser, UserFactory, assert_error


@pytest.fixture
async def school(http_hub: Hub) -> Tenant:
    return await http_hub.tenants.create("school")


@pytest.fixture
async def officer(http_hub: Hub, school: Tenant, make_user: UserFactory) -> SignedInUser:
    return await make_user(http_hub, school, Role.ADMIN)


CLAIM = {"manufacturer": "ZKTeco", "serial_number": "ZX0006827500", "name": "Gate terminal"}


async def test_a_claim_is_pending_then_idempotent_then_a_conflict_elsewhere(
    http_hub: Hub, officer: SignedInUser, make_user: UserFactory
) -> None:
    status, device = await officer.api.post("/api/devices/claim", json=CLAIM)
    assert status == 201
    assert (device["status"], device["name"]) == ("PENDING", "Gate terminal")

    status, again = await officer.api.post("/api/devices/claim", json=CLAIM)
    assert (status, again["id"]) == (200, device["id"])

    bank = await make_user(http_hub, await http_hub.tenants.create("bank"), Role.ADMIN)
    status, body = await bank.api.post("/api/devices/claim", json=CLAIM)
    assert status == 409
    assert_error(body, "claim_conflict", {})


async def test_a_device_shows_its_entities_and_health(http_hub: Hub, officer: SignedInUser) -> None:
    _, claimed = await officer.api.post("/api/devices/claim", json=CLAIM)
    device = await http_hub.devices.connected("ZKTeco", "ZX0006827500")
    tenant_id = device.tenant_id
    http_hub.health.track("gate", "Gate terminal", device_id=device.id, tenant_id=tenant_id).report_success(80.0)

    status, body = await officer.api.get(f"/api/devices/{claimed['id']}")

    assert status == 200
    assert body["status"] == "ACTIVE"
    assert [(item["key"], item["level"], item["connected"]) for item in body["health"]] == [("gate", "excellent", True)]
    status, listed = await officer.api.get("/api/devices")
    assert [item["id"] for item in listed] == [claimed["id"]]


async def test_rename_and_release_are_audited(http_hub: Hub, officer: SignedInUser) -> None:
    _, device = await officer.api.post("/api/devices/claim", json=CLAIM)
    await http_hub.devices.connected("ZKTeco", "ZX0006827500")

    status, renamed = await officer.api.patch(f"/api/devices/{device['id']}", json={"name": "Main gate"})
    assert (status, renamed["name"]) == (200, "Main gate")
    status, body = await officer.api.patch(f"/api/devices/{device['id']}", json={"name": ""})
    assert status == 400
    assert set(body["error"]["fields"]) == {"name"}

    status, released = await officer.api.post(f"/api/devices/{device['id']}/release")
    assert (status, released["held"]) == (200, True)
    assert (await officer.api.get(f"/api/devices/{device['id']}"))[0] == 404

    _, log = await officer.api.get("/api/audit")
    actions = [entry["action"] for entry in log if entry["target"] == device["id"]]
    assert actions == ["device.release", "device.rename", "device.claim"]


async def test_viewers_cannot_claim(http_hub: Hub, school: Tenant, make_user: UserFactory) -> None:
    viewer = await make_user(http_hub, school, Role.VIEWER)
    status, _ = await viewer.api.post("/api/devices/claim", json=CLAIM)
    assert status == 403
