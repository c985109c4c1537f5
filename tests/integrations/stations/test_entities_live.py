"""A station's three entities follow it live: status, remaining time (heartbeats and the 10-s refresh) and the
current session (visitor and end, never the code), owned by the station's tenant."""

from __future__ import annotations

from hub.core import State
from hub.testing import HubFactory, wait_for
from integrations.stations.manager import manager_of
from integrations.stations.visitors import create_visitor

from .station_support import Stations, stations

__all__ = ["stations"]


def state(stations: Stations, entity_id: str) -> State:
    found = stations.hub.states.get(entity_id)
    assert found is not None, entity_id
    return found


async def test_the_entities_follow_a_session(stations: Stations) -> None:
    manager, clock, tenant = stations.manager, stations.clock, stations.tenant
    station, _ = await manager.create_station(tenant.id, "PC-01", address="192.0.2.11", actor="desk")
    status_id, remaining_id, session_id = manager.station_entity_ids(station.id)
    assert (state(stations, status_id).state, state(stations, remaining_id).state) == ("offline", "0")
    assert state(stations, session_id).state == "none"
    assert {state(stations, eid).tenant_id for eid in (status_id, remaining_id, session_id)} == {tenant.id}

    await manager.agent_connected(station.id)
    assert state(stations, status_id).state == "available"
    visitor = await create_visitor(manager, tenant.id, {"last_name": "Durand", "first_name": "Alice", "consent": True},
                                   actor="desk")  # fmt: skip
    session = await manager.create_session(tenant.id, 30, visitor_id=visitor.id, actor="desk")
    await manager.validate_code(session.code, station_id=station.id, client="c")

    assert state(stations, status_id).state == "busy"
    assert state(stations, remaining_id).state == "1800"
    current = state(stations, session_id)
    assert current.state == session.id
    assert current.attributes["visitor"] == "Alice Durand"
    assert current.attributes["ends_at"].endswith("+00:00")
    assert session.code not in str(current.attributes)

    clock.advance(20)
    await manager.heartbeat(station.id, remaining=1780, code=session.code)
    assert state(stations, remaining_id).state == "1780"
    clock.advance(10)
    manager.refresh_remaining()  # what the 10-s job does between heartbeats
    assert state(stations, remaining_id).state == "1770"
    assert state(stations, remaining_id).attributes["unit_of_measurement"] == "s"

    await manager.terminate(session.id, actor="desk")
    assert (state(stations, status_id).state, state(stations, remaining_id).state) == ("available", "0")
    assert state(stations, session_id).state == "none"


async def test_an_unchanged_heartbeat_writes_no_state(stations: Stations) -> None:
    manager = stations.manager
    station, _ = await manager.create_station(stations.tenant.id, "PC-01", actor="desk")
    await manager.agent_connected(station.id)
    status_id = manager.station_entity_ids(station.id)[0]
    written = state(stations, status_id).last_updated
    for _ in range(5):
        await manager.heartbeat(station.id, remaining=None, code=None)
    assert state(stations, status_id).last_updated == written


async def test_the_remaining_time_counts_down_between_heartbeats(hub_factory: HubFactory) -> None:
    """The refresh job (every 10 s by default) is on the hub's scheduler: with the real clock and no agent, the
    entity counts down by itself."""
    hub = await hub_factory(config={"stations": {"remaining_interval": 0.2}})
    manager = manager_of(hub)
    assert manager is not None
    tenant = await hub.tenants.create("library", "Library")
    station, _ = await manager.create_station(tenant.id, "PC-01", actor="desk")
    session = await manager.create_session(tenant.id, 30, actor="desk")
    await manager.validate_code(session.code, station_id=station.id, client="c")
    remaining_id = manager.station_entity_ids(station.id)[1]
    assert hub.states.get(remaining_id).state == "1800"  # type: ignore[union-attr]

    await wait_for(lambda: hub.states.get(remaining_id).state == "1799", timeout=3)  # type: ignore[union-attr]


async def test_entities_of_a_removed_station_go(stations: Stations) -> None:
    manager = stations.manager
    station, _ = await manager.create_station(stations.tenant.id, "PC-01", actor="desk")
    entity_ids = manager.station_entity_ids(station.id)
    await manager.delete_station(station.id, actor="admin")
    assert all(stations.hub.states.get(entity_id) is None for entity_id in entity_ids)
    again, _ = await manager.create_station(stations.tenant.id, "PC-01", actor="desk")
    assert manager.station_entity_ids(again.id) == entity_ids  # the freed ids are reused
