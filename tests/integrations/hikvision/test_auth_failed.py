"""A refused password is its own health state: after the device's 401 nothing retries it (real terminals lock the
account after a few bad attempts, and so does the simulator), the dashboard says so, and only new credentials
or a person's reconnect try again.
"""

from __future__ import annotations

import asyncio

from hub.config_entries import EntryState
from hub.device_registry import DeviceStatus
from hub.health import HealthLevel
from hub.testing import wait_for
from integrations.hikvision.device import health_key

from .conftest import HikSite

SERIAL = "DS-K1T671M0004"


async def test_a_changed_password_stops_every_retry_until_the_entry_is_corrected(site: HikSite) -> None:
    simulator = await site.device_sim(SERIAL, kind="access", lock_after_failures=5)
    entry = await site.add_device(simulator, name="Back door")
    await wait_for(lambda: simulator.stream_count == 1)
    health = site.hub.health.get(health_key(SERIAL))
    assert health is not None

    simulator.set_password("changed on the device")
    simulator.disconnect_streams()  # the stream reconnects: 401
    await wait_for(lambda: health.level is HealthLevel.AUTH_FAILED, timeout=10)
    refused = simulator.failed_auth_attempts
    assert 1 <= refused <= 2  # one request (a digest nonce that worked may be renewed once)

    await asyncio.sleep(1.5)  # the short back-off table would have retried five times by now
    assert simulator.failed_auth_attempts == refused
    assert not simulator.locked
    assert health.retries_stopped and health.next_retry_at is None
    assert site.device(SERIAL).status is DeviceStatus.OFFLINE
    assert site.hub.states.get("lock.back_door_door_1").state == "unavailable"

    # The dashboard says so, in both languages.
    status, rows = await site.admin.get("/api/health/devices")
    (row,) = [row for row in rows if row["key"] == health.key]
    assert (row["level"], row["retries_stopped"]) == ("auth_failed", True)
    status, page = await site.admin.get("/health")
    assert status == 200 and "Wrong credentials" in page and "data-auth-failed" in page
    status, page = await site.admin.get("/hikvision", headers={"Cookie": "lang=fr"})
    assert "Identifiants refusés" in page

    # Reconnect is one attempt, no more.
    status, answer = await site.admin.post(f"/api/health/devices/{health.key}/reconnect")
    assert (status, answer["level"]) == (200, "auth_failed")
    await asyncio.sleep(0.5)
    assert refused < simulator.failed_auth_attempts <= refused + 2
    assert not simulator.locked

    # New credentials: the entry reloads, the device is back.
    await site.hub.config_entries.update(entry.entry_id, data={**entry.data, "password": "changed on the device"})
    await wait_for(lambda: simulator.stream_count == 1, timeout=10)
    fresh = site.hub.health.get(health_key(SERIAL))
    assert fresh is not None and fresh.level is HealthLevel.EXCELLENT
    assert site.device(SERIAL).status is DeviceStatus.ACTIVE
    serial_no = simulator.emit_access(5, 75, employee_no="9")
    await wait_for(lambda: serial_no in [e["serial_no"] for e in site.access(SERIAL)])


async def test_a_wrong_password_at_set_up_is_tried_once(site: HikSite) -> None:
    simulator = await site.device_sim(SERIAL, kind="access")

    entry = await site.add_device(simulator, password="not the password")
    await asyncio.sleep(0.5)

    assert entry.state is EntryState.SETUP_ERROR
    assert entry.reason is not None and "authentication failed" in entry.reason
    assert simulator.failed_auth_attempts == 1
    assert site.device(SERIAL) is None  # never answered: nothing claimed, nothing shown


async def test_an_unreachable_device_at_set_up_is_retried(site: HikSite) -> None:
    simulator = await site.device_sim(SERIAL, kind="access")
    await simulator.stop()

    entry = await site.add_device(simulator)

    assert entry.state is EntryState.SETUP_RETRY
    await simulator.start()
    await wait_for(lambda: entry.state is EntryState.LOADED, timeout=15)  # the core's entry retry (5 s)
    assert site.device(SERIAL).status is DeviceStatus.ACTIVE
