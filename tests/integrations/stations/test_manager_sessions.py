"""The StationManager's session life cycle on a real hub and SQLite: codes, the hub's clock, time limits,
idempotent terminate, expiry, warnings once per threshold, events without codes, and an audit line per action."""

from __future__ import annotations

import json

import pytest

from hub.auth.scope import NotFound
from integrations.stations.const import (
    EVENT_SESSION_ENDED,
    EVENT_SESSION_ENDING,
    EVENT_SESSION_STARTED,
    EVENT_STATUS_CHANGED,
)
from integrations.stations.errors import InvalidCode, InvalidInput, SessionFinished, StationUnavailable

from .station_support import Stations, stations

__all__ = ["stations"]  # fixtures


async def test_a_code_starts_the_timer_on_the_hubs_clock(stations: Stations) -> None:
    manager, clock = stations.manager, stations.clock
    station, _ = await manager.create_station(stations.tenant.id, "PC-01", address="192.0.2.11", actor="desk")
    created = await manager.create_session(stations.tenant.id, 30, actor="desk")
    assert (created.status, created.remaining, created.ends_at) == ("waiting", 1800, None)

    clock.advance(600)  # the code waits ten minutes on the counter: the visitor loses none of it
    started = await manager.validate_code(created.code.lower(), station_id=station.id, client="192.0.2.11")

    assert started.status == "active"
    assert started.ends_at == clock.now + 1800
    assert started.remaining == 1800
    clock.advance(100)
    view = await manager.session_view(started.id)
    assert view is not None and view.remaining == 1700
    assert manager.status_of(station.id) == "offline"  # no agent yet: the code was validated at the desk


async def test_events_name_the_station_and_never_carry_the_code(stations: Stations) -> None:
    manager = stations.manager
    station, _ = await manager.create_station(stations.tenant.id, "PC-01", actor="desk")
    session = await manager.create_session(stations.tenant.id, 10, actor="desk")
    await manager.validate_code(session.code, station_id=station.id, client="c")
    await manager.terminate(session.id, actor="desk")

    (started,) = stations.of_type(EVENT_SESSION_STARTED)
    (ended,) = stations.of_type(EVENT_SESSION_ENDED)
    assert started.data["station"] == "PC-01" and started.data["session_id"] == session.id
    assert ended.data["reason"] == "terminated"
    assert {event.tenant_id for event in stations.events} == {stations.tenant.id}
    for event in stations.events:
        assert session.code not in json.dumps(dict(event.data))


async def test_wrong_expired_and_foreign_codes_get_one_answer(stations: Stations) -> None:
    manager, clock, tenant = stations.manager, stations.clock, stations.tenant
    other = await stations.hub.tenants.create("museum", "Museum")
    pc1, _ = await manager.create_station(tenant.id, "PC-01", actor="desk")
    pc2, _ = await manager.create_station(tenant.id, "PC-02", actor="desk")
    pc3, _ = await manager.create_station(tenant.id, "PC-03", actor="desk")
    old = await manager.create_session(tenant.id, 10, actor="desk")
    clock.advance(24 * 3600 + 1)  # past the code's 24 h
    theirs = await manager.create_session(other.id, 10, actor="them")
    bound = await manager.create_session(tenant.id, 10, station_id=pc2.id, actor="desk")
    fresh = await manager.create_session(tenant.id, 10, actor="desk")

    for code, client in (("ZZZZZZ", "a"), (theirs.code, "b"), (bound.code, "c"), (old.code, "d"), ("", "e")):
        with pytest.raises(InvalidCode) as caught:
            await manager.validate_code(code, station_id=pc1.id, client=client)
        assert str(caught.value) == "code: invalid or expired code"

    started = await manager.validate_code(bound.code, station_id=pc2.id, client="c")
    assert started.station_id == pc2.id
    assert (await manager.validate_code(fresh.code, station_id=pc3.id, client="f")).status == "active"


async def test_the_same_code_again_on_its_station_neither_loses_nor_doubles_time(stations: Stations) -> None:
    manager, clock = stations.manager, stations.clock
    station, _ = await manager.create_station(stations.tenant.id, "PC-01", actor="desk")
    session = await manager.create_session(stations.tenant.id, 30, actor="desk")
    first = await manager.validate_code(session.code, station_id=station.id, client="c")
    clock.advance(300)

    again = await manager.validate_code(session.code, station_id=station.id, client="c")

    assert again.ends_at == first.ends_at
    assert again.remaining == 1500
    assert len(stations.of_type(EVENT_SESSION_STARTED)) == 1


