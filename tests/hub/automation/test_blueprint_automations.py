"""The shipped blueprints at work: automations.yaml entries with ``use_blueprint`` loaded by the engine on a real
hub, the event in (a scan, a detection, a device going offline, a station's session ending, a forced door),
the service call out (a demo door opening, a notification with a real camera snapshot)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.access import EVENT_ACCESS, AccessEventData
from hub.automation.errors import AutomationError
from hub.core import Hub, ServiceCall
from hub.detection import EVENT_DETECTION
from hub.notifications import NotificationManager, async_setup_notifications
from hub.tenants import Tenant
from hub.testing import HubFactory, wait_for

ALL_DAY = {"after": "00:00:00", "before": "23:59:59", "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}


async def load(hub: Hub, automations: list[dict[str, Any]]) -> list[AutomationError]:
    (hub.config_dir / "automations.yaml").write_text(yaml.safe_dump(automations), encoding="utf-8")
    return await hub.automations.reload()


def blueprint(automation_id: str, tenant: str, path: str, **inputs: Any) -> dict[str, Any]:
    return {"id": automation_id, "tenant": tenant, "use_blueprint": {"path": f"gatehouse/{path}", "input": inputs}}


def scan(hub: Hub, tenant_id: str, device_id: str, person: str | None, *, granted: bool = True) -> None:
    data: AccessEventData = {"device_id": device_id, "person": person, "method": "face", "granted": granted,
                             "direction": "in", "time": "2026-11-21T08:00:00+01:00"}  # fmt: skip
    hub.bus.fire(EVENT_ACCESS, data, tenant_id=tenant_id)


async def add_camera(hub: Hub, tenant: Tenant, video_file: Path) -> str:
    entry = await hub.config_entries.add("cameras", {"url": str(video_file), "name": "Gate"}, tenant_id=tenant.id)
    assert entry.state == "loaded", entry.reason
    entity_id: str = entry.runtime_data.entity_id
    return entity_id


@pytest.fixture
async def notifications(hub: Hub) -> NotificationManager:
    return await async_setup_notifications(hub)


async def test_a_known_person_opens_the_demo_door_during_the_schedule(hub_factory: HubFactory) -> None:
    hub = await hub_factory(config={"demo": {"interval": 3600}})
    demo = hub.tenants.get_by_code("demo")
    assert demo is not None
    door = hub.states.get("lock.front_gate")
    terminal = hub.entities.get("lock.front_gate").device_id  # type: ignore[union-attr]
    assert door is not None and door.state == "locked" and terminal is not None
    errors = await load(
        hub,
        [
            blueprint(
                "staff_open",
                "demo",
                "known_person_door_schedule.yaml",
                terminal=terminal,
                people=["Alice"],
                door="lock.front_gate",
                open_action="demo.open_door",
                **ALL_DAY,
            ),
        ],
    )
    assert errors == []
    automation = hub.automations.get("staff_open")
    assert automation is not None and automation.blueprint_path == "gatehouse/known_person_door_schedule.yaml"

    scan(hub, demo.id, terminal, "Mallory")  # not in the list
    scan(hub, demo.id, "another-terminal", "Alice")
    scan(hub, demo.id, terminal, None, granted=False)
    await hub.block_till_done()
    assert hub.states.get("lock.front_gate").state == "locked"  # type: ignore[union-attr]

    scan(hub, demo.id, terminal, "alice")

    await wait_for(lambda: hub.states.get("lock.front_gate").state == "unlocked")  # type: ignore[union-attr]
    trace = hub.automations.traces("staff_open")[0]
    await wait_for(lambda: trace.result == "finished")
    assert len(hub.automations.traces("staff_open")) == 1  # the other scans never matched the trigger


async def test_outside_the_schedule_the_door_stays_shut(hub_factory: HubFactory) -> None:
    hub = await hub_factory(config={"demo": {"interval": 3600}})
    demo = hub.tenants.get_by_code("demo")
    terminal = hub.entities.get("lock.front_gate").device_id  # type: ignore[union-attr]
    assert demo is not None and terminal is not None
    errors = await load(
        hub,
        [
            blueprint(
                "never_open",
                "demo",
                "known_person_door_schedule.yaml",
                terminal=terminal,
                door="lock.front_gate",
                open_action="demo.open_door",
                weekdays=[],
            ),
        ],
    )
    assert errors == []

    scan(hub, demo.id, terminal, "Alice")

    await wait_for(lambda: bool(hub.automations.traces("never_open")))
    trace = hub.automations.traces("never_open")[0]
    await wait_for(lambda: trace.result is not None and trace.result != "running")
    await hub.block_till_done()
    assert hub.states.get("lock.front_gate").state == "locked"  # type: ignore[union-attr]


async def test_a_person_after_hours_notifies_with_a_snapshot(
    hub: Hub, tenant: Tenant, notifications: NotificationManager, video_file: Path
) -> None:
    camera = await add_camera(hub, tenant, video_file)
    errors = await load(
        hub,
        [
            blueprint(
                "after_hours",
                "acme",
                "person_after_hours.yaml",
                camera=camera,
                hours_end="00:00",
                hours_start="23:59:59",
            ),
        ],
    )
    assert errors == []

    hub.bus.fire(EVENT_DETECTION, {"camera": camera, "label": "car", "confidence": 0.99, "zones": [], "type": "start"},
                 tenant_id=tenant.id)  # fmt: skip
    hub.bus.fire(EVENT_DETECTION, {"camera": camera, "label": "person", "confidence": 0.8, "zones": ["door"],
                                   "type": "start"}, tenant_id=tenant.id)  # fmt: skip

    await wait_for(lambda: bool(notifications.all(tenant.id)), timeout=15)
    (notification,) = notifications.all(tenant.id)
    assert notification.title == "Person after hours"
    assert notification.message.startswith(f"A person was detected on {camera} at ")
    assert notification.message.endswith("(80 % sure).")
    image = notifications.image_path(notification.id)
    assert image is not None and image.read_bytes().startswith(b"\xff\xd8")


async def test_a_device_offline_for_a_while_notifies_once(
    hub: Hub, tenant: Tenant, notifications: NotificationManager
) -> None:
    errors = await load(hub, [blueprint("offline", "acme", "device_offline.yaml", duration={"milliseconds": 200})])
    assert errors == []
    flaky = hub.health.track("flaky", "Flaky", tenant_id=tenant.id)
    dead = hub.health.track("dead_gate", "Dead gate", tenant_id=tenant.id)

    flaky.report_failure("blip")
    flaky.report_success(20.0)
    dead.report_failure("connection refused")

    await wait_for(lambda: bool(notifications.all(tenant.id)))
    await hub.block_till_done()
    (notification,) = notifications.all(tenant.id)
    assert notification.title == "Device offline"
    assert notification.message == "dead_gate has been offline for 0.0 minutes (connection refused)."


async def test_a_station_session_ending_warns_its_user(
    hub: Hub, tenant: Tenant, notifications: NotificationManager
) -> None:
    warned: list[ServiceCall] = []
    hub.services.register("stations", "warn", warned.append)
    warn = [{"action": "stations.warn", "data": {"station": "{{ trigger.event.data.station }}"}}]
    errors = await load(
        hub,
        [blueprint("warn", "acme", "station_session_ending.yaml", station="pc_3", minutes=5, warn_actions=warn)],
    )
    assert errors == []

    hub.bus.fire("station_session_ending", {"station": "pc_3", "minutes_left": 10}, tenant_id=tenant.id)  # too early
    hub.bus.fire("station_session_ending", {"station": "pc_4", "minutes_left": 2}, tenant_id=tenant.id)
    hub.bus.fire("station_session_ending", {"station": "pc_3", "minutes_left": 2}, tenant_id=tenant.id)

    await wait_for(lambda: bool(warned))
    await hub.block_till_done()
    assert [dict(call.data) for call in warned] == [{"station": "pc_3"}]
    assert [item.message for item in notifications.all(tenant.id)] == ["The session on pc_3 ends in 2 minutes."]


async def test_an_unknown_face_or_a_forced_door_alerts_with_a_snapshot(
    hub: Hub, tenant: Tenant, notifications: NotificationManager, video_file: Path
) -> None:
    camera = await add_camera(hub, tenant, video_file)
    errors = await load(hub, [blueprint("intruder", "acme", "unknown_face_or_forced_door.yaml", camera=camera)])
    assert errors == []

    scan(hub, tenant.id, "dev1", "Alice", granted=False)  # known, just not allowed now
    scan(hub, tenant.id, "dev1", None, granted=False)
    await wait_for(lambda: len(notifications.all(tenant.id)) == 1, timeout=15)
    hub.bus.fire("door_forced", {"door": "Back door"}, tenant_id=tenant.id)
    await wait_for(lambda: len(notifications.all(tenant.id)) == 2, timeout=15)

    forced, unknown = notifications.all(tenant.id)
    assert (unknown.title, unknown.message) == (
        "Unknown face refused",
        "Somebody the terminal does not know was refused (face).",
    )
    assert forced.title == "Door forced" and forced.message == "A door was forced open (Back door)."
    assert notifications.image_path(unknown.id) is not None and notifications.image_path(forced.id) is not None


async def test_a_blueprint_automation_with_bad_inputs_is_refused_with_its_key(hub: Hub, tenant: Tenant) -> None:
    await async_setup_notifications(hub)
    errors = await load(
        hub,
        [
            blueprint("bad_camera", "acme", "person_after_hours.yaml", camera="lock.front"),
            blueprint("no_such", "acme", "nothing.yaml"),
            blueprint("fine", "acme", "device_offline.yaml"),
        ],
    )

    assert sorted((error.automation_id, error.key) for error in errors) == [
        ("bad_camera", "use_blueprint.input.camera"),
        ("no_such", "use_blueprint.path"),
    ]
    assert hub.automations.get("fine") is not None
    text = textwrap.shorten(str(errors[0]), 200)
    assert "automation" in text
