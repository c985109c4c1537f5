"""The automations REST API over the hub's real HTTP server: create (JSON, YAML, blueprint), edit, enable, disable,
trigger, traces, delete; refused configurations answered key by key; roles; one tenant never reaches another's.

Automations run for real: an event fired on the bus triggers the automation, which calls a recording service
with its tenant's context; notifications made by ``notify.persistent_notification`` are read and dismissed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import yaml

from hub.auth.scope import Role
from hub.camera import Camera
from hub.core import Hub, ServiceCall
from hub.http.pages.notifications import notification_manager
from hub.notifications import NotificationManager
from hub.tenants import Tenant
from hub.testing import HubFactory, wait_for
from hub.testing.http import ApiClient, assert_error


def notes(hub: Hub) -> NotificationManager:
    """The hub's notifications (started by the ``notify:`` section)."""
    manager = notification_manager(hub)
    assert manager is not None
    return manager


@dataclass
class Site:
    """Two tenants; clients acting with API keys of each role (keys skip password hashing: fast tests)."""

    hub: Hub
    school: Tenant
    bank: Tenant
    admin: ApiClient  # the school's
    operator: ApiClient
    viewer: ApiClient
    bank_admin: ApiClient
    platform: ApiClient
    calls: list[ServiceCall]


@pytest.fixture
async def site(hub_factory: HubFactory, api_session: aiohttp.ClientSession) -> Site:
    hub = await hub_factory(http=True, config={"notify": {}})  # notify: persistent notifications started
    school = await hub.tenants.create("school", "Lakeside School")
    bank = await hub.tenants.create("bank", "First Bank")
    calls: list[ServiceCall] = []
    hub.services.register("test", "record", calls.append)

    async def client(tenant: Tenant | None, role: Role) -> ApiClient:
        _, secret = await hub.auth.create_api_key(
            f"{role} key", tenant_id=tenant.id if tenant else None, role=role, created_by=None,
            platform_admin=tenant is None,
        )  # fmt: skip
        return ApiClient(api_session, hub.http.url, secret)

    return Site(
        hub,
        school,
        bank,
        await client(school, Role.ADMIN),
        await client(school, Role.OPERATOR),
        await client(school, Role.VIEWER),
        await client(bank, Role.ADMIN),
        await client(None, Role.OWNER),
        calls,
    )


def door_automation(automation_id: str = "door_opened", alias: str = "Door opened") -> dict[str, object]:
    """An automation on the ``door_opened`` event that records the door it was told about."""
    return {
        "id": automation_id,
        "alias": alias,
        "triggers": [{"trigger": "event", "event_type": "door_opened"}],
        "actions": [{"action": "test.record", "data": {"door": "{{ trigger.event.data.door }}"}}],
    }


async def create(site: Site, config: Mapping[str, object], user: ApiClient | None = None) -> dict[str, Any]:
    status, body = await (user or site.admin).post("/api/automations", json=config)
    assert status == 201, body
    assert isinstance(body, dict)
    return body


# ------------------------------------------------------------------------------------------------ lifecycle


async def test_an_automation_created_through_the_api_runs_for_its_tenant_only(site: Site) -> None:
    created = await create(site, door_automation())
    assert created["id"] == "door_opened"
    assert created["tenant_id"] == site.school.id
    assert created["enabled"] is True

    site.hub.bus.fire("door_opened", {"door": "bank vault"}, tenant_id=site.bank.id)  # another tenant's event
    site.hub.bus.fire("door_opened", {"door": "main"}, tenant_id=site.school.id)
    await wait_for(lambda: len(site.calls) == 1)
    call = site.calls[0]
    assert call.data["door"] == "main"
    assert call.context is not None and call.context.tenant_id == site.school.id

    status, listed = await site.viewer.get("/api/automations")
    assert status == 200
    assert [item["id"] for item in listed] == ["door_opened"]
    status, detail = await site.viewer.get("/api/automations/door_opened")
    assert status == 200
    assert yaml.safe_load(detail["yaml"])["alias"] == "Door opened"
    assert detail["last_triggered"] is not None

    status, traces = await site.viewer.get("/api/automations/door_opened/traces")
    assert status == 200 and len(traces) == 1
    trace = traces[0]
    assert trace["result"] == "finished"
    assert [step["path"] for step in trace["steps"] if step["path"].startswith("action")] == ["action/0"]
    status, one = await site.viewer.get(f"/api/automations/door_opened/traces/{trace['run_id']}")
    assert (status, one["run_id"]) == (200, trace["run_id"])
    status, body = await site.viewer.get("/api/automations/door_opened/traces/no-such-run")
    assert_error(body, "trace_not_found")

    status, _ = await site.bank_admin.get("/api/automations")
    assert (status, _) == (200, [])


