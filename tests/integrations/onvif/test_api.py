"""The ONVIF integration through the hub's real HTTP API: adding a camera, its stills, PTZ, tenant walls."""

from __future__ import annotations

import aiohttp

from hub.auth.scope import Role
from hub.core import Hub
from hub.testing import wait_for
from hub.testing.http import UserFactory, assert_error
from integrations.onvif.simulator import OnvifSimulator

from .conftest import PASSWORD

CAMERA = "camera.gate_camera"


async def test_a_tenant_adds_a_camera_and_moves_it(
    http_hub: Hub, make_user: UserFactory, camera: OnvifSimulator
) -> None:
    school = await http_hub.tenants.create("school", "Lakeside School")
    other = await http_hub.tenants.create("other", "Other School")
    officer = await make_user(http_hub, school, Role.ADMIN)
    stranger = await make_user(http_hub, other, Role.ADMIN)
    data = {"host": "127.0.0.1", "port": camera.port, "username": "admin", "password": PASSWORD}

    status, entry = await officer.api.post(
        "/api/config_entries", json={"domain": "onvif", "data": data, "title": "Gate camera"}
    )
    assert status == 201 and entry["state"] == "loaded", entry
    assert PASSWORD not in str(entry)

    status, state = await officer.api.get(f"/api/states/{CAMERA}")
    assert status == 200 and state["attributes"]["supports_ptz"] is True
    assert PASSWORD not in str(state)
    status, _ = await stranger.api.get(f"/api/states/{CAMERA}")
    assert status == 404

    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{http_hub.http.url}/api/camera_proxy/{CAMERA}?width=320", headers=officer.api.headers
        ) as response,
    ):
        assert response.status == 200 and response.content_type == "image/jpeg"
        assert (await response.read()).startswith(b"\xff\xd8")

    status, body = await officer.api.post(
        "/api/services/onvif/ptz_move", json={"target": {"entity_id": CAMERA}, "data": {"pan": -1, "duration": 5}}
    )
    assert status == 200, body
    assert camera.ptz.velocity == (-1.0, 0.0, 0.0)

    status, body = await officer.api.post(
        "/api/services/onvif/ptz_move", json={"target": {"entity_id": CAMERA}, "data": {"tilt": "up"}}
    )
    assert status == 400
    assert_error(body, "invalid_service_data")
    assert set(body["error"]["fields"]) == {"tilt"}

    status, _ = await stranger.api.post("/api/services/onvif/ptz_stop", json={"target": {"entity_id": CAMERA}})
    assert status == 404
    assert camera.ptz.moving  # the other tenant's call did not reach the camera

    status, _ = await officer.api.delete(f"/api/config_entries/{entry['entry_id']}")
    assert status == 204
    await wait_for(lambda: http_hub.states.get(CAMERA) is None)
