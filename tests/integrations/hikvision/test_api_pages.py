"""The REST API, the services and the dashboard pages, through the hub's real HTTP server: each role sees and does
what it may, another tenant's device does not exist (404), and the pages read in English and French.
"""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from hub.auth.scope import Role
from hub.tenants import Tenant
from hub.testing import wait_for
from hub.testing.http import SignedInUser, UserFactory, assert_error

from .conftest import HikSite

SERIAL = "DS-K1T671M0006"


def face_jpeg() -> str:
    """A real (small) JPEG, base64, as an enrolment form sends it."""
    out = io.BytesIO()
    Image.new("RGB", (120, 160), (200, 170, 150)).save(out, "JPEG")
    return base64.b64encode(out.getvalue()).decode()


@pytest.fixture
async def globex(site: HikSite) -> Tenant:
    return await site.hub.tenants.create("globex", "Globex")


async def connected_terminal(site: HikSite) -> None:
    simulator = await site.device_sim(SERIAL, kind="access", doors=2)
    await site.add_device(simulator, name="Staff door")
    await wait_for(lambda: simulator.stream_count == 1)


async def test_another_tenants_device_does_not_exist(site: HikSite, globex: Tenant, make_user: UserFactory) -> None:
    await connected_terminal(site)
    outsider: SignedInUser = await make_user(site.hub, globex, Role.OWNER)

    status, listed = await outsider.api.get("/api/hikvision/devices")
    assert (status, listed) == (200, [])
    for method, path, body in (
        ("GET", f"/api/hikvision/devices/{SERIAL}", None),
        ("GET", f"/api/hikvision/devices/{SERIAL}/events", None),
        ("POST", f"/api/hikvision/devices/{SERIAL}/doors/1", {"command": "open"}),
        ("GET", f"/api/hikvision/devices/{SERIAL}/people", None),
        ("POST", f"/api/hikvision/devices/{SERIAL}/backfill", None),
    ):
        status, answer = await outsider.api.request(method, path, json=body)
        assert status == 404, (path, answer)
        assert_error(answer, "device_not_found")
    status, _ = await outsider.api.get(f"/hikvision/{SERIAL}")
    assert status == 404
    status, _ = await outsider.api.post("/api/hikvision/claim", {"serial": SERIAL})
    assert status == 409  # the serial is somebody else's, without saying whose
    status, _ = await outsider.api.post(
        "/api/services/hikvision/open_door", {"target": {"entity_id": "lock.staff_door_door_1"}}
    )
    assert status == 404


async def test_roles_on_doors_people_and_records(site: HikSite, make_user: UserFactory) -> None:
    await connected_terminal(site)
    viewer = await make_user(site.hub, site.tenant, Role.VIEWER)
    operator = await make_user(site.hub, site.tenant, Role.OPERATOR)
    admin = await make_user(site.hub, site.tenant, Role.ADMIN)

    status, (view,) = await viewer.api.get("/api/hikvision/devices")
    assert status == 200
    assert (view["serial"], view["status"], view["connection"], view["event_mode"], view["online"]) == (
        SERIAL,
        "ACTIVE",
        "direct",
        "stream",
        True,
    )
    assert [door["door"] for door in view["doors"]] == [1, 2]
    status, _ = await viewer.api.post(f"/api/hikvision/devices/{SERIAL}/doors/2", {"command": "open"})
    assert status == 403
    status, answer = await operator.api.post(f"/api/hikvision/devices/{SERIAL}/doors/2", {"command": "open"})
    assert (status, answer["state"]) == (200, "unlocked")
    status, answer = await operator.api.post(f"/api/hikvision/devices/{SERIAL}/doors/3", {"command": "open"})
    assert status == 404
    status, answer = await operator.api.post(f"/api/hikvision/devices/{SERIAL}/doors/1", {"command": "unlock"})
    assert status == 400 and "command" in answer["error"]["fields"]

    person = {"employee_no": "77", "name": "Margaret", "cards": ["555000111"], "face": face_jpeg(), "doors": [1, 2]}
    status, _ = await operator.api.post(f"/api/hikvision/devices/{SERIAL}/people", person)
    assert status == 403
    status, pushed = await admin.api.post(f"/api/hikvision/devices/{SERIAL}/people", person)
    assert (status, pushed) == (200, {"employee_no": "77", "user": "added", "cards_added": ["555000111"],
                                      "face": True})  # fmt: skip
    status, again = await admin.api.post(f"/api/hikvision/devices/{SERIAL}/people", {**person, "name": "Maggie"})
    assert status == 200, again
    assert (again["user"], again["cards_added"]) == ("modified", [])
    status, people = await admin.api.get(f"/api/hikvision/devices/{SERIAL}/people")
    assert [(p["employee_no"], p["name"], p["cards"], p["face"]) for p in people] == [
        ("77", "Maggie", ["555000111"], True)
    ]
    status, answer = await admin.api.post(f"/api/hikvision/devices/{SERIAL}/people", {"name": "No number"})
    assert status == 400 and answer["error"]["fields"] == {"employee_no": "required"}
    status, _ = await admin.api.delete(f"/api/hikvision/devices/{SERIAL}/people/77")
    assert status == 200
    status, people = await admin.api.get(f"/api/hikvision/devices/{SERIAL}/people")
    assert people == []

    simulator = site.simulators[0]
    serial_no = simulator.emit_access(5, 75, employee_no="77", name="Maggie")
    await wait_for(lambda: len(site.access(SERIAL)) == 1)
    status, events = await viewer.api.get("/api/hikvision/events?kind=granted")
    assert [(e["serial_no"], e["name"], e["device_name"]) for e in events] == [(serial_no, "Maggie", "Staff door")]
    status, events = await viewer.api.get(f"/api/hikvision/devices/{SERIAL}/events?kind=denied")
    assert events == []


