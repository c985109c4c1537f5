"""A directly reachable device following its alert stream, end to end: claim, ACTIVE, events, OFFLINE, and the
AcsEvent backfill after each reconnection (nothing missed, nothing doubled). The device is the ISAPI simulator on
127.0.0.1 with real Digest auth; the hub is real (HTTP, SQLite, health monitor with a short back-off table).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from hub.device_registry import DeviceStatus
from hub.health import HealthLevel
from hub.testing import wait_for
from integrations.hikvision.device import health_key
from integrations.hikvision.models import HikvisionAccessEvent

from .conftest import HikSite

SERIAL = "DS-K1T671M0001"


async def stored_records(site: HikSite, serial: str) -> int:
    async with site.hub.database.session() as session:
        count = await session.scalar(select(func.count()).where(HikvisionAccessEvent.serial == serial))
    return int(count or 0)


async def test_claim_then_connect_makes_the_device_active_for_the_tenant(site: HikSite) -> None:
    simulator = await site.device_sim(SERIAL, kind="access")
    status, claimed = await site.admin.post("/api/hikvision/claim", {"serial": SERIAL, "tenant_id": site.tenant.id})
    assert (status, claimed["status"], claimed["tenant_id"]) == (201, "PENDING", site.tenant.id)

    entry = await site.add_device(simulator)

    assert str(entry.state) == "loaded"
    device = site.device(SERIAL)
    assert device.status is DeviceStatus.ACTIVE
    assert device.tenant_id == site.tenant.id
    assert (device.model, device.sw_version) == ("DS-K1T671M", "V5.7.12")
    lock = site.hub.states.get("lock.front_door_door_1") or site.hub.states.get(
        f"lock.{device.name.lower().replace(' ', '_').replace('-', '_')}_door_1"
    )
    assert lock is not None and lock.state == "locked" and lock.tenant_id == site.tenant.id
    health = site.hub.health.get(health_key(SERIAL))
    assert health is not None and health.level is HealthLevel.EXCELLENT and health.device_id == device.id


async def test_scans_become_access_events_once(site: HikSite) -> None:
    simulator = await site.device_sim(SERIAL, kind="access")
    await site.add_device(simulator, name="Staff door")
    await wait_for(lambda: simulator.stream_count == 1)

    granted = simulator.emit_access(5, 75, employee_no="42", name="Ada Lovelace")
    denied = simulator.emit_access(5, 9, employee_no=None, card_no="9988776655")
    await wait_for(lambda: len(site.access(SERIAL)) == 2)

    first, second = site.access(SERIAL)
    device = site.device(SERIAL)
    assert first == {
        "device_id": device.id,
        "person": "Ada Lovelace",
        "method": "face",
        "granted": True,
        "direction": "in",
        "time": first["time"],
        "person_id": "42",
        "door": 1,
        "reason": None,
        "serial": SERIAL,
        "serial_no": granted,
        "card_no": None,
        "major": 5,
        "minor": 75,
        "source": "stream",
    }
    assert (second["granted"], second["method"], second["card_no"], second["serial_no"]) == (
        False,
        "card",
        "9988776655",
        denied,
    )
    assert second["reason"] == "invalid card"
    last = site.hub.states.get("sensor.staff_door_last_access")
    assert last is not None and last.state == "9988776655" and last.attributes["granted"] is False
    assert await stored_records(site, SERIAL) == 2

    # A backfill reads the same records again: nothing new, nothing fired twice.
    status, answer = await site.admin.post(f"/api/hikvision/devices/{SERIAL}/backfill")
    assert (status, answer["new_records"]) == (200, 0)
    assert len(site.access(SERIAL)) == 2


async def test_door_records_move_the_lock_and_fire_hikvision_events(site: HikSite) -> None:
    simulator = await site.device_sim(SERIAL, kind="access")
    await site.add_device(simulator, name="Staff door")
    await wait_for(lambda: simulator.stream_count == 1)

    simulator.emit_access(5, 25, employee_no=None)  # door opened (contact)
    simulator.emit_access(5, 27, employee_no=None)  # opened abnormally
    await wait_for(lambda: len([e for e in site.of_type("hikvision_event") if e.get("major") == 5]) == 2)

    kinds = [(e["kind"], e["minor"], e["description"]) for e in site.of_type("hikvision_event") if e.get("major")]
    assert kinds == [("door", 25, "door opened"), ("door", 27, "door opened abnormally")]
    assert site.access(SERIAL) == []  # not a person's scan
    lock = site.hub.states.get("lock.staff_door_door_1")
    assert lock is not None and (lock.attributes["contact"], lock.attributes["alarm"]) == ("open", "forced")


async def test_camera_detections_become_binary_sensors(site: HikSite) -> None:
    simulator = await site.device_sim("DS-2CD2143G20001", kind="camera", channels=2)
    await site.add_device(simulator, name="Yard")
    await wait_for(lambda: simulator.stream_count == 1)

    simulator.emit_event("VMD", channel=2)
    simulator.emit_event("linedetection", channel=1)
    simulator.emit_event("tamperdetection", channel=1)
    await wait_for(lambda: site.hub.states.get("binary_sensor.yard_tamper_1") is not None)

    motion = site.hub.states.get("binary_sensor.yard_motion_2")
    line = site.hub.states.get("binary_sensor.yard_line_crossing_1")
    tamper = site.hub.states.get("binary_sensor.yard_tamper_1")
    assert motion is not None and motion.state == "on" and motion.attributes["device_class"] == "motion"
    assert line is not None and line.state == "on"
    assert tamper is not None and tamper.attributes["device_class"] == "tamper"
    assert {e["event_type"] for e in site.of_type("hikvision_event")} == {"VMD", "linedetection", "tamperdetection"}

    simulator.emit_event("VMD", channel=2, active=False)
    await wait_for(lambda: site.hub.states.get("binary_sensor.yard_motion_2").state == "off")
    cameras = sorted(state.entity_id for state in site.hub.states.all("camera"))
    assert cameras == ["camera.yard_camera_1", "camera.yard_camera_2"]
    # Keep-alives (the idle videoloss every few seconds) are not events.
    assert all(e["event_type"] != "videoloss" for e in site.of_type("hikvision_event"))


async def test_a_lost_device_goes_offline_and_its_missed_scans_are_backfilled(site: HikSite) -> None:
    simulator = await site.device_sim(SERIAL, kind="access")
    await site.add_device(simulator, name="Staff door")
    await wait_for(lambda: simulator.stream_count == 1)
    before = [simulator.emit_access(5, 75, employee_no=str(n), name=f"Person {n}") for n in (1, 2)]
    await wait_for(lambda: len(site.access(SERIAL)) == 2)

    await simulator.stop()  # unplugged
    await wait_for(lambda: site.device(SERIAL).status is DeviceStatus.OFFLINE)
    assert site.hub.states.get("lock.staff_door_door_1").state == "unavailable"
    health = site.hub.health.get(health_key(SERIAL))
    assert health is not None and health.level is HealthLevel.OFFLINE

    missed = [simulator.record_offline_access(5, 75, employee_no=str(n), name=f"Person {n}") for n in (3, 4, 5)]
    await simulator.start()  # back on the same address: the next retry of the back-off table finds it

    await wait_for(lambda: len(site.access(SERIAL)) == 5, timeout=10)
    assert site.device(SERIAL).status is DeviceStatus.ACTIVE
    assert [e["serial_no"] for e in site.access(SERIAL)] == [*before, *missed]
    assert [e["source"] for e in site.access(SERIAL)][2:] == ["backfill", "backfill", "backfill"]
    assert await stored_records(site, SERIAL) == 5

    await wait_for(lambda: simulator.stream_count == 1)
    after = simulator.emit_access(5, 75, employee_no="6")
    await wait_for(lambda: len(site.access(SERIAL)) == 6)
    assert site.access(SERIAL)[-1]["serial_no"] == after
    assert site.hub.states.get("lock.staff_door_door_1").state != "unavailable"


async def test_a_cut_stream_reconnects_and_backfills_what_happened_in_between(site: HikSite) -> None:
    simulator = await site.device_sim(SERIAL, kind="access")
    await site.add_device(simulator, name="Staff door")
    await wait_for(lambda: simulator.stream_count == 1)
    direct = site.manager.entries[next(iter(site.manager.entries))]
    opened = direct.streams_opened

    simulator.disconnect_streams()
    await wait_for(lambda: simulator.stream_count == 0)
    between = simulator.emit_access(5, 1, employee_no="8", card_no="12345")  # nobody is listening
    await wait_for(lambda: direct.streams_opened > opened and simulator.stream_count == 1, timeout=10)

    await wait_for(lambda: len(site.access(SERIAL)) == 1, timeout=10)
    (event,) = site.access(SERIAL)
    assert (event["serial_no"], event["source"], event["method"]) == (between, "backfill", "card")
    assert site.device(SERIAL).status is DeviceStatus.ACTIVE  # the device never stopped answering


async def test_the_first_connection_stores_history_without_replaying_it(site: HikSite) -> None:
    simulator = await site.device_sim(SERIAL, kind="access")
    yesterday = datetime.now(UTC) - timedelta(hours=20)
    old = [simulator.record_offline_access(5, 75, employee_no=str(n), when=yesterday) for n in range(3)]

    await site.add_device(simulator)
    await wait_for(lambda: simulator.stream_count == 1)
    await wait_for(lambda: site.manager.devices[SERIAL].backfilled == 3)

    assert await stored_records(site, SERIAL) == len(old)
    assert site.access(SERIAL) == []  # old scans do not trigger today's automations


async def test_removing_the_entry_stops_following_the_device(site: HikSite) -> None:
    simulator = await site.device_sim(SERIAL, kind="access")
    entry = await site.add_device(simulator, name="Staff door", event_mode="push")
    assert simulator.pusher.target is not None and site.manager.push_tokens

    await site.hub.config_entries.remove(entry.entry_id)

    assert site.device(SERIAL).status is DeviceStatus.OFFLINE  # still the tenant's, not followed any more
    assert site.device(SERIAL).tenant_id == site.tenant.id
    assert site.hub.states.get("lock.staff_door_door_1") is None
    assert site.hub.health.get(health_key(SERIAL)) is None
    url = simulator.pusher.target
    async with site.session.post(url, data=b'{"eventType": "VMD"}') as response:
        assert response.status == 404  # its push token died with the entry
