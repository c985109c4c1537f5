"""The automation pages and the overview's notifications, rendered by the real server with session cookies:
what each role sees, the blueprint form generated from selectors, the YAML editor, the trace viewer, and another
tenant's automation as the 404 page.
"""

from __future__ import annotations

import html

import aiohttp
import pytest
import yaml

from hub.auth.scope import Role
from hub.camera import Camera
from hub.core import Context, Hub
from hub.http.pages.notifications import notification_manager
from hub.notifications import NotificationManager
from hub.tenants import Tenant
from hub.testing import HubFactory, wait_for
from hub.testing.http import ADMIN_PASSWORD, ADMIN_USERNAME, SignedInUser, UserFactory


def notes(hub: Hub) -> NotificationManager:
    """The hub's notifications (started by the ``notify:`` section)."""
    manager = notification_manager(hub)
    assert manager is not None
    return manager


async def page(hub: Hub, user: SignedInUser, path: str) -> tuple[int, str]:
    cookies = {"gh_access": user.access_token, "gh_refresh": user.refresh_token}
    async with aiohttp.ClientSession(cookies=cookies) as browser, browser.get(hub.http.url + path) as response:
        return response.status, html.unescape(await response.text())


class SnapshotCamera(Camera):
    """A snapshot-only camera that answers one fixed JPEG."""

    async def async_camera_image(self, width: int | None = None) -> bytes | None:
        return bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")


@pytest.fixture
async def http_hub(hub_factory: HubFactory) -> Hub:
    """The shared fixture's hub, with notifications (``notify:``) started."""
    hub = await hub_factory(http=True, config={"notify": {}})
    await hub.auth.onboard(ADMIN_USERNAME, ADMIN_PASSWORD)
    return hub


@pytest.fixture
async def school(http_hub: Hub) -> Tenant:
    tenant = await http_hub.tenants.create("school", "Lakeside School")
    http_hub.states.set("lock.front_door", "locked", {"friendly_name": "Front door"}, tenant_id=tenant.id)
    http_hub.states.set("sensor.visitors", "3", {"friendly_name": "Visitors"}, tenant_id=tenant.id)
    return tenant


@pytest.fixture
async def bank(http_hub: Hub) -> Tenant:
    tenant = await http_hub.tenants.create("bank", "First Bank")
    http_hub.states.set("lock.vault", "locked", {"friendly_name": "Vault"}, tenant_id=tenant.id)
    return tenant


SESSION_ENDING = {
    "id": "session_ending",
    "alias": "Session ending at station 3",
    "use_blueprint": {
        "path": "gatehouse/station_session_ending.yaml",
        "input": {"station": "Station 3", "minutes": 10},
    },
}


async def test_the_list_editor_and_traces(http_hub: Hub, school: Tenant, make_user: UserFactory) -> None:
    admin = await make_user(http_hub, school, Role.ADMIN)
    viewer = await make_user(http_hub, school, Role.VIEWER)
    automation = await http_hub.automations.save(dict(SESSION_ENDING), tenant_id=school.id)

    path = http_hub.config_dir / "automations.yaml"
    broken = {"id": "broken_one", "tenant": "school", "triggers": [{"trigger": "event", "event_type": "x"}]}
    path.write_text(path.read_text() + yaml.safe_dump([broken]))
    await http_hub.automations.reload()

    status, text = await page(http_hub, viewer, "/automations")
    assert status == 200
    assert "Session ending at station 3" in text
    assert '<li class="automation-error" data-automation-id="broken_one">' in text  # refused, with its key
    assert "<code>actions</code>" in text
    assert "from gatehouse/station_session_ending.yaml" in text
    assert 'data-action="toggle"' not in text  # viewers do not switch automations
    assert "/automations/new" not in text
    status, text = await page(http_hub, admin, "/automations")
    assert 'data-action="toggle"' in text and 'data-action="trigger"' in text
    assert 'href="/automations/new"' in text

    status, text = await page(http_hub, admin, f"/automations/{automation.id}")
    assert status == 200
    assert "path: gatehouse/station_session_ending.yaml" in text
    assert "readonly" not in text
    status, text = await page(http_hub, viewer, f"/automations/{automation.id}")
    assert "readonly" in text

    http_hub.bus.fire("station_session_ending", {"station": "Station 3", "minutes_left": 4}, tenant_id=school.id)
    await wait_for(lambda: any(trace.result for trace in http_hub.automations.traces(automation.id)))
    trace = http_hub.automations.traces(automation.id)[0]
    status, text = await page(http_hub, viewer, f"/automations/{automation.id}/traces")
    assert status == 200
    assert f'data-run-id="{trace.run_id}"' in text
    assert 'data-path="action/0"' in text
    assert "finished" in text
    status, _ = await page(http_hub, viewer, f"/automations/{automation.id}/traces?run=nope")
    assert status == 404


