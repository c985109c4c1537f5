"""The sessions REST API over the hub's real HTTP server: create -> code, validate, add time, terminate, the
rate limit on guessing (429 with Retry-After), field-named errors, roles, and the audit log routes."""

from __future__ import annotations

from typing import Any

import aiohttp

from hub.testing import HubFactory
from hub.testing.http import ApiClient, assert_error

from .station_support import Desk, desk

__all__ = ["desk"]


async def new_station(api: ApiClient, name: str = "PC-01", **fields: Any) -> dict[str, Any]:
    status, station = await api.post("/api/stations/stations", {"name": name, **fields})
    assert status == 201, station
    return dict(station)


async def new_session(api: ApiClient, minutes: int = 30, **fields: Any) -> dict[str, Any]:
    status, session = await api.post("/api/stations/sessions", {"minutes": minutes, **fields})
    assert status == 201, session
    return dict(session)


async def test_a_session_from_code_to_end(desk: Desk) -> None:
    api = desk.operator.api
    station = await new_station(api, address="192.0.2.11")
    session = await new_session(api, 45)
    assert (session["status"], session["remaining"], len(session["code"])) == ("waiting", 2700, 6)

    status, started = await api.post(
        "/api/stations/sessions/validate-code", {"code": session["code"].lower(), "station_id": station["id"]}
    )
    assert status == 200, started
    assert (started["status"], started["station"], started["station_id"]) == ("active", "PC-01", station["id"])
    assert started["ends_at"].endswith("+00:00") and started["remaining"] <= 2700

    status, extended = await api.post(f"/api/stations/sessions/{session['id']}/add-time", {"minutes": 15})
    assert status == 200 and extended["minutes"] == 60 and extended["added"] == 900
    status, listed = await api.get(f"/api/stations/stations/{station['id']}")
    assert listed["session"]["id"] == session["id"]
    assert listed["session"]["ends_at"] == extended["ends_at"]

    status, ended = await api.post(f"/api/stations/sessions/{session['id']}/terminate")
    assert (status, ended["status"], ended["end_reason"]) == (200, "finished", "terminated")
    assert "code" not in ended  # a finished session's code is of no use to anybody
    status, again = await api.post(f"/api/stations/sessions/{session['id']}/terminate")
    assert status == 409
    assert_error(again, "already_finished")
    assert "already finished" in again["error"]["message"]

    status, logs = await api.get(f"/api/stations/logs?session={session['id']}")
    assert [log["action"] for log in logs] == [
        "session.terminate",
        "session.add_time",
        "session.validate",
        "session.create",
    ]
    assert {log["actor"] for log in logs} == {desk.operator.id}
    status, one = await api.get(f"/api/stations/logs/{logs[0]['id']}")
    assert (status, one["action"]) == (200, "session.terminate")


async def test_bad_times_are_refused_naming_minutes(desk: Desk) -> None:
    api = desk.operator.api
    station = await new_station(api)
    session = await new_session(api, 60)
    await api.post("/api/stations/sessions/validate-code", {"code": session["code"], "station_id": station["id"]})

    for minutes in (0, -5, 721, 10**12, 1.5, "ten", True, None):
        status, body = await api.post(f"/api/stations/sessions/{session['id']}/add-time", {"minutes": minutes})
        assert status == 400, (minutes, body)
        assert list(body["error"]["fields"]) == ["minutes"], body
    status, body = await api.post(f"/api/stations/sessions/{session['id']}/add-time", {"minutes": "30"})
    assert (status, body["minutes"]) == (200, 90)
    status, body = await api.post(f"/api/stations/sessions/{session['id']}/add-time", {"minutes": 720})
    assert (status, body["minutes"]) == (200, 810)
    status, body = await api.post(f"/api/stations/sessions/{session['id']}/add-time", {"minutes": 700})
    assert status == 400
    assert "at most 630 more minutes" in body["error"]["fields"]["minutes"]
    for minutes in (0, 1441, -1):
        status, body = await api.post("/api/stations/sessions", {"minutes": minutes})
        assert status == 400 and list(body["error"]["fields"]) == ["minutes"], body