async def test_busy_or_maintenance_stations_refuse_a_second_code(stations: Stations) -> None:
    manager, tenant = stations.manager, stations.tenant
    station, _ = await manager.create_station(tenant.id, "PC-01", actor="desk")
    first = await manager.create_session(tenant.id, 30, actor="desk")
    second = await manager.create_session(tenant.id, 30, actor="desk")
    await manager.validate_code(first.code, station_id=station.id, client="c")

    with pytest.raises(StationUnavailable, match="busy"):
        await manager.validate_code(second.code, station_id=station.id, client="c")
    await manager.terminate(first.id, actor="desk")
    await manager.set_status(station.id, "maintenance", actor="desk")
    with pytest.raises(StationUnavailable, match="maintenance"):
        await manager.validate_code(second.code, station_id=station.id, client="c")
    view = await manager.session_view(second.id)
    assert view is not None and view.status == "waiting"  # still usable elsewhere


async def test_add_time_limits_name_minutes(stations: Stations) -> None:
    manager, clock = stations.manager, stations.clock
    station, _ = await manager.create_station(stations.tenant.id, "PC-01", actor="desk")
    session = await manager.create_session(stations.tenant.id, 60, actor="desk")
    started = await manager.validate_code(session.code, station_id=station.id, client="c")

    for minutes in (0, -5, 721, 10**9):
        with pytest.raises(InvalidInput) as caught:
            await manager.add_time(session.id, minutes, actor="desk")
        assert caught.value.field == "minutes"
    clock.advance(60)
    extended = await manager.add_time(session.id, 10, actor="desk")
    assert extended.ends_at == (started.ends_at or 0) + 600
    assert extended.remaining == 3600 + 600 - 60

    await manager.add_time(session.id, 720, actor="desk")  # 60 + 10 + 720 = 790 minutes
    with pytest.raises(InvalidInput, match="at most 24 h: at most 650 more minutes"):
        await manager.add_time(session.id, 651, actor="desk")
    assert (await manager.add_time(session.id, 650, actor="desk")).minutes == 24 * 60


async def test_terminate_is_idempotent(stations: Stations) -> None:
    manager, clock = stations.manager, stations.clock
    station, _ = await manager.create_station(stations.tenant.id, "PC-01", actor="desk")
    session = await manager.create_session(stations.tenant.id, 30, actor="desk")
    await manager.validate_code(session.code, station_id=station.id, client="c")
    ended = await manager.terminate(session.id, actor="desk")
    clock.advance(5)

    with pytest.raises(SessionFinished, match="already finished"):
        await manager.terminate(session.id, actor="desk")
    with pytest.raises(SessionFinished):
        await manager.add_time(session.id, 5, actor="desk")
    again = await manager.session_view(session.id)
    assert again is not None and again.finished_at == ended.finished_at
    assert len(stations.of_type(EVENT_SESSION_ENDED)) == 1
    assert manager.status_of(station.id) == "offline"
    with pytest.raises(NotFound):
        await manager.terminate("no-such-session", actor="desk")


async def test_expiry_finishes_active_sessions_and_stale_codes(stations: Stations) -> None:
    manager, clock, tenant = stations.manager, stations.clock, stations.tenant
    station, _ = await manager.create_station(tenant.id, "PC-01", actor="desk")
    active = await manager.create_session(tenant.id, 10, actor="desk")
    await manager.validate_code(active.code, station_id=station.id, client="c")
    waiting = await manager.create_session(tenant.id, 10, actor="desk")

    clock.advance(599)
    assert await manager.expire_due() == 0
    clock.advance(1)
    assert await manager.expire_due() == 1
    clock.advance(24 * 3600)
    assert await manager.expire_due() == 1
    assert await manager.expire_due() == 0

    first, second = await manager.session_view(active.id), await manager.session_view(waiting.id)
    assert first is not None and (first.status, first.end_reason) == ("finished", "expired")
    assert second is not None and (second.status, second.end_reason) == ("finished", "code_expired")
    assert [event.data["reason"] for event in stations.of_type(EVENT_SESSION_ENDED)] == ["expired"]


