"""The Hikvision tables and the access log, on SQLite and PostgreSQL: the integration's own Alembic branch, the
de-duplication on (device serial, serialNo) that makes each record fire once, and the durability of what was
stored across a restart of the hub.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory

from hub.plugins import PluginManager
from hub.store.database import Database, alembic_config
from hub.testing import wait_for
from integrations.hikvision.access_log import AccessLog, event_key, make_entry
from integrations.hikvision.events import AccessRecord
from integrations.hikvision.store import HikvisionStore

from .conftest import HikSite, SiteFactory


def record(serial_no: int | None, minor: int = 75, employee_no: str = "1") -> AccessRecord:
    return AccessRecord(
        major=5,
        minor=minor,
        serial_no=serial_no,
        employee_no=employee_no,
        name=None,
        card_no=None,
        door=1,
        reader=1,
        verify_mode=None,
        attendance_status=None,
        picture_url=None,
        time=datetime(2026, 3, 1, 8, 0, serial_no or 0, tzinfo=UTC),
    )


def test_the_branch_starts_after_the_core() -> None:
    plugins = PluginManager()
    plugins.load_builtin()
    script = ScriptDirectory.from_config(alembic_config(migration_folders=plugins.migration_folders()))
    branch = script.get_revision("hikvision")
    assert branch is not None and branch.revision == "hikvision_0001"
    assert branch.down_revision is None and branch.dependencies == "0002"
    assert "hikvision_0001" in script.get_heads()


async def test_the_same_record_is_new_once(database_url: str) -> None:
    plugins = PluginManager()
    plugins.load_builtin()
    database = Database(database_url, migration_folders=plugins.migration_folders())
    await database.start()
    log = AccessLog(database)
    try:
        first = [make_entry("A1", record(n), source="stream", tenant_id=None, device_id=None) for n in (1, 2, 3)]
        again = [make_entry("A1", record(n), source="backfill", tenant_id=None, device_id=None) for n in (2, 3, 4)]
        other = [make_entry("B2", record(1), source="stream", tenant_id=None, device_id=None)]

        # Concurrent writers share transactions (group commit) and still see only their own new rows.
        new_first, new_again, new_other = await asyncio.gather(log.write(first), log.write(again), log.write(other))

        assert [entry.record.serial_no for entry in new_first] == [1, 2, 3]
        assert [entry.record.serial_no for entry in new_again] == [4]
        assert [entry.record.serial_no for entry in new_other] == [1]  # another device's serialNo 1
        assert all(entry.id > 0 for entry in [*new_first, *new_again, *new_other])
        assert await log.write(first) == []
        cursor = await HikvisionStore(database).cursor("A1")
        assert (cursor.serial_no, cursor.count) == (4, 4)
        assert cursor.timestamp == datetime(2026, 3, 1, 8, 0, 4, tzinfo=UTC).timestamp()
    finally:
        await log.stop()
        await database.close()


def test_a_record_without_serial_no_is_keyed_by_its_content() -> None:
    assert event_key(record(12)) == "sn:12"
    keyed = event_key(record(None))
    assert keyed.startswith("h:") and keyed == event_key(record(None))
    assert keyed != event_key(record(None, minor=76))


async def test_records_and_device_facts_survive_a_restart(hik_site_factory: SiteFactory, tmp_path: Path) -> None:
    config_dir = tmp_path / "kept"
    site: HikSite = await hik_site_factory(config_dir=config_dir)
    simulator = await site.device_sim("DS-K1T671M0007", kind="access", doors=2)
    await site.add_device(simulator, name="Kept")
    await wait_for(lambda: simulator.stream_count == 1)
    serial_no = simulator.emit_access(5, 75, employee_no="1")
    await wait_for(lambda: len(site.access()) == 1)
    await site.hub.stop()

    site = await hik_site_factory(config_dir=config_dir)  # the same database; the device still answers
    direct = next(iter(site.manager.entries.values()))
    await wait_for(lambda: direct.streams_opened == 1, timeout=10)
    status, events = await site.admin.get("/api/hikvision/devices/DS-K1T671M0007/events")
    assert (status, [event["serial_no"] for event in events]) == (200, [serial_no])
    assert site.manager.records["DS-K1T671M0007"].doors == 2
    await wait_for(lambda: not direct.backfilling)
    assert site.access() == []  # nothing was missed, so nothing is announced again