async def test_edit_disable_trigger_and_delete(site: Site) -> None:
    await create(site, door_automation())
    changed = {**door_automation(), "alias": "Main door opened"}
    status, body = await site.admin.request("PUT", "/api/automations/door_opened", json=changed)
    assert status == 200, body
    assert body["alias"] == "Main door opened"

    status, body = await site.operator.post("/api/automations/door_opened/disable")
    assert (status, body["enabled"]) == (200, False)
    written = yaml.safe_load((site.hub.config_dir / "automations.yaml").read_text())
    assert [entry.get("enabled") for entry in written if entry["id"] == "door_opened"] == [False]
    site.hub.bus.fire("door_opened", {"door": "main"}, tenant_id=site.school.id)
    status, body = await site.operator.post("/api/automations/door_opened/enable")
    assert (status, body["enabled"]) == (200, True)
    assert site.calls == []  # the event while it was off did nothing

    status, trace = await site.operator.post(
        "/api/automations/door_opened/trigger", json={"variables": {"trigger": {"event": {"data": {"door": "side"}}}}}
    )
    assert status == 200, trace
    assert trace["result"] == "finished"
    assert [call.data["door"] for call in site.calls] == ["side"]

    status, body = await site.admin.delete("/api/automations/door_opened")
    assert (status, body) == (200, {"id": "door_opened", "deleted": True})
    status, body = await site.admin.get("/api/automations/door_opened")
    assert_error(body, "automation_not_found")
    assert "door_opened" not in (site.hub.config_dir / "automations.yaml").read_text()


async def test_an_id_is_generated_when_none_is_given_and_a_taken_one_is_refused(site: Site) -> None:
    config = door_automation()
    del config["id"]
    created = await create(site, config)
    assert isinstance(created["id"], str) and created["id"]
    await create(site, door_automation("taken"))
    status, body = await site.admin.post("/api/automations", json=door_automation("taken"))
    assert status == 409
    assert_error(body, "automation_exists", {"id": "already used"})


# ---------------------------------------------------------------------------------------------- bad input


async def test_a_refused_configuration_names_each_key(site: Site) -> None:
    config = {**door_automation(), "actions": [{"action": "test.record"}, {"action": "nowhere.nothing"}]}
    status, body = await site.admin.post("/api/automations", json=config)
    assert status == 400
    assert body["error"]["code"] == "invalid_automation"
    assert "actions.1.action" in body["error"]["fields"]
    assert site.hub.automations.get("door_opened") is None  # nothing half-saved


async def test_yaml_errors_say_the_line(site: Site) -> None:
    status, body = await site.admin.post("/api/automations", json={"yaml": "id: x\nalias: [unclosed\n"})
    assert status == 400
    assert body["error"]["code"] == "invalid_yaml"
    assert body["error"]["fields"]["yaml"].startswith("line ")

    text = (
        "id: broken\n"
        "alias: Broken\n"
        "triggers:\n"
        "  - trigger: event\n"
        "    event_type: door_opened\n"
        "actions:\n"
        "  - action: test.record\n"
        "  - action: nowhere.nothing\n"
    )
    status, body = await site.admin.post("/api/automations", json={"yaml": text})
    assert status == 400
    assert body["error"]["fields"]["actions.1.action"].startswith("line 8: ")

    status, body = await site.admin.post("/api/automations", json={"yaml": "password: !secret admin_password"})
    assert status == 400
    assert body["error"]["code"] == "invalid_yaml"  # the hub's secrets are never read for an API caller
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"
    status, body = await site.admin.post("/api/automations", json={"yaml": bomb})
    assert status == 400
    assert body["error"]["fields"]["yaml"] == "line 2, column 8: anchors and aliases (*name) are not accepted here"

    status, body = await site.admin.post(
        "/api/automations", json={"yaml": text.replace("nowhere.nothing", "test.record")}
    )
    assert status == 201, body
    assert body["id"] == "broken"


