"""The manager's side of the agent protocol: heartbeats against the hub's clock (drift corrected, a lost or
stale session put right), online/offline from heartbeats, the messages agents are sent, and a restart that
keeps every running session's end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.testing import HubFactory
from integrations.stations.const import EVENT_STATUS_CHANGED
from integrations.stations.manager import manager_of

from .station_support import Stations, stations, stations_on

__all__ = ["stations"]  # fixtures


def outbox(stations: Stations) -> list[tuple[str, dict[str, Any]]]:
    """Messages the manager sends to agents, recorded by a sender like the agent endpoint's."""
    sent: list[tuple[str, dict[str, Any]]] = []
    stations.manager.sender = lambda station_id, message: sent.append((station_id, message))
    return sent


async def test_heartbeats_bring_a_station_online_and_silence_takes_it_offline(stations: Stations) -> None:
    manager, clock = stations.manager, stations.clock
    station, _ = await manager.create_station(stations.tenant.id, "PC-01", actor="desk")
    state = await manager.agent_connected(station.id)
    assert state.session is None and state["session"] is None and state.messages == []
    assert manager.status_of(station.id) == "available"

    clock.advance(29)
    assert await manager.sweep_offline() == 0
    await manager.heartbeat(station.id, remaining=None, code=None)
    clock.advance(29)
    assert await manager.sweep_offline() == 0
    clock.advance(2)
    assert await manager.sweep_offline() == 1
    assert manager.status_of(station.id) == "offline"
    assert manager.station_dict(station.id)["last_seen"] is not None
    device = stations.hub.devices.get(station.device_id or "")
    assert device is not None and device.status == "OFFLINE"

    result = await manager.heartbeat(station.id, remaining=None, code=None)
    assert (result.status, result.reply) == ("available", [])
    changes = [event.data["status"] for event in stations.of_type(EVENT_STATUS_CHANGED)]
    assert changes == ["available", "offline", "available"]


async def test_maintenance_stays_maintenance_whatever_the_agent_says(stations: Stations) -> None:
    manager = stations.manager
    station, _ = await manager.create_station(stations.tenant.id, "PC-01", actor="desk")
    await manager.set_status(station.id, "maintenance", actor="desk")
    await manager.agent_connected(station.id)
    result = await manager.heartbeat(station.id, remaining=None, code=None)
    assert result.status == "maintenance"


async def test_drift_beyond_30_s_is_corrected_with_absolute_state(stations: Stations) -> None:
    manager, clock = stations.manager, stations.clock
    sent = outbox(stations)
    station, _ = await manager.create_station(stations.tenant.id, "PC-01", actor="desk")
    session = await manager.create_session(stations.tenant.id, 30, actor="desk")
    await manager.agent_connected(station.id)
    await manager.validate_code(session.code, station_id=station.id, client="agent")
    assert [message["type"] for _, message in sent] == ["session"]
    clock.advance(100)  # the hub says 1700 s left

    assert (await manager.heartbeat(station.id, remaining=1720, code=session.code)).reply == []
    result = await manager.heartbeat(station.id, remaining=1750, code=session.code)

    (correction,) = result.reply
    assert correction["type"] == "session"
    assert (correction["session_id"], correction["remaining"]) == (session.id, 1700)
    assert result.remaining == 1700
    assert stations.hub.states.get(manager.station_entity_ids(station.id)[1]).state == "1700"  # type: ignore[union-attr]


async def test_an_agent_that_lost_its_session_gets_it_back_unchanged(stations: Stations) -> None:
    manager, clock = stations.manager, stations.clock
    station, _ = await manager.create_station(stations.tenant.id, "PC-01", actor="desk")
    session = await manager.create_session(stations.tenant.id, 30, actor="desk")
    await manager.validate_code(session.code, station_id=station.id, client="agent")
    clock.advance(600)

    state = await manager.agent_connected(station.id)  # rebooted: connects again, then beats idle
    assert state.session is not None and state.session.remaining == 1200
    assert [message["type"] for message in state.messages] == ["session"]
    result = await manager.heartbeat(station.id, remaining=None, code=None)
    (message,) = result.reply
    assert (message["type"], message["remaining"], message["code"]) == ("session", 1200, session.code)
    view = await manager.session_view(session.id)
    assert view is not None and view.remaining == 1200  # no time lost, none doubled


