"""Recorded events over REST: filters, and acknowledgement by operators (audited, once)."""

from __future__ import annotations

import time

import pytest

from hub.auth.scope import Role
from hub.core import Hub
from hub.tenants import Tenant
from hub.testing.http import SignedInUser, UserFactory


@pytest.fixture
async def school(http_hub: Hub) -> Tenant:
    tenant = await http_hub.tenants.create("school")
    http_hub.bus.fire("access_granted", {"device_id": "gate", "person": "Ada"}, tenant_id=tenant.id)
    http_hub.bus.fire("access_denied", {"device_id": "gate", "person": "Eve"}, tenant_id=tenant.id)
    http_hub.bus.fire("access_granted", {"device_id": "door", "person": "Bob"}, tenant_id=tenant.id)
    http_hub.bus.fire("access_granted", {"device_id": "vault", "person": "Mallory"})  # no tenant
    await http_hub.recorder.commit_barrier()
    return tenant


@pytest.fixture
async def operator(http_hub: Hub, school: Tenant, make_user: UserFactory) -> SignedInUser:
    return await make_user(http_hub, school, Role.OPERATOR)


async def test_events_newest_first_filtered(operator: SignedInUser) -> None:
    status, body = await operator.api.get("/api/events?type=access_granted")
    assert status == 200
    assert [event["data"]["person"] for event in body] == ["Bob", "Ada"]

    _, body = await operator.api.get("/api/events?device_id=gate")
    assert [event["event_type"] for event in body] == ["access_denied", "access_granted"]
    _, body = await operator.api.get(f"/api/events?type=access_granted&limit=1&end={time.time() + 1}")
    assert [event["data"]["person"] for event in body] == ["Bob"]
    _, body = await operator.api.get("/api/events?start=2999-01-01")
    assert body == []


async def test_an_event_is_acknowledged_once_and_audited(
    http_hub: Hub, operator: SignedInUser, school: Tenant, make_user: UserFactory
) -> None:
    _, body = await operator.api.get("/api/events?type=access_denied")
    event = body[0]
    assert event["acknowledged"] is False

    status, acked = await operator.api.post(f"/api/events/{event['id']}/acknowledge")
    assert status == 200
    assert (acked["acknowledged"], acked["acknowledged_by"]) == (True, operator.id)
    status, again = await operator.api.post(f"/api/events/{event['id']}/acknowledge")
    assert again["acknowledged_at"] == acked["acknowledged_at"]

    _, pending = await operator.api.get("/api/events?acknowledged=false")
    assert event["id"] not in {item["id"] for item in pending}
    _, done = await operator.api.get("/api/events?acknowledged=true")
    assert [item["id"] for item in done] == [event["id"]]

    admin = await make_user(http_hub, school, Role.ADMIN)
    _, log = await admin.api.get("/api/audit?action=event.acknowledge")
    assert [entry["target"] for entry in log] == [str(event["id"])]


async def test_acknowledging_needs_an_operator_and_a_visible_event(
    http_hub: Hub, school: Tenant, operator: SignedInUser, make_user: UserFactory
) -> None:
    viewer = await make_user(http_hub, school, Role.VIEWER)
    _, body = await viewer.api.get("/api/events")
    assert (await viewer.api.post(f"/api/events/{body[0]['id']}/acknowledge"))[0] == 403
    assert (await operator.api.post("/api/events/999999/acknowledge"))[0] == 404
    assert (await operator.api.post("/api/events/not-a-number/acknowledge"))[0] == 404
    status, body = await operator.api.get("/api/events?acknowledged=maybe")
    assert status == 400
    assert set(body["error"]["fields"]) == {"acknowledged"}
