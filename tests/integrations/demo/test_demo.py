"""The demo integration: a living site from ``demo:`` alone, its services, its unload and its restarts."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from hub.access import EVENT_ACCESS
from hub.config_entries import EntryState
from hub.core import Event, Hub
from hub.device_registry import DeviceStatus
from hub.exceptions import ServiceValidationError
from hub.testing import HubFactory, wait_for
from integrations.demo.const import DOMAIN, MANUFACTURER

FAST = {"demo": {"interval": 0.05}}
SLOW = {"demo": {"interval": 60}}  # no tick during the test: only what the test does moves a lock

DEMO_ENTITIES = {
    "lock.front_gate",
    "lock.staff_door",
    "binary_sensor.front_gate_contact",
    "binary_sensor.staff_door_contact",
    "binary_sensor.gate_camera_motion",
    "sensor.people_count",
    "sensor.library_temperature",
}
LIVE_DEVICES = {"TM20 gate terminal", "Staff door face terminal", "Gate camera", "Library station"}


@pytest.fixture
async def demo(hub_factory: HubFactory) -> Hub:
    return await hub_factory(config=FAST)


def tenant_id(hub: Hub) -> str:
    tenant = hub.tenants.get_by_code("demo")
    assert tenant is not None
    return tenant.id


def state_of(hub: Hub, entity_id: str) -> str | None:
    state = hub.states.get(entity_id)
    return state.state if state else None


def demo_entry_id(hub: Hub) -> str:
    (entry,) = hub.config_entries.all(domain=DOMAIN)
    return entry.entry_id


async def test_devices_are_claimed_by_the_demo_tenant_and_connect(demo: Hub) -> None:
    devices = {device.name: device for device in demo.devices.all(tenant_id=tenant_id(demo))}

    assert set(devices) == {*LIVE_DEVICES, "Parking camera"}
    assert all(device.manufacturer == MANUFACTURER for device in devices.values())
    assert {name for name, device in devices.items() if device.status is DeviceStatus.ACTIVE} == LIVE_DEVICES
    assert devices["Parking camera"].status is DeviceStatus.OFFLINE
    assert devices["TM20 gate terminal"].serial_number == "DEMO-TM20-0001"


async def test_entities_exist_for_the_tenant(demo: Hub) -> None:
    owner = tenant_id(demo)

    for entity_id in DEMO_ENTITIES:
        state = demo.states.get(entity_id)
        assert state is not None, entity_id
        assert state.tenant_id == owner
        registered = demo.entities.get(entity_id)
        assert registered is not None and registered.tenant_id == owner and registered.device_id is not None
    assert {state.entity_id for state in demo.states.all(tenant_id=owner)} >= DEMO_ENTITIES


async def test_states_change_over_time(demo: Hub) -> None:
    changed: set[str] = set()
    demo.bus.listen("state_changed", lambda event: changed.add(event.data["entity_id"]))

    watched = {"sensor.library_temperature", "binary_sensor.gate_camera_motion", "lock.front_gate"}
    await wait_for(lambda: watched <= changed)


async def test_access_events_are_fired_for_the_tenant(demo: Hub) -> None:
    events: list[Event[Any]] = []
    demo.bus.listen(EVENT_ACCESS, events.append)

    await wait_for(lambda: any(event.data["granted"] for event in events) and len(events) >= 5)

    terminals = {device.id for device in demo.devices.all() if "terminal" in device.name}
    for event in events:
        assert event.tenant_id == tenant_id(demo)
        assert set(event.data) == {"device_id", "person", "method", "granted", "direction", "time", "door"}
        assert event.data["device_id"] in terminals
        assert event.data["method"] in {"face", "card", "fingerprint"}
        assert isinstance(event.data["granted"], bool)


async def test_health_shows_every_device_and_the_unplugged_one_offline(demo: Hub) -> None:
    await wait_for(
        lambda: (
            state_of(demo, "sensor.demo_tm20_0001_health") == "excellent"
            and state_of(demo, "sensor.demo_cam_0002_health") == "offline"
        )
    )

    parking = demo.health.get("demo_cam_0002")
    assert parking is not None and parking.next_retry_at is not None and "unplugged" in (parking.last_error or "")
    assert {device.name for device in demo.health.all(tenant_id(demo))} == {*LIVE_DEVICES, "Parking camera"}


async def test_open_door_unlocks_then_relocks(hub_factory: HubFactory) -> None:
    hub = await hub_factory(config=SLOW)
    assert state_of(hub, "lock.front_gate") == "locked"

    await hub.services.call(DOMAIN, "open_door", {"duration": 0.1}, target={"entity_id": "lock.front_gate"})

    assert state_of(hub, "lock.front_gate") == "unlocked"
    assert state_of(hub, "binary_sensor.front_gate_contact") == "on"
    await wait_for(lambda: state_of(hub, "lock.front_gate") == "locked")
    assert state_of(hub, "binary_sensor.front_gate_contact") == "off"
    assert state_of(hub, "lock.staff_door") == "locked"  # only the target opened


@pytest.mark.parametrize(
    ("data", "target", "field"),
    [
        ({"duration": "soon"}, {"entity_id": "lock.front_gate"}, "duration"),
        ({"duration": 0}, {"entity_id": "lock.front_gate"}, "duration"),
        ({"colour": "red"}, {"entity_id": "lock.front_gate"}, "colour"),
        ({}, {"entity_id": "sensor.people_count"}, "entity_id"),
        ({}, None, "entity_id"),
    ],
)
async def test_bad_open_door_call_names_the_field(
    demo: Hub, data: dict[str, Any], target: dict[str, str] | None, field: str
) -> None:
    with pytest.raises(ServiceValidationError) as error:
        await demo.services.call(DOMAIN, "open_door", data, target=target)

    assert field in error.value.fields


async def test_unload_removes_states_and_stops_jobs(demo: Hub) -> None:
    await demo.config_entries.unload(demo_entry_id(demo))
    events: list[Event[Any]] = []
    demo.bus.listen(EVENT_ACCESS, events.append)
    await asyncio.sleep(0.3)

    assert not DEMO_ENTITIES & set(demo.states.entity_ids())
    assert not [entity_id for entity_id in demo.states.entity_ids() if entity_id.startswith("sensor.demo_")]
    assert not [name for name in demo.scheduler.jobs if name.startswith("demo")]
    assert demo.health.all(tenant_id(demo)) == []
    assert not demo.services.has(DOMAIN, "open_door")
    assert events == []


async def test_reload_brings_the_site_back(demo: Hub) -> None:
    assert await demo.config_entries.reload(demo_entry_id(demo))

    assert set(demo.states.entity_ids()) >= DEMO_ENTITIES
    assert demo.services.has(DOMAIN, "open_door")


async def test_restart_keeps_entity_ids_and_one_entry(hub_factory: HubFactory, tmp_path: Path) -> None:
    site = tmp_path / "site"
    first = await hub_factory(config=FAST, config_dir=site)
    entry_id = demo_entry_id(first)
    entity_ids = {entry.entity_id for entry in first.entities.all() if entry.platform == DOMAIN}
    device_ids = {device.id for device in first.devices.all()}
    await first.stop()

    second = await hub_factory(config={"demo": {"interval": 0.1}}, config_dir=site)

    (entry,) = second.config_entries.all(domain=DOMAIN)
    assert entry.entry_id == entry_id and entry.state is EntryState.LOADED
    assert entry.data == {"interval": 0.1}  # configuration.yaml changed: the entry follows it
    assert {registered.entity_id for registered in second.entities.all() if registered.platform == DOMAIN} == entity_ids
    assert set(second.states.entity_ids()) >= DEMO_ENTITIES
    assert {device.id for device in second.devices.all()} == device_ids
    assert len(second.tenants.all()) == 1