async def test_a_stale_session_on_the_agent_is_closed(stations: Stations) -> None:
    manager = stations.manager
    station, _ = await manager.create_station(stations.tenant.id, "PC-01", actor="desk")
    old = await manager.create_session(stations.tenant.id, 30, actor="desk")
    await manager.validate_code(old.code, station_id=station.id, client="agent")
    await manager.terminate(old.id, actor="desk")  # while the agent was away
    await manager.agent_connected(station.id)

    (closing,) = (await manager.heartbeat(station.id, remaining=900, code=old.code)).reply
    assert (closing["type"], closing["session_id"], closing["reason"]) == ("close_session", old.id, "terminated")
    (unknown,) = (await manager.heartbeat(station.id, remaining=900, code="QQQQQQ")).reply
    assert (unknown["type"], unknown["session_id"], unknown["reason"]) == ("close_session", None, "unknown_session")

    new = await manager.create_session(stations.tenant.id, 30, actor="desk")
    await manager.validate_code(new.code, station_id=station.id, client="agent")
    reply = (await manager.heartbeat(station.id, remaining=900, code=old.code)).reply
    assert [message["type"] for message in reply] == ["close_session", "session"]
    assert reply[1]["session_id"] == new.id


async def test_add_time_and_terminate_reach_the_agent_as_absolute_state(stations: Stations) -> None:
    manager, clock = stations.manager, stations.clock
    sent = outbox(stations)
    station, _ = await manager.create_station(stations.tenant.id, "PC-01", actor="desk")
    session = await manager.create_session(stations.tenant.id, 30, actor="desk")
    await manager.validate_code(session.code, station_id=station.id, client="agent")
    clock.advance(60)
    await manager.add_time(session.id, 10, actor="desk")
    await manager.warn(station.id, "Closing at 18:00", actor="automation")
    await manager.terminate(session.id, actor="desk")

    types = [message["type"] for _, message in sent]
    assert types == ["session", "add_time", "warn", "close_session"]
    add = sent[1][1]
    assert (add["seconds"], add["remaining"]) == (600, 1800 - 60 + 600)
    assert add["ends_at"].endswith("+00:00")
    assert sent[2][1]["message"] == "Closing at 18:00"
    assert sent[3][1]["reason"] == "terminated"
    assert {station_id for station_id, _ in sent} == {station.id}


async def test_agents_find_their_station_by_id_ip_or_name_and_tokens_are_hashed(stations: Stations) -> None:
    manager = stations.manager
    other = await stations.hub.tenants.create("museum", "Museum")
    station, token = await manager.create_station(stations.tenant.id, "PC-01", address="192.0.2.11", actor="d")
    await manager.create_station(other.id, "PC-01", address="192.0.2.12", actor="d")  # same name elsewhere

    assert await manager.station_by_address(station.id) == station
    assert await manager.station_by_address("192.0.2.11") == station
    assert await manager.station_by_address("pc-01") is None  # ambiguous across tenants: use the id
    assert await manager.station_by_address("192.0.2.18") is None
    assert token not in station.token_hash and len(station.token_hash) == 64
    assert manager.check_token(station, token)
    assert not manager.check_token(station, token + "x")
    assert not manager.check_token(station, "")

    new_token = await manager.regenerate_token(station.id, actor="d")
    assert not manager.check_token(station, token)
    assert manager.check_token(station, new_token)


async def test_a_restart_keeps_each_sessions_end(hub_factory: HubFactory, tmp_path: Path) -> None:
    config_dir = tmp_path / "kept"
    hub = await hub_factory(config={"stations": {}}, config_dir=config_dir)
    site = await stations_on(hub)
    station, token = await site.manager.create_station(site.tenant.id, "PC-01", actor="desk")
    session = await site.manager.create_session(site.tenant.id, 30, actor="desk")
    started = await site.manager.validate_code(session.code, station_id=station.id, client="c")
    await hub.stop()

    again = await hub_factory(config={"stations": {}}, config_dir=config_dir)
    manager = manager_of(again)
    assert manager is not None
    manager.clock = site.clock
    view = await manager.session_view(session.id)
    assert view is not None and (view.status, view.ends_at) == ("active", started.ends_at)
    assert manager.status_of(station.id) == "offline"
    assert manager.active_session_id(station.id) == session.id
    reloaded = manager.station(station.id)
    assert reloaded is not None and manager.check_token(reloaded, token)
    entity_ids = manager.station_entity_ids(station.id)
    assert entity_ids == ["sensor.pc_01_status", "sensor.pc_01_remaining_time", "sensor.pc_01_session"]
    assert again.states.get("sensor.pc_01_session").state == session.id  # type: ignore[union-attr]