async def test_services_act_on_lock_entities_and_devices(site: HikSite, make_user: UserFactory) -> None:
    await connected_terminal(site)
    operator = await make_user(site.hub, site.tenant, Role.OPERATOR)
    simulator = site.simulators[0]

    status, _ = await operator.api.post(
        "/api/services/hikvision/door_always_open", {"target": {"entity_id": "lock.staff_door_door_2"}}
    )
    assert status == 200
    assert simulator.access.doors[1].mode == "alwaysOpen"
    assert site.hub.states.get("lock.staff_door_door_2").attributes["mode"] == "always_open"

    device_id = site.device(SERIAL).id
    status, _ = await operator.api.post(
        "/api/services/hikvision/door_always_closed", {"target": {"device_id": device_id}, "data": {"door": 1}}
    )
    assert status == 200 and simulator.access.doors[0].mode == "alwaysClose"

    result = await site.hub.services.call(
        "hikvision", "push_person", {"employee_no": "5", "name": "Joan"}, target={"device_id": device_id}
    )
    assert result["user"] == "added"
    users = await site.hub.services.call("hikvision", "pull_users", {}, target={"device_id": device_id})
    assert [user["name"] for user in users] == ["Joan"]
    status, answer = await operator.api.post("/api/services/hikvision/open_door", {"target": {}})
    assert status == 400 and answer["error"]["code"] == "invalid_service_data"


async def test_the_pages_in_english_and_french(site: HikSite, make_user: UserFactory) -> None:
    await connected_terminal(site)
    serial_no = site.simulators[0].emit_access(5, 76, employee_no="13", name="Rosalind")
    await wait_for(lambda: len(site.access(SERIAL)) == 1)
    operator = await make_user(site.hub, site.tenant, Role.OPERATOR)
    admin = await make_user(site.hub, site.tenant, Role.ADMIN)

    status, page = await operator.api.get("/hikvision")
    assert status == 200
    assert "Hikvision devices" in page and "Staff door" in page and SERIAL in page
    assert "Rosalind" in page and "Denied" in page
    assert "No Hik Device Gateway is configured" in page
    assert 'id="hikvision-claim"' not in page  # claiming is for administrators
    status, page = await admin.api.get("/hikvision")
    assert 'id="hikvision-claim"' in page

    status, page = await operator.api.get(f"/hikvision/{SERIAL}")
    assert status == 200
    assert page.count('data-door-command="open"') == 2 and "Hold open" in page
    assert f'data-serial-no="{serial_no}"' in page

    status, page = await operator.api.get(f"/hikvision/{SERIAL}", headers={"Cookie": "lang=fr"})
    assert "Maintenir ouverte" in page and "Derniers événements d\u2019accès" in page and "Refusé" in page
    status, script = await operator.api.get("/static/hikvision/hikvision.js")
    assert status == 200 and "subscribe_events" in script


async def test_a_camera_channel_is_a_camera_entity(site: HikSite) -> None:
    simulator = await site.device_sim("DS-2CD2143G20006", kind="camera", channels=1, rtsp_port=8554)
    await site.add_device(simulator, name="Gate cam")
    camera = site.hub.entities.entity("camera.gate_cam_camera_1")
    assert camera is not None

    source = await camera.stream_source()
    sub = await camera.sub_stream_source()
    jpeg = await camera.async_camera_image()
    small = await camera.async_camera_image(width=64)

    password = simulator.password.replace("!", "%21")
    assert source == f"rtsp://admin:{password}@127.0.0.1:8554/Streaming/Channels/101"
    assert sub is not None and sub.endswith("/Streaming/Channels/102")
    assert jpeg is not None and jpeg[:2] == b"\xff\xd8"
    assert small is not None and small[:2] == b"\xff\xd8" and len(small) < len(jpeg)
    state = site.hub.states.get("camera.gate_cam_camera_1")
    assert state is not None and "rtsp" not in str(state.attributes)  # credentials never in attributes


async def test_nvr_channels_fall_back_to_the_streaming_proxy(site: HikSite) -> None:
    simulator = await site.device_sim("DS-7608NI0006", kind="nvr", channels=2)
    await site.add_device(simulator, name="Recorder", event_mode="none")
    assert sorted(state.entity_id for state in site.hub.states.all("camera")) == [
        "camera.recorder_camera_1",
        "camera.recorder_camera_2",
    ]
    camera = site.hub.entities.entity("camera.recorder_camera_2")
    assert camera is not None

    jpeg = await camera.async_camera_image()

    assert jpeg is not None and jpeg[:2] == b"\xff\xd8"
    assert simulator.requests["/ISAPI/ContentMgmt/StreamingProxy/channels/201/picture"] == 1