async def test_the_blueprint_form_is_generated_from_the_selectors(
    http_hub: Hub, school: Tenant, bank: Tenant, make_user: UserFactory
) -> None:
    admin = await make_user(http_hub, school, Role.ADMIN)
    status, text = await page(http_hub, admin, "/automations/new")
    assert status == 200
    assert 'value="gatehouse/known_person_door_schedule.yaml"' in text
    assert 'id="blueprint-form"' not in text

    status, text = await page(http_hub, admin, "/automations/new?blueprint=gatehouse/known_person_door_schedule.yaml")
    assert status == 200
    assert 'id="blueprint-form"' in text
    assert '<select class="input" id="input-door" name="door" data-type="entity"' in text
    assert 'value="lock.front_door"' in text  # the tenant's locks...
    assert "sensor.visitors" not in text  # ...only locks...
    assert "lock.vault" not in text  # ...and never another tenant's
    assert 'value="tm20.open_door"' in text  # a select's options
    assert 'type="time" step="1" id="input-after" name="after" data-type="time" value="07:00:00"' in text
    assert 'data-multiple="true"' in text  # people: several names

    status, _ = await page(http_hub, admin, "/automations/new?blueprint=gatehouse/none.yaml")
    assert status == 404
    operator = await make_user(http_hub, school, Role.OPERATOR)
    status, _ = await page(http_hub, operator, "/automations/new")
    assert status == 403


async def test_another_tenants_automation_is_the_404_page(
    http_hub: Hub, school: Tenant, bank: Tenant, make_user: UserFactory
) -> None:
    automation = await http_hub.automations.save(dict(SESSION_ENDING), tenant_id=school.id)
    banker = await make_user(http_hub, bank, Role.OWNER)
    for path in (f"/automations/{automation.id}", f"/automations/{automation.id}/traces"):
        status, text = await page(http_hub, banker, path)
        assert status == 404
        assert "Session ending" not in text
    status, text = await page(http_hub, banker, "/automations")
    assert status == 200
    assert automation.id not in text


async def test_notifications_on_the_overview(
    http_hub: Hub, school: Tenant, bank: Tenant, make_user: UserFactory
) -> None:
    operator = await make_user(http_hub, school, Role.OPERATOR)
    viewer = await make_user(http_hub, school, Role.VIEWER)
    await http_hub.devices.claim(school.id, "Acme", "CAM-1", "Back door camera")
    device = await http_hub.devices.connected("Acme", "CAM-1")
    camera = await http_hub.entities.add(
        SnapshotCamera(name="Back door", unique_id="cam-1"), platform="test", device=device
    )
    data = {"title": "Back door", "message": "Back door forced at 03:12", "camera": camera.entity_id}
    await http_hub.services.call("notify", "persistent_notification", data, context=Context(tenant_id=school.id))
    secret = {"title": "Vault", "message": "Vault opened"}
    await http_hub.services.call("notify", "persistent_notification", secret, context=Context(tenant_id=bank.id))

    status, text = await page(http_hub, operator, "/")
    assert status == 200
    assert "Back door forced at 03:12" in text and "Vault opened" not in text
    assert "data-dismiss=" in text
    (notification,) = notes(http_hub).all(school.id)
    assert f'<img src="/api/notifications/{notification.id}/image" alt="Snapshot taken for Back door"' in text
    status, text = await page(http_hub, viewer, "/")
    assert "Back door forced at 03:12" in text and "data-dismiss=" not in text

    status, body = await operator.api.post(f"/api/notifications/{notification.id}/dismiss")
    assert (status, body) == (200, {"id": notification.id, "dismissed": True})
    status, text = await page(http_hub, operator, "/")
    assert "Back door forced at 03:12" not in text
    assert 'id="notifications" aria-labelledby="notifications-title" hidden' in text
