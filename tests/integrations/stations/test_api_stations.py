"""Stations over REST: create (the agent token shown once, stored hashed), rename, status, token regeneration,
delete (live sessions finish, history stays), field-named errors, roles and tenant isolation."""

from __future__ import annotations

from hub.testing.http import assert_error
from integrations.stations.manager import hash_token

from .station_support import Desk, desk

__all__ = ["desk"]


async def test_a_station_is_created_with_a_token_shown_once(desk: Desk) -> None:
    api = desk.operator.api
    status, station = await api.post(
        "/api/stations/stations", {"name": "PC-01", "address": "192.0.2.11", "mac": "00-11-22-aa-bb-cc"}
    )
    assert status == 201, station
    assert (station["address"], station["mac"], station["status"]) == ("192.0.2.11", "00:11:22:AA:BB:CC", "offline")
    token = station["token"]
    assert len(token) >= 40
    record = desk.manager.station(station["id"])
    assert record is not None and record.token_hash == hash_token(token) and token not in record.token_hash

    status, listed = await desk.viewer.get("/api/stations/stations")
    assert [item["name"] for item in listed] == ["PC-01"]
    assert "token" not in listed[0] and "token_hash" not in str(listed)
    assert listed[0]["entities"] == ["sensor.pc_01_status", "sensor.pc_01_remaining_time", "sensor.pc_01_session"]
    device = desk.hub.devices.get(station["device_id"])
    assert device is not None and device.tenant_id == desk.library.id and device.name == "PC-01"

    status, again = await api.post(f"/api/stations/stations/{station['id']}/token")
    assert status == 200 and again["token"] != token
    assert desk.manager.check_token(record, again["token"]) and not desk.manager.check_token(record, token)
    status, logs = await api.get(f"/api/stations/logs?station={station['id']}")
    assert [log["action"] for log in logs] == ["station.token", "station.create"]
    assert token not in str(logs) and again["token"] not in str(logs)


async def test_bad_station_fields_are_named(desk: Desk) -> None:
    api = desk.operator.api
    for body, field in (
        ({"name": ""}, "name"),
        ({"name": "PC", "address": "192.0.2.300"}, "address"),
        ({"name": "PC", "mac": "00:11"}, "mac"),
        ({"address": "192.0.2.10"}, "name"),
    ):
        status, answer = await api.post("/api/stations/stations", body)
        assert status == 400 and list(answer["error"]["fields"]) == [field], (body, answer)
    await api.post("/api/stations/stations", {"name": "PC-01"})
    status, answer = await api.post("/api/stations/stations", {"name": "PC-01"})
    assert status == 400 and list(answer["error"]["fields"]) == ["name"]
    status, answer = await desk.intruder.post("/api/stations/stations", {"name": "PC-01"})
    assert status == 201  # another tenant may use the same name


async def test_rename_status_and_delete(desk: Desk) -> None:
    api = desk.operator.api
    _, station = await api.post("/api/stations/stations", {"name": "PC-01"})
    path = f"/api/stations/stations/{station['id']}"
    status, renamed = await api.request("PUT", path, json={"name": "Reading room 1", "address": "192.0.2.13"})
    assert (status, renamed["name"], renamed["address"]) == (200, "Reading room 1", "192.0.2.13")
    assert renamed["entities"][0] == "sensor.pc_01_status"  # entity ids survive a rename

    status, body = await api.request("PUT", path + "/status", json={"status": "busy"})
    assert status == 400 and list(body["error"]["fields"]) == ["status"]
    status, body = await api.request("PUT", path + "/status", json={"status": "maintenance"})
    assert (status, body["status"]) == (200, "maintenance")
    assert desk.hub.states.get("sensor.pc_01_status").state == "maintenance"  # type: ignore[union-attr]

    await api.request("PUT", path + "/status", json={"status": "available"})
    _, session = await api.post("/api/stations/sessions", {"minutes": 30})
    await api.post("/api/stations/sessions/validate-code", {"code": session["code"], "station_id": station["id"]})
    status, body = await api.delete(path)
    assert status == 403
    status, body = await desk.admin.delete(path)
    assert (status, body) == (200, {"deleted": station["id"]})
    status, body = await api.get(path)
    assert status == 404
    assert_error(body, "station_not_found")
    status, ended = await api.get(f"/api/stations/sessions/{session['id']}")
    assert (ended["status"], ended["end_reason"], ended["station_id"]) == ("finished", "station_deleted", None)
    assert desk.hub.states.get("sensor.pc_01_status") is None
    assert desk.hub.devices.get(station["device_id"]) is None


async def test_another_tenants_stations_do_not_exist(desk: Desk) -> None:
    _, station = await desk.operator.api.post("/api/stations/stations", {"name": "PC-01"})
    path = f"/api/stations/stations/{station['id']}"
    intruder = desk.intruder
    for method, suffix, body in (
        ("GET", "", None),
        ("PUT", "", {"name": "Mine"}),
        ("DELETE", "", None),
        ("PUT", "/status", {"status": "maintenance"}),
        ("POST", "/token", None),
    ):
        status, answer = await intruder.request(method, path + suffix, json=body)
        assert status in (403, 404), (method, suffix, answer)  # DELETE needs an admin first, then 404
        assert station["id"] not in str(answer) or status == 404
    assert (await intruder.get("/api/stations/stations"))[1] == []
    record = desk.manager.station(station["id"])
    assert record is not None and record.name == "PC-01" and not record.maintenance
    assert desk.manager.check_token(record, station["token"])