async def test_guessing_codes_is_rate_limited_with_one_message(desk: Desk) -> None:
    api = desk.operator.api
    station = await new_station(api)
    session = await new_session(api)
    expired = await new_session(api)
    await api.post(f"/api/stations/sessions/{expired['id']}/terminate")

    answers = []
    for code in ("AAAAAA", "BBBBBB", expired["code"], "CCCCCC", "DDDDDD"):
        status, body = await api.post(
            "/api/stations/sessions/validate-code", {"code": code, "station_id": station["id"]}
        )
        answers.append((status, body["error"]["message"], tuple(body["error"]["fields"].items())))
    assert set(answers) == {(400, "invalid or expired code", (("code", "invalid or expired code"),))}

    async with api.session.post(
        api.base_url + "/api/stations/sessions/validate-code",
        json={"code": session["code"], "station_id": station["id"]},
        headers=api.headers,
    ) as response:
        body = await response.json()
        assert response.status == 429, body
        assert 1 <= int(response.headers["Retry-After"]) <= 300
    assert_error(body, "rate_limited")
    status, still = await api.get(f"/api/stations/sessions/{session['id']}")
    assert still["status"] == "waiting"


async def test_busy_and_maintenance_stations_answer_409(desk: Desk) -> None:
    api = desk.operator.api
    station = await new_station(api)
    first, second = await new_session(api), await new_session(api)
    await api.post("/api/stations/sessions/validate-code", {"code": first["code"], "station_id": station["id"]})
    status, body = await api.post(
        "/api/stations/sessions/validate-code", {"code": second["code"], "station_id": station["id"]}
    )
    assert status == 409
    assert_error(body, "station_busy")


async def test_listing_filters_and_roles(desk: Desk) -> None:
    api = desk.operator.api
    pc1, pc2 = await new_station(api, "PC-01"), await new_station(api, "PC-02")
    bound = await new_session(api, station_id=pc2["id"])
    loose = await new_session(api)
    await api.post("/api/stations/sessions/validate-code", {"code": bound["code"], "station_id": pc2["id"]})

    status, waiting = await api.get("/api/stations/sessions?status=waiting")
    assert [session["id"] for session in waiting] == [loose["id"]]
    status, on_pc2 = await api.get(f"/api/stations/sessions?station={pc2['id']}")
    assert [session["id"] for session in on_pc2] == [bound["id"]]
    status, on_pc1 = await api.get(f"/api/stations/sessions?station={pc1['id']}")
    assert on_pc1 == []
    status, body = await api.get("/api/stations/sessions?status=paused")
    assert status == 400 and "status" in body["error"]["fields"]

    viewer = desk.viewer
    status, seen = await viewer.get("/api/stations/sessions")
    assert status == 200 and len(seen) == 2 and all("code" not in session for session in seen)
    status, body = await viewer.post("/api/stations/sessions", {"minutes": 10})
    assert status == 403
    status, body = await viewer.post(f"/api/stations/sessions/{loose['id']}/terminate")
    assert status == 403


async def test_another_tenants_sessions_do_not_exist(desk: Desk) -> None:
    station = await new_station(desk.operator.api)
    session = await new_session(desk.operator.api)
    intruder = desk.intruder
    for method, path, body in (
        ("GET", f"/api/stations/sessions/{session['id']}", None),
        ("POST", f"/api/stations/sessions/{session['id']}/add-time", {"minutes": 5}),
        ("POST", f"/api/stations/sessions/{session['id']}/terminate", None),
        ("POST", "/api/stations/sessions/validate-code", {"code": session["code"], "station_id": station["id"]}),
    ):
        status, answer = await intruder.request(method, path, json=body)
        assert status == 404, (path, answer)
    status, answer = await intruder.post("/api/stations/sessions", {"minutes": 5, "station_id": station["id"]})
    assert status == 400 and answer["error"]["fields"] == {"station_id": "no such station"}
    assert (await intruder.get("/api/stations/sessions"))[1] == []
    assert (await intruder.get("/api/stations/logs"))[1] == []
    status, still = await desk.operator.api.get(f"/api/stations/sessions/{session['id']}")
    assert still["status"] == "waiting"


async def test_without_the_section_the_routes_say_how_to_set_it_up(hub_factory: HubFactory) -> None:
    hub = await hub_factory(http=True)
    await hub.auth.onboard("admin", "correct horse battery staple")
    pair = await hub.auth.login("admin", "correct horse battery staple", address="127.0.0.1")
    async with aiohttp.ClientSession() as session:
        api = ApiClient(session, hub.http.url, pair.access_token)
        status, body = await api.get("/api/stations/sessions")
    assert status == 404
    assert_error(body, "not_set_up")
    assert "add `stations:` to configuration.yaml" in body["error"]["message"]