async def test_refused_automations_in_the_file_are_listed_and_the_others_run(site: Site) -> None:
    await create(site, door_automation())
    path = site.hub.config_dir / "automations.yaml"
    entries = yaml.safe_load(path.read_text())
    entries.append({"id": "no_actions", "tenant": "school", "triggers": [{"trigger": "event", "event_type": "x"}]})
    path.write_text(yaml.safe_dump(entries))

    status, body = await site.admin.post("/api/automations/reload")
    assert status == 403  # platform administrators only
    status, body = await site.platform.post("/api/automations/reload")
    assert status == 200, body
    assert {error["automation_id"] for error in body["errors"]} == {"no_actions"}

    status, errors = await site.platform.get("/api/automation_errors")
    assert status == 200
    assert [(error["automation_id"], error["key"]) for error in errors] == [("no_actions", "actions")]
    status, errors = await site.viewer.get("/api/automation_errors")  # the school's own refused automation
    assert [(error["automation_id"], error["tenant_id"]) for error in errors] == [("no_actions", site.school.id)]
    status, errors = await site.bank_admin.get("/api/automation_errors")
    assert (status, errors) == (200, [])

    site.hub.bus.fire("door_opened", {"door": "main"}, tenant_id=site.school.id)
    await wait_for(lambda: len(site.calls) == 1)


# ------------------------------------------------------------------------------------------------- roles


async def test_roles(site: Site) -> None:
    await create(site, door_automation())
    attempts = [
        (site.viewer, "POST", "/api/automations/door_opened/disable", None),
        (site.viewer, "POST", "/api/automations/door_opened/trigger", {}),
        (site.viewer, "POST", "/api/notifications/any/dismiss", None),
        (site.operator, "POST", "/api/automations", door_automation("other")),
        (site.operator, "PUT", "/api/automations/door_opened", door_automation()),
        (site.operator, "DELETE", "/api/automations/door_opened", None),
    ]
    for user, method, path, body in attempts:
        status, answer = await user.request(method, path, json=body)
        assert status == 403, (method, path, answer)
        assert_error(answer, "forbidden")
    assert site.hub.automations.get("door_opened") is not None


async def test_another_tenants_automation_does_not_exist(site: Site) -> None:
    await create(site, door_automation())
    api = site.bank_admin
    for method, path in [
        ("GET", "/api/automations/door_opened"),
        ("GET", "/api/automations/door_opened/traces"),
        ("DELETE", "/api/automations/door_opened"),
        ("POST", "/api/automations/door_opened/disable"),
        ("POST", "/api/automations/door_opened/trigger"),
    ]:
        status, body = await api.request(method, path, json={} if method == "POST" else None)
        assert status == 404, (method, path, body)
    status, body = await api.request("PUT", "/api/automations/door_opened", json=door_automation())
    assert status == 404
    # Creating in another tenant's name: that tenant does not exist for the caller.
    status, body = await api.post("/api/automations", json={**door_automation("sneaky"), "tenant": "school"})
    assert status == 404
    assert site.hub.automations.get("sneaky") is None
    automation = site.hub.automations.get("door_opened")
    assert automation is not None and automation.enabled and automation.alias == "Door opened"
    assert site.calls == []


async def test_a_platform_administrator_sees_and_filters_every_tenant(site: Site) -> None:
    await create(site, door_automation())
    await create(site, door_automation("bank_door", "Bank door"), site.bank_admin)
    status, body = await site.platform.get("/api/automations")
    assert {item["id"] for item in body} == {"door_opened", "bank_door"}
    status, body = await site.platform.get("/api/automations?tenant=bank")
    assert [item["id"] for item in body] == ["bank_door"]
    status, body = await site.platform.post("/api/automations", json={**door_automation("for_bank"), "tenant": "bank"})
    assert (status, body["tenant_id"]) == (201, site.bank.id)
    status, body = await site.admin.get("/api/automations?tenant=bank")
    assert status == 404


# ------------------------------------------------------------------------------------------------ blueprints


