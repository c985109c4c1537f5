"""The station agent endpoint over real loopback sockets: who gets in, hello, heartbeats, codes typed at the
station, time added and sessions closed from the REST API and services, bad messages, replaced connections."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import aiohttp
import pytest

from hub.core import Context
from hub.testing import HubFactory, free_port, wait_for
from hub.testing.http import assert_error
from integrations.stations.manager import iso, manager_of
from integrations.stations.simulator import AgentRefused, StationAgent, agent_url

from .agent_support import Site, SiteFactory, make_site, site

__all__ = ["make_site", "site"]


async def test_an_unknown_station_or_a_wrong_token_is_refused_before_the_upgrade(site: Site) -> None:
    station, token = await site.station("PC-1", "192.0.2.11")
    http = site.http

    async with http.get(agent_url(site.url, "192.0.2.15"), headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 404
        assert_error(await response.json(), "unknown_station", {"address": "unknown station"})
    async with http.get(
        agent_url(site.url, "192.0.2.11"), headers={"Authorization": "Bearer not-the-token"}
    ) as response:
        assert response.status == 401
        assert_error(await response.json(), "invalid_token", {"token": "invalid"})
    async with http.get(agent_url(site.url, "PC-1")) as response:
        assert response.status == 401
        body = await response.json()
        assert_error(body, "missing_token", {"token": "required"})
        assert "Authorization: Bearer" in body["error"]["message"]
    async with http.get(agent_url(site.url, "PC-1"), headers={"Authorization": "Basic abc"}) as response:
        assert response.status == 401

    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(agent_url(site.url, "192.0.2.11") + "?token=wrong")
    assert refused.value.status == 401

    # the simulator reports the hub's reason and does not retry
    agent = site.agent("192.0.2.11", "wrong", reconnect=True)
    with pytest.raises(AgentRefused, match="wrong agent token"):
        await agent.start()
    assert site.status(station) == "offline"


async def test_without_a_stations_section_the_endpoint_says_how_to_set_it_up(hub_factory: HubFactory) -> None:
    hub = await hub_factory(http=True)
    async with aiohttp.ClientSession() as http, http.get(agent_url(hub.http.url, "pc")) as response:
        assert response.status == 404
        body = await response.json()
    assert_error(body, "not_set_up")
    assert "add `stations:` to configuration.yaml" in body["error"]["message"]


async def test_the_hub_says_hello_with_the_station_and_its_session(site: Site) -> None:
    station, token = await site.station("PC-1", "192.0.2.11")
    assert site.status(station) == "offline"

    by_address = await site.connected_agent("192.0.2.11", token)
    assert by_address.hello is not None
    assert by_address.hello["station"] == {
        "id": station.id,
        "name": "PC-1",
        "address": "192.0.2.11",
        "status": "available",
    }
    assert by_address.hello["heartbeat_interval"] == 10
    assert by_address.hello["session"] is None
    assert site.status(station) == "available"
    assert site.hub.states.get("sensor.pc_1_status").state == "available"

    session = await site.new_session(30, station.id)
    await by_address.validate(session["code"])
    await by_address.next_message("session")
    await by_address.close()

    # by name, with the token in the query string (for simple agents), mid-session: the session comes in hello
    async with site.http.ws_connect(agent_url(site.url, "pc-1") + f"?token={token}") as ws:
        hello = await ws.receive_json(timeout=5)
        assert hello["type"] == "hello" and hello["station"]["status"] == "busy"
        assert hello["session"]["session_id"] == session["id"] and hello["session"]["code"] == session["code"]
        correction = await ws.receive_json(timeout=5)
        assert correction["type"] == "session" and correction["ends_at"] == hello["session"]["ends_at"]


async def test_a_heartbeat_updates_last_seen_status_and_remaining_time(make_site: SiteFactory) -> None:
    site = await make_site(heartbeat_interval=0.2, offline_after=0.4, sweep_interval=0.05)
    station, token = await site.station("PC-1", "192.0.2.11")
    agent = await site.connected_agent("192.0.2.11", token)
    await wait_for(lambda: site.status(station) == "offline")  # no heartbeat: the sweep noticed
    seen = site.manager.station_dict(station.id)["last_seen"]
    assert seen is not None  # kept while offline

    later = time.time() + 3600
    site.manager.clock = lambda: later  # the hub's clock an hour on, so the new last_seen is unmistakable
    await agent.heartbeat()
    await wait_for(lambda: site.status(station) == "available")
    assert site.manager.station_dict(station.id)["last_seen"] == iso(later) != seen
    status = site.hub.states.get("sensor.pc_1_status")
    assert status is not None and status.state == "available" and status.attributes["last_seen"] == iso(later)
    site.manager.clock = time.time

    session = await site.new_session(30, station.id)
    await agent.validate(session["code"])
    started = await agent.next_message("session")
    assert site.status(station) == "busy"
    agent.deadline = (agent.deadline or 0) + 120  # the station's clock runs 2 minutes slow
    await agent.heartbeat()
    correction = await agent.next_message("session")
    assert correction["ends_at"] == started["ends_at"]  # the hub's clock wins
    assert abs((agent.remaining or 0) - 1800) <= 2
    remaining = site.hub.states.get("sensor.pc_1_remaining_time")
    assert remaining is not None and 1790 <= int(remaining.state) <= 1800


async def test_a_code_typed_at_the_station_starts_its_session(site: Site) -> None:
    station, token = await site.station("PC-1", "192.0.2.11")
    agent = await site.connected_agent("192.0.2.11", token)
    session = await site.new_session(45)  # not bound to a station: any of the tenant's takes it

    await agent.validate(session["code"].lower())
    started = await agent.next_message("session")

    assert started["session_id"] == session["id"] and started["code"] == session["code"]
    assert 2695 <= started["remaining"] <= 2700
    assert not agent.locked and agent.session_id == session["id"]
    stored = await site.session(session["id"])
    assert stored["status"] == "active" and stored["station_id"] == station.id
    assert stored["ends_at"] == started["ends_at"]
    assert site.status(station) == "busy"

    # the same code again (an agent retrying after a reconnect) changes nothing
    await agent.validate(session["code"])
    again = await agent.next_message("session")
    assert again["ends_at"] == started["ends_at"] and not agent.errors
    assert (await site.session(session["id"]))["ends_at"] == started["ends_at"]


async def test_wrong_codes_are_rate_limited_and_the_connection_stays_open(site: Site) -> None:
    station, token = await site.station("PC-1", "192.0.2.11")
    agent = await site.connected_agent("192.0.2.11", token)
    session = await site.new_session(30)

    for guess in ("AAAAAA", "BBBBBB", "CCCCCC", "DDDDDD", "EEEEEE"):
        await agent.validate(guess)
        error = await agent.next_message("error")
        assert error["error"] == "invalid_code" and error["field"] == "code"
        assert error["message"] == "invalid or expired code"
    await agent.validate(session["code"])  # even the right code, now
    limited = await agent.next_message("error")
    assert limited["error"] == "rate_limited" and limited["field"] == "code"
    assert 290 <= limited["retry_after"] <= 300

    assert (await site.session(session["id"]))["status"] == "waiting"
    await agent.heartbeat()  # still connected and served
    await wait_for(lambda: site.manager.station_dict(station.id)["connected"])
    assert not agent.errors[-1:] or agent.errors[-1]["error"] == "rate_limited"


async def test_add_time_and_terminate_from_the_api_and_services_reach_the_agent(site: Site) -> None:
    station, token = await site.station("PC-1", "192.0.2.11")
    agent = await site.connected_agent("192.0.2.11", token)
    session = await site.new_session(30, station.id)
    await agent.validate(session["code"])
    started = await agent.next_message("session")

    status, extended = await site.api.post(f"/api/stations/sessions/{session['id']}/add-time", {"minutes": 10})
    assert status == 200, extended
    added = await agent.next_message("add_time")
    assert added["seconds"] == 600 and added["session_id"] == session["id"]
    assert added["ends_at"] == extended["ends_at"] != started["ends_at"]
    assert abs((agent.remaining or 0) - 2400) <= 2

    context = Context(tenant_id=site.tenant.id)
    await site.hub.services.call("stations", "add_time", {"station": "PC-1", "minutes": 5}, context=context)
    by_service = await agent.next_message("add_time")
    assert by_service["seconds"] == 300 and abs((agent.remaining or 0) - 2700) <= 2

    status, _ = await site.api.post(f"/api/stations/sessions/{session['id']}/terminate")
    assert status == 200
    closed = await agent.next_message("close_session")
    assert closed == {"type": "close_session", "id": closed["id"], "session_id": session["id"], "reason": "terminated"}
    assert agent.locked and agent.session_id is None
    assert site.status(station) == "available"


async def test_bad_messages_get_an_error_naming_the_field_and_the_connection_stays_open(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    station, token = await site.station("PC-1", "192.0.2.11")
    agent = await site.connected_agent("192.0.2.11", token)
    caplog.set_level(logging.INFO, logger="integrations.stations.agent_ws")

    await agent.send_text("{not json")
    assert (await agent.next_message("error"))["error"] == "invalid_json"
    await agent.send_json({"type": "reboot"})
    unknown = await agent.next_message("error")
    assert (unknown["error"], unknown["field"]) == ("unknown_type", "type")
    await agent.send_json({"type": "heartbeat", "remaining": "lots", "code": None})
    wrong = await agent.next_message("error")
    assert (wrong["error"], wrong["field"]) == ("invalid_message", "remaining")
    await agent.send_json({"type": "validate", "code": 123456})
    assert (await agent.next_message("error"))["field"] == "code"
    await agent.send_json(["heartbeat"])
    assert (await agent.next_message("error"))["error"] == "invalid_message"
    await agent.send_json({"type": "heartbeat", "temps_restant": None, "code": None})  # the seed's name is fine

    session = await site.new_session(30, station.id)
    await agent.validate(session["code"])
    assert (await agent.next_message("session"))["session_id"] == session["id"]
    assert agent.connections == 1
    logged = [record for record in caplog.records if "sent a bad message" in record.getMessage()]
    assert len(logged) == 1 and logged[0].levelno == logging.WARNING  # once per connection, not per message


async def test_a_second_connection_of_a_station_replaces_the_first(site: Site) -> None:
    station, token = await site.station("PC-1", "192.0.2.11")
    first = await site.connected_agent("192.0.2.11", token)
    async with site.http.ws_connect(agent_url(site.url, "PC-1"), headers={"Authorization": f"Bearer {token}"}) as ws:
        assert (await ws.receive_json(timeout=5))["type"] == "hello"
        await wait_for(lambda: not first.connected.is_set())
        assert first.connections == 1  # not reconnecting: reconnect=False
        assert first._ws is None

        session = await site.new_session(30, station.id)
        await site.manager.validate_code(session["code"], station_id=station.id, client="127.0.0.1")
        pushed = await ws.receive_json(timeout=5)
        assert pushed["type"] == "session" and pushed["session_id"] == session["id"]
        assert site.manager.station_dict(station.id)["connected"]
    await wait_for(lambda: not site.manager.station_dict(station.id)["connected"])


async def test_the_replaced_connection_is_closed_with_a_reason(site: Site) -> None:
    _, token = await site.station("PC-1", "192.0.2.11")
    headers = {"Authorization": f"Bearer {token}"}
    url = agent_url(site.url, "PC-1")
    async with site.http.ws_connect(url, headers=headers) as old:
        await old.receive_json(timeout=5)
        async with site.http.ws_connect(url, headers=headers) as new:
            await new.receive_json(timeout=5)
            closing = await old.receive(timeout=5)
            assert closing.type == aiohttp.WSMsgType.CLOSE
            assert closing.data == 4000 and "replaced" in closing.extra
            await new.send_json({"type": "heartbeat", "remaining": None, "code": None})
            await asyncio.sleep(0)
            assert not new.closed


async def test_agents_are_told_when_the_hub_stops_and_reconnect_when_it_is_back(
    hub_factory: HubFactory, tmp_path: Path
) -> None:
    config = {"stations": {}, "http": {"host": "127.0.0.1", "port": free_port()}}
    hub = await hub_factory(http=True, config=config, config_dir=tmp_path / "hub")
    manager = manager_of(hub)
    assert manager is not None
    tenant = await hub.tenants.create("library", "Town library")
    station, token = await manager.create_station(tenant.id, "PC-1", address="192.0.2.11", actor="test")
    agent = StationAgent(hub.http.url, "192.0.2.11", token, auto_heartbeat=False, reconnect_delay=0.2)
    try:
        await agent.start()
        await hub.stop()
        await wait_for(lambda: not agent.connected.is_set())
        assert agent.connections == 1

        again = await hub_factory(http=True, config=config, config_dir=tmp_path / "hub")  # same database and port
        await wait_for(lambda: agent.connected.is_set(), timeout=10)
        assert agent.connections == 2
        back = manager_of(again)
        assert back is not None and back.status_of(station.id) == "available"
    finally:
        await agent.close()
