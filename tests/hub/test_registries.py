"""Devices and entities: identity, claims, tenants, persistence (on SQLite and on PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.device_registry import DeviceStatus
from hub.entity import Entity
from hub.exceptions import DeviceClaimConflict
from hub.testing import HubFactory


class DoorLock(Entity):
    domain = "lock"

    def __init__(self, serial: str, name: str = "Front door") -> None:
        self._attr_unique_id = f"{serial}-lock"
        self._attr_name = name
        self._attr_state = "locked"


@pytest.fixture
async def two_tenant_hub(database_url: str, hub_factory: HubFactory, tmp_path: Path):  # type: ignore[no-untyped-def]
    hub = await hub_factory(database_url=database_url, config_dir=tmp_path / "config")
    school = await hub.tenants.create("school", "Lycée Victor Hugo")
    bank = await hub.tenants.create("bank", "Banque du Nord")
    return hub, school, bank


async def test_a_claim_is_pending_until_the_device_connects(two_tenant_hub) -> None:  # type: ignore[no-untyped-def]
    hub, school, _ = two_tenant_hub

    claimed = await hub.devices.claim(school.id, "TM20", "ZX0006827500")
    assert (claimed.status, claimed.tenant_id) == (DeviceStatus.PENDING, school.id)

    connected = await hub.devices.connected("TM20", "ZX0006827500", model="TM20-WIFI", sw_version="2.8")
    assert connected.id == claimed.id
    assert (connected.status, connected.tenant_id, connected.model) == (DeviceStatus.ACTIVE, school.id, "TM20-WIFI")

    lost = await hub.devices.disconnected(claimed.id)
    assert lost is not None and lost.status is DeviceStatus.OFFLINE


async def test_a_serial_belongs_to_one_tenant(two_tenant_hub) -> None:  # type: ignore[no-untyped-def]
    hub, school, bank = two_tenant_hub
    await hub.devices.claim(school.id, "TM20", "ZX1")

    with pytest.raises(DeviceClaimConflict):
        await hub.devices.claim(bank.id, "TM20", "ZX1")
    again = await hub.devices.claim(school.id, "TM20", " ZX1 ")

    assert again.tenant_id == school.id
    assert len(hub.devices.all()) == 1


async def test_the_same_serial_of_two_manufacturers_is_two_devices(two_tenant_hub) -> None:  # type: ignore[no-untyped-def]
    hub, school, bank = two_tenant_hub

    await hub.devices.claim(school.id, "TM20", "A100")
    await hub.devices.claim(bank.id, "Hikvision", "A100")

    assert len(hub.devices.all()) == 2
    assert [device.manufacturer for device in hub.devices.all(tenant_id=bank.id)] == ["Hikvision"]


async def test_an_unclaimed_device_that_connects_is_held_by_nobody(two_tenant_hub) -> None:  # type: ignore[no-untyped-def]
    hub, school, _ = two_tenant_hub

    held = await hub.devices.connected("TM20", "STRAY-1")
    assert held.held and held.status is DeviceStatus.ACTIVE
    assert hub.devices.all(tenant_id=school.id) == []

    claimed = await hub.devices.claim(school.id, "TM20", "STRAY-1")
    assert (claimed.id, claimed.tenant_id, claimed.status) == (held.id, school.id, DeviceStatus.ACTIVE)


async def test_releasing_a_connected_device_holds_it_and_a_pending_claim_disappears(two_tenant_hub) -> None:  # type: ignore[no-untyped-def]
    hub, school, _ = two_tenant_hub
    active = await hub.devices.claim(school.id, "TM20", "A1")
    await hub.devices.connected("TM20", "A1")
    pending = await hub.devices.claim(school.id, "TM20", "P1")

    released = await hub.devices.release(active.id)
    assert released is not None and released.held

    assert await hub.devices.release(pending.id) is None
    assert hub.devices.get(pending.id) is None


async def test_devices_and_entities_survive_a_restart(
    database_url: str, hub_factory: HubFactory, tmp_path: Path
) -> None:
    config_dir = tmp_path / "persist"
    first = await hub_factory(database_url=database_url, config_dir=config_dir)
    school = await first.tenants.create("school")
    device = await first.devices.claim(school.id, "TM20", "ZX9")
    entity = await first.entities.add(DoorLock("ZX9"), platform="tm20", device=device)
    await first.stop()

    second = await hub_factory(database_url=database_url, config_dir=config_dir)
    again = await second.entities.add(DoorLock("ZX9", name="Renamed in firmware"), platform="tm20", device=device)

    assert second.tenants.get_by_code("school") == school
    assert second.devices.get_by_serial("TM20", "ZX9") == device
    assert again.entity_id == entity.entity_id == "lock.front_door"


async def test_entities_get_their_device_tenant_and_unique_ids(two_tenant_hub) -> None:  # type: ignore[no-untyped-def]
    hub, school, bank = two_tenant_hub
    school_device = await hub.devices.claim(school.id, "TM20", "S1")
    bank_device = await hub.devices.claim(bank.id, "TM20", "B1")

    school_lock = await hub.entities.add(DoorLock("S1"), platform="tm20", device=school_device)
    bank_lock = await hub.entities.add(DoorLock("B1"), platform="tm20", device=bank_device)

    assert (school_lock.entity_id, bank_lock.entity_id) == ("lock.front_door", "lock.front_door_2")
    assert [state.entity_id for state in hub.states.all(tenant_id=bank.id)] == ["lock.front_door_2"]
    assert hub.states.get("lock.front_door").attributes["friendly_name"] == "Front door"


async def test_a_claim_moves_the_device_entities_to_the_tenant(two_tenant_hub) -> None:  # type: ignore[no-untyped-def]
    hub, school, _ = two_tenant_hub
    held = await hub.devices.connected("TM20", "H1")
    lock = await hub.entities.add(DoorLock("H1"), platform="tm20", device=held)
    assert hub.states.get(lock.entity_id).tenant_id is None

    await hub.devices.claim(school.id, "TM20", "H1")
    await hub.block_till_done()

    assert hub.states.get(lock.entity_id).tenant_id == school.id
    assert hub.entities.get(lock.entity_id).tenant_id == school.id


async def test_an_unavailable_entity_says_so(hub, tenant) -> None:  # type: ignore[no-untyped-def]
    lock = await hub.entities.add(DoorLock("U1"), platform="tm20")
    lock._attr_available = False
    lock.write_state()

    assert hub.states.get(lock.entity_id).state == "unavailable"


async def test_writing_state_before_adding_is_an_error() -> None:
    with pytest.raises(RuntimeError, match=r"hub\.entities\.add"):
        DoorLock("X").write_state()
