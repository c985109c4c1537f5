"""Logs: committed before the ack, de-duplicated on retransmission, one access event per new log, on both
databases; the group-commit writer gathers concurrent batches into few transactions."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select

from hub.store.database import Database
from hub.testing import wait_for
from hub.testing.database import count_rows
from integrations.tm20 import MIGRATIONS
from integrations.tm20.log_writer import LogWriter
from integrations.tm20.models import Tm20Log

from .conftest import SiteFactory, Tm20Site


async def test_a_batch_is_stored_acked_with_count_and_logindex_and_fires_access(
    tm20_site_factory: SiteFactory, database_url: str
) -> None:
    site = await tm20_site_factory(database_url=database_url)
    await site.claim("LOG00001", "Hall")
    terminal = await site.terminal("LOG00001")
    records = terminal.make_logs(3, mode=3, inout=1)
    reply = await terminal.send_logs(records, logindex=41)
    assert reply["result"] is True and reply["count"] == 3 and reply["logindex"] == 41 and "cloudtime" in reply
    assert await count_rows(site.hub.database, "tm20_logs") == 3  # committed before the ack
    access = site.of_type("access")
    assert len(access) == 3
    assert {event["method"] for event in access} == {"card"}
    assert {event["direction"] for event in access} == {"out"}
    assert all(event["granted"] and event["device_id"] for event in access)
    await wait_for(lambda: str(site.hub.states.get("sensor.hall_logs").state) == "3")
    assert site.hub.states.get("sensor.hall_last_access").attributes["method"] == "card"


async def test_a_retransmitted_batch_is_stored_once_and_fires_once(site: Tm20Site) -> None:
    await site.claim("LOG00002")
    terminal = await site.terminal("LOG00002")
    records = terminal.make_logs(5)
    await terminal.send_logs(records, logindex=1)
    again = await terminal.send_logs(records, logindex=1)
    assert again["result"] is True and again["count"] == 5
    assert await count_rows(site.hub.database, "tm20_logs") == 5
    assert len(site.of_type("access")) == 5


async def test_door_events_and_the_raw_record_are_kept(site: Tm20Site) -> None:
    await site.claim("LOG00003")
    terminal = await site.terminal("LOG00003")
    record = {"enrollid": 0, "time": terminal.now(), "mode": 0, "inout": 1, "event": 5, "temp": 3650, "x": "kept"}
    await terminal.send_logs([record])
    (door,) = site.of_type("tm20_door_event")
    assert door["name"] == "forced_open" and door["event"] == 5
    assert site.of_type("access") == []
    async with site.hub.database.session() as session:
        row = (await session.scalars(select(Tm20Log))).one()
    assert json.loads(row.raw)["x"] == "kept" and row.temp == 36.5 and row.timestamp is not None


async def test_server_validation_decides_access_from_the_tenants_people(tm20_site_factory: SiteFactory) -> None:
    site = await tm20_site_factory(server_validation=True)
    await site.claim("VALID001")
    await site.manager.people.create(site.tenant.id, enrollid=12, name="Ada")
    terminal = await site.terminal("VALID001")
    granted = await terminal.send_logs(terminal.make_logs(1, enrollid=12))
    denied = await terminal.send_logs(terminal.make_logs(1, enrollid=13))
    assert granted["access"] == 1 and granted["message"] == "Ada"
    assert denied["access"] == 0


async def test_concurrent_writes_share_commits(database_url: str) -> None:
    database = Database(database_url, migration_folders=[MIGRATIONS])
    await database.start()
    writer = LogWriter(database)
    try:
        batches = [
            [{"enrollid": i, "time": f"2026-01-01 10:{b // 60:02d}:{b % 60:02d}", "mode": 1} for i in range(1, 11)]
            for b in range(200)
        ]
        results = await asyncio.gather(*(writer.write_batch("SN", "t", batch, n) for n, batch in enumerate(batches)))
        assert sum(len(new) for new in results) == 2000
        assert writer.commits < 50  # 200 batches, a handful of transactions
        again = await asyncio.gather(*(writer.write_batch("SN", "t", batch, n) for n, batch in enumerate(batches[:20])))
        assert [len(new) for new in again] == [0] * 20
        assert await count_rows(database, "tm20_logs") == 2000
    finally:
        await writer.stop()
        await database.close()
