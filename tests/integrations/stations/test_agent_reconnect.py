"""Agents that go away and come back: the hub's ``ends_at`` is the session's end whatever happened meanwhile, so
no visitor loses or gains time; a session that finished while the station was away is closed on its return."""

from __future__ import annotations

from typing import Any

from hub.testing import wait_for
from integrations.stations.simulator import StationAgent

from .agent_support import Site, make_site, site

__all__ = ["make_site", "site"]


async def active_session(site: Site, address: str, token: str) -> tuple[StationAgent, dict[str, Any]]:
    agent = await site.connected_agent(address, token)
    session = await site.new_session(30)
    await agent.validate(str(session["code"]))
    started = await agent.next_message("session")
    return agent, started


async def test_an_agent_that_reconnects_mid_session_gets_the_hubs_ends_at(site: Site) -> None:
    station, token = await site.station("PC-1", "192.0.2.11")
    agent, started = await active_session(site, "192.0.2.11", token)
    session_id = str(started["session_id"])
    ends_at = (await site.session(session_id))["ends_at"]

    await agent.disconnect()
    await wait_for(lambda: not site.manager.station_dict(station.id)["connected"])
    agent.forget_messages()
    await agent.start()

    hello = agent.hello
    assert hello is not None and hello["session"]["session_id"] == session_id and hello["session"]["ends_at"] == ends_at
    resent = await agent.next_message("session")
    assert resent["ends_at"] == ends_at and resent["session_id"] == session_id
    assert abs((agent.remaining or 0) - 1800) <= 3

    # its heartbeats agree with the hub: nothing to correct, nothing changes
    await agent.heartbeat()
    await agent.validate(str(started["code"]))  # an agent re-sending the code it had changes nothing either
    await agent.next_message("session")
    stored = await site.session(session_id)
    assert stored["ends_at"] == ends_at and stored["status"] == "active" and stored["added"] == 0
    assert site.status(station) == "busy"


async def test_a_replayed_add_time_message_never_doubles_time(site: Site) -> None:
    station, token = await site.station("PC-1", "192.0.2.11")
    agent, started = await active_session(site, "192.0.2.11", token)
    session_id = str(started["session_id"])

    status, extended = await site.api.post(f"/api/stations/sessions/{session_id}/add-time", {"minutes": 15})
    assert status == 200
    added = await agent.next_message("add_time")
    after_once = agent.remaining or 0
    assert abs(after_once - 2700) <= 3

    # the same message delivered again (a retransmission, a duplicate after a reconnect)
    await site.manager.send(station.id, added)
    await site.manager.send(station.id, added)
    await agent.next_message("add_time")
    await agent.next_message("add_time")
    assert abs((agent.remaining or 0) - after_once) <= 1

    # across a reconnect too
    await agent.disconnect()
    await wait_for(lambda: not site.manager.station_dict(station.id)["connected"])
    await agent.start()
    assert agent.hello is not None and agent.hello["session"]["ends_at"] == extended["ends_at"]
    await site.manager.send(station.id, added)
    await agent.next_message("add_time")
    assert abs((agent.remaining or 0) - after_once) <= 2

    stored = await site.session(session_id)
    assert stored["ends_at"] == extended["ends_at"] and stored["added"] == 900


async def test_an_agent_back_with_a_session_that_ended_while_it_was_away_gets_close_session(site: Site) -> None:
    station, token = await site.station("PC-1", "192.0.2.11")
    agent, started = await active_session(site, "192.0.2.11", token)
    session_id = str(started["session_id"])

    await agent.disconnect()
    await wait_for(lambda: not site.manager.station_dict(station.id)["connected"])
    status, _ = await site.api.post(f"/api/stations/sessions/{session_id}/terminate")
    assert status == 200
    assert agent.session_id == session_id and not agent.locked

    await agent.start()
    assert agent.hello is not None and agent.hello["session"] is None
    await agent.heartbeat()  # "I am still running session <code>"
    closed = await agent.next_message("close_session")
    assert closed["session_id"] == session_id and closed["reason"] == "terminated"
    assert agent.locked and agent.session_id is None

    stored = await site.session(session_id)
    assert stored["status"] == "finished" and stored["end_reason"] == "terminated"
    assert site.status(station) == "available"


async def test_an_agent_showing_a_code_the_hub_never_issued_is_told_to_close(site: Site) -> None:
    station, token = await site.station("PC-1", "192.0.2.11")
    agent = await site.connected_agent("192.0.2.11", token)
    await agent.send_json({"type": "heartbeat", "temps_restant": 1200, "code": "ZZZZZZ"})
    closed = await agent.next_message("close_session")
    assert closed["session_id"] is None and closed["reason"] == "unknown_session"
    assert site.status(station) == "available"
