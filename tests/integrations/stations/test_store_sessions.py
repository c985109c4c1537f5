"""The stations tables on SQLite and PostgreSQL: codes unique among live sessions whatever the tenant, a code
validated twice at once starts one session only, erasure keeps anonymised sessions, and the log purge."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import pytest

from hub.testing import HubFactory
from integrations.stations.errors import InvalidCode
from integrations.stations.store import CodeTaken, SessionRecord
from integrations.stations.visitors import create_visitor, erase_visitor

from .station_support import Stations, stations, stations_on

__all__ = ["stations"]  # fixtures


@pytest.fixture
async def site(database_url: str, hub_factory: HubFactory) -> Stations:
    """On SQLite and on PostgreSQL (the database is dropped after the hub stops)."""
    return await stations_on(await hub_factory(config={"stations": {}}, database_url=database_url))


async def test_the_database_refuses_a_second_live_session_with_one_code(site: Stations) -> None:
    manager = site.manager
    other = await site.hub.tenants.create("museum", "Museum")
    first = await manager.create_session(site.tenant.id, 10, actor="desk")
    record = await manager.store.session(first.id)
    assert record is not None
    twin = dataclasses.replace(record, id="0" * 32, tenant_id=other.id)

    with pytest.raises(CodeTaken):
        await manager.store.insert_session(twin)
    await manager.terminate(first.id, actor="desk")
    assert await manager.store.insert_session(twin) == twin  # the finished one no longer holds the code
    found = await manager.store.live_session_by_code(first.code)
    assert found is not None and found.id == twin.id


async def test_parallel_creations_get_distinct_codes(site: Stations) -> None:
    manager = site.manager
    draws = iter(["CCCCCC"] * 3 + ["DDDDDD", "EEEEEE", "FFFFFF", "GGGGGG"] * 3)
    manager.code_factory = lambda: next(draws)
    sessions = await asyncio.gather(*(manager.create_session(site.tenant.id, 10, actor="desk") for _ in range(3)))
    assert len({session.code for session in sessions}) == 3
    assert "CCCCCC" in {session.code for session in sessions}


async def test_one_code_typed_at_two_stations_at_once_starts_one_session(site: Stations) -> None:
    manager = site.manager
    pc1, _ = await manager.create_station(site.tenant.id, "PC-01", actor="desk")
    pc2, _ = await manager.create_station(site.tenant.id, "PC-02", actor="desk")
    session = await manager.create_session(site.tenant.id, 30, actor="desk")

    results = await asyncio.gather(
        manager.validate_code(session.code, station_id=pc1.id, client="a"),
        manager.validate_code(session.code, station_id=pc2.id, client="b"),
        return_exceptions=True,
    )

    started = [result for result in results if not isinstance(result, BaseException)]
    refused = [result for result in results if isinstance(result, BaseException)]
    assert len(started) == 1 and len(refused) == 1 and isinstance(refused[0], InvalidCode)
    busy = {station.id for station in (pc1, pc2) if manager.active_session_id(station.id) == session.id}
    assert busy == {started[0].station_id}


async def test_compare_and_set_changes_a_session_only_from_the_expected_status(site: Stations) -> None:
    store = site.manager.store
    session = await site.manager.create_session(site.tenant.id, 10, actor="desk")
    assert await store.update_session(session.id, "active", status="finished") is None
    updated = await store.update_session(session.id, "waiting", status="finished", end_reason="terminated")
    assert isinstance(updated, SessionRecord) and updated.status == "finished"
    assert await store.live_session_by_code(session.code) is None


async def test_erasure_wipes_the_person_and_keeps_anonymised_sessions(stations: Stations) -> None:
    manager = stations.manager
    visitor = await create_visitor(
        manager,
        stations.tenant.id,
        {"last_name": "Durand", "first_name": "Alice", "email": "alice@example.org", "consent": True},
        actor="desk",
    )
    session = await manager.create_session(stations.tenant.id, 10, visitor_id=visitor.id, actor="desk")
    erased, anonymised = await erase_visitor(manager, visitor, actor="admin")

    assert anonymised == 1
    assert (erased.last_name, erased.first_name, erased.email, erased.photo_type) == (None, None, None, None)
    assert erased.erased_at is not None
    kept = await manager.store.session(session.id)
    assert kept is not None and kept.visitor_id is None and kept.duration == 600
    actions = [log.action for log in await manager.store.logs(stations.tenant.id, visitor_id=visitor.id)]
    assert actions == ["visitor.erase", "session.create", "visitor.create"]


async def test_purge_deletes_only_old_log_lines(stations: Stations) -> None:
    manager, clock = stations.manager, stations.clock
    await manager.create_station(stations.tenant.id, "PC-01", actor="desk")
    clock.advance(86400)
    await manager.create_station(stations.tenant.id, "PC-02", actor="desk")

    cutoff = dt.datetime.fromtimestamp(clock.now - 3600, dt.UTC)
    assert await manager.purge_logs(cutoff) == 1
    assert [log.details for log in await manager.store.logs(stations.tenant.id)] == [
        {"name": "PC-02", "address": None, "mac": None}
    ]
