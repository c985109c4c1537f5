"""Config entries and integrations over REST: add (validated by the integration's schema), reload, remove."""

from __future__ import annotations

from typing import Any

import pytest
import voluptuous as vol

from hub.auth.scope import Role
from hub.core import Hub
from hub.hookspecs import hookimpl
from hub.integration import Integration
from hub.testing import HubFactory
from hub.testing.http import SignedInUser, UserFactory, assert_error


class Doorbell:
    __name__ = "tests.doorbell"

    @hookimpl
    def integration(self) -> Integration:
        async def setup_entry(hub: Hub, entry: Any) -> None:
            hub.states.set("binary_sensor.doorbell", "off", tenant_id=entry.tenant_id)

        schema = vol.Schema(
            {vol.Required("host"): str, vol.Optional("port", default=80): vol.All(int, vol.Range(1, 65535))}
        )
        return Integration(
            domain="doorbell", name="Doorbell", config_entry_schema=schema, async_setup_entry=setup_entry
        )


@pytest.fixture
async def officer(hub_factory: HubFactory, make_user: UserFactory) -> SignedInUser:
    hub = await hub_factory(http=True, plugins=[Doorbell()])
    school = await hub.tenants.create("school")
    return await make_user(hub, school, Role.ADMIN)


async def test_an_entry_is_validated_added_reloaded_and_removed(officer: SignedInUser) -> None:
    status, body = await officer.api.post("/api/config_entries", json={"domain": "doorbell", "data": {"port": "x"}})
    assert status == 400
    assert_error(body, "invalid_config_entry")
    assert set(body["error"]["fields"]) == {"host", "port"}

    status, entry = await officer.api.post(
        "/api/config_entries", json={"domain": "doorbell", "data": {"host": "127.0.0.1"}, "title": "Front"}
    )
    assert status == 201
    assert (entry["title"], entry["state"]) == ("Front", "loaded")
    _, listed = await officer.api.get("/api/config_entries")
    assert [item["entry_id"] for item in listed] == [entry["entry_id"]]

    status, reloaded = await officer.api.post(f"/api/config_entries/{entry['entry_id']}/reload")
    assert (status, reloaded["state"]) == (200, "loaded")
    assert (await officer.api.delete(f"/api/config_entries/{entry['entry_id']}"))[0] == 204
    assert (await officer.api.get("/api/config_entries"))[1] == []

    _, log = await officer.api.get("/api/audit")
    assert [item["action"] for item in log][:3] == ["config_entry.remove", "config_entry.reload", "config_entry.add"]


async def test_an_unknown_integration_is_404(officer: SignedInUser) -> None:
    status, body = await officer.api.post("/api/config_entries", json={"domain": "teleporter"})
    assert status == 404
    assert_error(body, "integration_not_found")


async def test_integrations_carry_their_entry_form(officer: SignedInUser) -> None:
    status, body = await officer.api.get("/api/integrations")
    assert status == 200
    doorbell = next(item for item in body["loaded"] if item["domain"] == "doorbell")
    assert [
        (field["name"], field["type"], field.get("required", False)) for field in doorbell["config_entry_schema"]
    ] == [
        ("host", "string", True),
        ("port", "integer", False),
    ]
    assert body["failures"] == {}