async def test_blueprints_are_listed_with_their_form_fields(site: Site) -> None:
    status, body = await site.viewer.get("/api/blueprints")
    assert status == 200
    paths = {blueprint["path"] for blueprint in body["blueprints"]}
    assert "gatehouse/device_offline.yaml" in paths
    status, blueprint = await site.viewer.get("/api/blueprints/gatehouse/device_offline.yaml")
    assert status == 200
    assert blueprint["fields"] and all({"name", "type", "required"} <= set(item) for item in blueprint["fields"])
    status, body = await site.viewer.get("/api/blueprints/gatehouse/none.yaml")
    assert_error(body, "blueprint_not_found")
    status, body = await site.viewer.get("/api/blueprints/../../etc/passwd.yaml")
    assert status == 404


async def test_an_automation_from_a_blueprint_runs_and_a_missing_input_is_named(site: Site) -> None:
    status, blueprint = await site.viewer.get("/api/blueprints/gatehouse/person_after_hours.yaml")
    assert [item["name"] for item in blueprint["fields"] if item["required"]] == ["camera"]
    use = {"path": "gatehouse/person_after_hours.yaml", "input": {}}
    status, body = await site.admin.post("/api/automations", json={"alias": "After hours", "use_blueprint": use})
    assert status == 400
    assert "use_blueprint.input.camera" in body["error"]["fields"], body

    use = {"path": "gatehouse/station_session_ending.yaml", "input": {"station": "Station 3", "minutes": 10}}
    created = await create(site, {"alias": "Session ending", "use_blueprint": use})
    assert created["blueprint_path"] == "gatehouse/station_session_ending.yaml"
    assert yaml.safe_load(created["yaml"])["use_blueprint"] == use  # kept as written, not expanded
    site.hub.bus.fire("station_session_ending", {"station": "Station 2", "minutes_left": 3}, tenant_id=site.school.id)
    site.hub.bus.fire("station_session_ending", {"station": "Station 3", "minutes_left": 4}, tenant_id=site.school.id)
    await wait_for(lambda: len(notes(site.hub).all(site.school.id)) == 1)
    (notification,) = notes(site.hub).all(site.school.id)
    assert "Station 3" in notification.message


# --------------------------------------------------------------------------------------------- notifications

JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")  # the smallest JPEG frame markers


class SnapshotCamera(Camera):
    """A snapshot-only camera that answers one fixed JPEG."""

    async def async_camera_image(self, width: int | None = None) -> bytes | None:
        return JPEG


async def test_notifications_with_their_snapshot_for_their_tenant_only(site: Site) -> None:
    await site.hub.devices.claim(site.school.id, "Acme", "CAM-1", "Gate camera")
    device = await site.hub.devices.connected("Acme", "CAM-1")
    camera = await site.hub.entities.add(SnapshotCamera(name="Gate", unique_id="cam-1"), platform="test", device=device)
    config = {
        "id": "snapshot",
        "triggers": [{"trigger": "event", "event_type": "door_forced"}],
        "actions": [
            {
                "action": "notify.persistent_notification",
                "data": {
                    "title": "Door forced",
                    "message": "{{ trigger.event.data.door }}",
                    "camera": camera.entity_id,
                },
            }
        ],
    }
    await create(site, config)
    site.hub.bus.fire("door_forced", {"door": "Back door"}, tenant_id=site.school.id)
    await wait_for(lambda: len(notes(site.hub).all(site.school.id)) == 1)

    status, listed = await site.viewer.get("/api/notifications")
    assert status == 200
    (notification,) = listed
    assert (notification["title"], notification["message"], notification["has_image"]) == (
        "Door forced",
        "Back door",
        True,
    )
    async with site.viewer.session.get(
        site.hub.http.url + notification["image_url"], headers=site.viewer.headers
    ) as response:
        assert response.status == 200
        assert response.content_type == "image/jpeg"
        assert await response.read() == JPEG

    status, body = await site.bank_admin.get("/api/notifications")
    assert (status, body) == (200, [])
    for method, path in [("GET", "image"), ("POST", "dismiss")]:
        status, body = await site.bank_admin.request(method, f"/api/notifications/{notification['id']}/{path}")
        assert status == 404, body
        assert_error(body, "notification_not_found")

    status, body = await site.operator.post(f"/api/notifications/{notification['id']}/dismiss")
    assert (status, body) == (200, {"id": notification["id"], "dismissed": True})
    status, body = await site.viewer.get("/api/notifications")
    assert (status, body) == (200, [])
    status, body = await site.viewer.get(f"/api/notifications/{notification['id']}/image")
    assert status == 404
