"""stations.add_time, stations.terminate and stations.warn called by automations and through the service
registry: by session id, station name or entity, only inside the caller's tenant, audited with their actor."""

from __future__ import annotations

from typing import Any

import pytest

from hub.auth.scope import NotFound
from hub.core import Context
from hub.exceptions import ServiceValidationError
from hub.testing import wait_for
from integrations.stations.const import EVENT_SESSION_ENDED, EVENT_SESSION_ENDING
from integrations.stations.errors import SessionFinished

from .station_support import Stations, stations

__all__ = ["stations"]


async def running(stations: Stations, name: str = "PC-01", minutes: int = 30) -> tuple[str, str]:
    """A station with an active session: (station id, session id)."""
    manager = stations.manager
    station, _ = await manager.create_station(stations.tenant.id, name, actor="desk")
    session = await manager.create_session(stations.tenant.id, minutes, actor="desk")
    await manager.validate_code(session.code, station_id=station.id, client="c")
    return station.id, session.id


async def test_an_automation_adds_time_when_a_visitor_pays(stations: Stations) -> None:
    hub, manager = stations.hub, stations.manager
    _, session_id = await running(stations)
    await hub.automations.save(
        {
            "id": "top_up",
            "alias": "Top up a paid station",
            "triggers": [{"trigger": "event", "event_type": "visitor_paid"}],
            "actions": [
                {
                    "action": "stations.add_time",
                    "data": {"station": "{{ trigger.event.data.station }}", "minutes": 15},
                }
            ],
        },
        tenant_id=stations.tenant.id,
    )
    hub.bus.fire("visitor_paid", {"station": "pc-01"}, tenant_id=stations.tenant.id)

    async def minutes() -> int:
        view = await manager.session_view(session_id)
        assert view is not None
        return view.minutes

    await wait_for(lambda: manager.station_dict(manager.stations()[0].id)["session"]["remaining"] > 1800)
    assert await minutes() == 45
    (log,) = await manager.store.logs(stations.tenant.id, action="session.add_time")
    assert log.actor == "automation"


async def test_the_shipped_blueprint_can_warn_the_station(stations: Stations) -> None:
    """station_session_ending (station, minutes_left) -> an automation calls stations.warn on that station."""
    hub, manager = stations.hub, stations.manager
    sent: list[tuple[str, dict[str, Any]]] = []
    manager.sender = lambda station_id, message: sent.append((station_id, message))
    station_id, _ = await running(stations, minutes=10)
    await hub.automations.save(
        {
            "id": "warn_station",
            "triggers": [{"trigger": "event", "event_type": EVENT_SESSION_ENDING}],
            "actions": [
                {
                    "action": "stations.warn",
                    "data": {
                        "station": "{{ trigger.event.data.station }}",
                        "message": "{{ trigger.event.data.minutes_left }} minutes left: save your work",
                    },
                }
            ],
        },
        tenant_id=stations.tenant.id,
    )
    stations.clock.advance(6 * 60)
    assert await manager.warn_due() == 1
    await wait_for(
        lambda: any(m["message"] == "4 minutes left: save your work" for _, m in sent if m["type"] == "warn")
    )
    assert {sid for sid, _ in sent} == {station_id}


async def test_terminate_by_station_entity_or_session(stations: Stations) -> None:
    hub, manager = stations.hub, stations.manager
    station_id, session_id = await running(stations)
    entity_id = manager.station_entity_ids(station_id)[0]
    context = Context(tenant_id=stations.tenant.id)

    result = await hub.services.call("stations", "terminate", target={"entity_id": entity_id}, context=context)
    assert (result["id"], result["status"], "code" not in result) == (session_id, "finished", True)
    assert [event.data["reason"] for event in stations.of_type(EVENT_SESSION_ENDED)] == ["terminated"]

    with pytest.raises(ServiceValidationError, match="no active session"):
        await hub.services.call("stations", "terminate", {"station": "PC-01"}, context=context)
    with pytest.raises(ServiceValidationError):
        await hub.services.call("stations", "add_time", {"session_id": session_id, "minutes": 0}, context=context)
    with pytest.raises(SessionFinished):
        await hub.services.call("stations", "terminate", {"session_id": session_id}, context=context)


async def test_a_tenant_cannot_reach_another_tenants_stations(stations: Stations) -> None:
    hub, manager = stations.hub, stations.manager
    station_id, session_id = await running(stations)
    museum = await hub.tenants.create("museum", "Museum")
    theirs = Context(tenant_id=museum.id)

    for data in (
        {"station": "PC-01", "minutes": 5},
        {"session_id": session_id, "minutes": 5},
        {"station": station_id, "minutes": 5},
    ):
        with pytest.raises(NotFound):
            await hub.services.call("stations", "add_time", data, context=theirs)
    entity_id = manager.station_entity_ids(station_id)[0]
    with pytest.raises(NotFound):
        await hub.services.call("stations", "terminate", target={"entity_id": entity_id}, context=theirs)
    with pytest.raises(NotFound):
        await hub.services.call("stations", "warn", {"station": "PC-01", "message": "hi"}, context=theirs)
    view = await manager.session_view(session_id)
    assert view is not None and (view.status, view.minutes) == ("active", 30)


async def test_service_data_errors_name_the_field(stations: Stations) -> None:
    hub = stations.hub
    await running(stations)
    context = Context(tenant_id=stations.tenant.id)
    for data, field in (
        ({"station": "PC-01", "minutes": -3}, "minutes"),
        ({"station": "PC-01", "minutes": 721}, "minutes"),
        ({"station": "PC-01"}, "minutes"),
        ({"minutes": 5}, "station"),
    ):
        with pytest.raises(ServiceValidationError) as caught:
            await hub.services.call("stations", "add_time", data, context=context)
        assert list(caught.value.fields) == [field], (data, caught.value.fields)
    with pytest.raises(ServiceValidationError) as caught:
        await hub.services.call("stations", "warn", {"station": "PC-01"}, context=context)
    assert list(caught.value.fields) == ["message"]
