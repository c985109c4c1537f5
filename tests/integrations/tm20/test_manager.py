"""Registration, claim, whitelist, health, entities and the on-registration sequence, with simulated terminals."""

from __future__ import annotations

import asyncio
import functools
import sqlite3

import pytest
from sqlalchemy import func, make_url, select
from sqlalchemy.ext.asyncio import create_async_engine

from hub.device_registry import DeviceStatus
from hub.store import database as database_module
from hub.store.models import DeviceRow
from hub.testing import wait_for
from integrations.tm20.const import MANUFACTURER

from .conftest import SiteFactory, Tm20Site


async def test_a_claimed_terminal_becomes_active_with_entities_and_health(site: Tm20Site) -> None:
    device_id = await site.claim("AYTE0001", "Front gate")
    terminal = await site.terminal("AYTE0001")
    assert terminal.reg_reply is not None and terminal.reg_reply["result"] is True
    device = site.hub.devices.get(device_id)
    assert device is not None and device.status is DeviceStatus.ACTIVE and device.model == "tfs30"
    for entity_id in ("lock.front_gate_door", "sensor.front_gate_last_access", "sensor.front_gate_users"):
        state = site.hub.states.get(entity_id)
        assert state is not None and state.tenant_id == site.tenant.id, entity_id
    assert site.hub.states.get("lock.front_gate_door").state == "locked"
    health = site.hub.health.get("tm20_ayte0001")
    assert health is not None and health.connected and health.tenant_id == site.tenant.id


async def test_an_unclaimed_terminal_is_held_without_entities(site: Tm20Site) -> None:
    await site.terminal("HELD0001")
    device = site.hub.devices.get_by_serial(MANUFACTURER, "HELD0001")
    assert device is not None and device.held and device.status is DeviceStatus.ACTIVE
    assert not [entity for entity in site.hub.entities.all(device_id=device.id) if entity.platform == "tm20"]


async def test_claiming_a_connected_terminal_brings_its_entities(site: Tm20Site) -> None:
    await site.terminal("LATE0001")
    await site.claim("LATE0001", "Late door")
    await wait_for(lambda: site.hub.states.get("lock.late_door_door") is not None)
    health = site.hub.health.get("tm20_late0001")
    assert health is not None and health.tenant_id == site.tenant.id


async def test_the_whitelist_refuses_unknown_serials_with_a_reason(tm20_site_factory: SiteFactory) -> None:
    site = await tm20_site_factory(whitelist=True, allowed_serials=["LISTED01"])
    refused = await site.terminal("STRANGER1", reconnect=False)
    assert refused.reg_reply is not None and refused.reg_reply["result"] is False
    assert refused.reg_reply["reason"] == "STRANGER1 is not registered on this hub"
    assert site.hub.devices.get_by_serial(MANUFACTURER, "STRANGER1") is None
    listed = await site.terminal("LISTED01")
    assert listed.reg_reply is not None and listed.reg_reply["result"] is True
    await site.claim("CLAIMED1")
    claimed = await site.terminal("CLAIMED1")
    assert claimed.reg_reply is not None and claimed.reg_reply["result"] is True


async def test_registration_syncs_the_clock_and_drains_missed_logs(site: Tm20Site) -> None:
    await site.claim("DRAIN001", "Drain")
    missed = [
        {"enrollid": 7, "time": "2026-03-01 08:00:00", "mode": 1, "inout": 0, "event": 0},
        {"enrollid": 8, "time": "2026-03-01 08:01:00", "mode": 3, "inout": 1, "event": 0},
    ] + [{"enrollid": 100 + i, "time": "2026-03-01 09:00:00", "mode": 1, "inout": 0, "event": 0} for i in range(60)]
    terminal = await site.terminal("DRAIN001", logs=missed)
    await wait_for(lambda: len(site.of_type("access")) == 62)
    assert any(command.get("cmd") == "settime" for command in terminal.received)
    assert site.manager.log_count("DRAIN001") == 62
    assert not [log for log in terminal.logs if log.new]
    first = site.of_type("access")[0]
    assert first["time"] == "2026-03-01T08:00:00+01:00" and first["method"] == "fingerprint"


async def test_a_dropped_terminal_goes_offline_and_comes_back(site: Tm20Site) -> None:
    device_id = await site.claim("DROP0001", "Drop")
    terminal = await site.terminal("DROP0001")
    await terminal.close()
    await wait_for(lambda: site.hub.devices.get(device_id).status is DeviceStatus.OFFLINE)
    assert site.hub.states.get("lock.drop_door").state == "unavailable"
    health = site.hub.health.get("tm20_drop0001")
    assert health is not None and not health.connected
    await terminal.start()
    await wait_for(lambda: site.hub.devices.get(device_id).status is DeviceStatus.ACTIVE)
    await wait_for(lambda: site.hub.states.get("lock.drop_door").state == "locked")


async def test_flattened_reg_and_cmd_echo_firmware_work(site: Tm20Site) -> None:
    await site.claim("QUIRK001", "Quirky")
    terminal = await site.terminal("QUIRK001", quirks={"flat_reg", "cmd_echo"})
    assert site.manager.terminals["QUIRK001"].model == "tfs30"
    reply = await site.manager.run_command("QUIRK001", "gettime", {})
    assert reply["time"] == terminal.now() or "time" in reply


async def test_a_burst_of_registrations_never_runs_out_of_database_connections(
    tm20_site_factory: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """300 terminals at once while another process holds the write lock for 2 s, on a pool of 2 connections
    that waits 1 s: registry and terminal writes queue in one writer instead of each holding a connection."""
    monkeypatch.setattr(
        database_module,
        "create_async_engine",
        functools.partial(create_async_engine, pool_size=2, max_overflow=0, pool_timeout=1),
    )
    site = await tm20_site_factory()
    serials = [f"BURST{number:04d}" for number in range(300)]
    await asyncio.gather(*(site.claim(sn) for sn in serials[:200]))  # 100 more connect unclaimed (held)
    blocker = sqlite3.connect(str(make_url(site.hub.database.url).database))
    blocker.execute("BEGIN IMMEDIATE")  # a slow writer elsewhere: every write waits
    try:
        burst = asyncio.gather(*(site.terminal(sn) for sn in serials))
        await asyncio.sleep(2.0)
    finally:
        blocker.rollback()
        blocker.close()
    terminals = await burst
    assert [terminal.reg_reply and terminal.reg_reply["result"] for terminal in terminals] == [True] * len(serials)
    assert len(site.manager.server.sessions) == len(serials)  # type: ignore[union-attr]
    devices = [site.hub.devices.get_by_serial(MANUFACTURER, sn) for sn in serials]
    assert all(device is not None and device.status is DeviceStatus.ACTIVE for device in devices)
    async with site.hub.database.session() as session:
        active = await session.scalar(
            select(func.count()).select_from(DeviceRow).where(DeviceRow.status == str(DeviceStatus.ACTIVE))
        )
    assert active == len(serials)
    assert len(site.hub.entities.all(tenant_id=site.tenant.id)) >= 4 * 200