async def test_warnings_fire_once_per_threshold(stations: Stations) -> None:
    manager, clock = stations.manager, stations.clock
    station, _ = await manager.create_station(stations.tenant.id, "PC-01", actor="desk")
    session = await manager.create_session(stations.tenant.id, 20, actor="desk")
    await manager.validate_code(session.code, station_id=station.id, client="c")

    clock.advance(14 * 60)  # 6 minutes left
    assert await manager.warn_due() == 0
    clock.advance(60 + 5)  # 4:55 left
    assert await manager.warn_due() == 1
    assert await manager.warn_due() == 0
    clock.advance(10)
    assert await manager.warn_due() == 0
    clock.advance(4 * 60)  # 0:45 left
    assert await manager.warn_due() == 1
    assert await manager.warn_due() == 0

    warnings = stations.of_type(EVENT_SESSION_ENDING)
    assert [event.data["minutes_left"] for event in warnings] == [5, 1]
    assert all(event.data["station"] == "PC-01" and "code" not in event.data for event in warnings)

    await manager.add_time(session.id, 10, actor="desk")  # 10:45 left: both thresholds are ahead again
    clock.advance(6 * 60)
    assert await manager.warn_due() == 1
    assert stations.of_type(EVENT_SESSION_ENDING)[-1].data["minutes_left"] == 5


async def test_a_late_hub_fires_only_the_nearest_warning(stations: Stations) -> None:
    manager, clock = stations.manager, stations.clock
    station, _ = await manager.create_station(stations.tenant.id, "PC-01", actor="desk")
    session = await manager.create_session(stations.tenant.id, 10, actor="desk")
    await manager.validate_code(session.code, station_id=station.id, client="c")
    clock.advance(10 * 60 - 30)

    assert await manager.warn_due() == 1
    assert await manager.warn_due() == 0
    assert [event.data["minutes_left"] for event in stations.of_type(EVENT_SESSION_ENDING)] == [1]


async def test_every_action_is_in_the_audit_log_with_its_actor(stations: Stations) -> None:
    manager, tenant = stations.manager, stations.tenant
    station, _ = await manager.create_station(tenant.id, "PC-01", actor="user-1")
    await manager.set_status(station.id, "maintenance", actor="user-1")
    await manager.set_status(station.id, "available", actor="user-1")
    await manager.regenerate_token(station.id, actor="user-1")
    session = await manager.create_session(tenant.id, 10, actor="user-1")
    with pytest.raises(InvalidCode):
        await manager.validate_code("WRONG2", station_id=station.id, client="192.0.2.14")
    await manager.validate_code(session.code, station_id=station.id, client="192.0.2.14")
    await manager.add_time(session.id, 5, actor="automation")
    await manager.terminate(session.id, actor="user-2")

    logs = await manager.store.logs(tenant.id)
    assert [(log.action, log.actor) for log in reversed(logs)] == [
        ("station.create", "user-1"),
        ("station.status", "user-1"),
        ("station.status", "user-1"),
        ("station.token", "user-1"),
        ("session.create", "user-1"),
        ("code.rejected", "agent:PC-01"),
        ("session.validate", "agent:PC-01"),
        ("session.add_time", "automation"),
        ("session.terminate", "user-2"),
    ]
    assert all(session.code not in json.dumps(log.as_dict()) for log in logs)
    assert {log.address for log in logs if log.action.startswith(("code", "session.validate"))} == {"192.0.2.14"}


async def test_status_changes_are_events(stations: Stations) -> None:
    manager = stations.manager
    station, _ = await manager.create_station(stations.tenant.id, "PC-01", actor="desk")
    await manager.set_status(station.id, "maintenance", actor="desk")
    await manager.set_status(station.id, "maintenance", actor="desk")  # no change, no event
    await manager.set_status(station.id, "available", actor="desk")
    with pytest.raises(InvalidInput) as caught:
        await manager.set_status(station.id, "busy", actor="desk")
    assert caught.value.field == "status"

    changes = [(event.data["old_status"], event.data["status"]) for event in stations.of_type(EVENT_STATUS_CHANGED)]
    assert changes == [("offline", "maintenance"), ("maintenance", "offline")]
