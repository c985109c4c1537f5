"""The PTZ services move the simulated head over SOAP; bad targets and data name their field."""

from __future__ import annotations

import pytest

from hub.exceptions import ServiceValidationError
from hub.testing import wait_for
from integrations.onvif.simulator import OnvifSimulator, SimulatedProfile

from .conftest import OnvifSite, SimulatorFactory

CAMERA = "camera.gate_camera"


async def test_move_and_stop(site: OnvifSite, camera: OnvifSimulator) -> None:
    await site.add(camera)

    await site.hub.services.call("onvif", "ptz_move", {"pan": 0.5, "tilt": -0.25}, target={"entity_id": CAMERA})
    assert camera.ptz.velocity == (0.5, -0.25, 0.0) and camera.ptz.moving
    await site.hub.services.call("onvif", "ptz_stop", target={"entity_id": CAMERA})
    assert not camera.ptz.moving
    assert camera.calls.count("ContinuousMove") == 1 and camera.calls.count("Stop") == 1


async def test_a_move_with_a_duration_stops_by_itself(site: OnvifSite, camera: OnvifSimulator) -> None:
    await site.add(camera)
    await site.hub.services.call("onvif", "ptz_move", {"zoom": 1, "duration": 0.2}, target={"entity_id": CAMERA})
    assert camera.ptz.moving
    await wait_for(lambda: not camera.ptz.moving)
    assert camera.ptz.position()[2] > 0


async def test_presets_by_token_or_name(site: OnvifSite, camera: OnvifSimulator) -> None:
    entry = await site.add(camera)
    camera.ptz.pan, camera.ptz.tilt = 0.3, 0.1

    token = await site.hub.services.call("onvif", "set_preset", {"name": "Front door"}, target={"entity_id": CAMERA})
    camera.ptz.pan, camera.ptz.tilt = -0.9, -0.9
    await site.hub.services.call("onvif", "goto_preset", {"preset": "Front door"}, target={"entity_id": CAMERA})
    assert camera.ptz.position()[:2] == pytest.approx((0.3, 0.1))
    camera.ptz.pan = 0.0
    device = site.device(entry).device
    assert device is not None
    await site.hub.services.call("onvif", "goto_preset", {"preset": token}, target={"device_id": device.id})
    assert camera.ptz.position()[0] == pytest.approx(0.3)

    state = site.hub.states.get(CAMERA)
    assert state is not None and state.attributes["presets"] == [{"token": token, "name": "Front door"}]


async def test_bad_data_and_targets_name_the_field(site: OnvifSite, simulator_factory: SimulatorFactory) -> None:
    camera = await simulator_factory()
    fixed = await simulator_factory(
        serial_number="SIM-FIXED", profiles=(SimulatedProfile("fixed", "Fixed", "rtsp://127.0.0.1:9/x", ptz=False),)
    )
    await site.add(camera)
    await site.add(fixed, title="Fixed camera")

    with pytest.raises(ServiceValidationError) as caught:
        await site.hub.services.call("onvif", "ptz_move", {"pan": 2}, target={"entity_id": CAMERA})
    assert set(caught.value.fields) == {"pan"}
    with pytest.raises(ServiceValidationError) as caught:
        await site.hub.services.call("onvif", "ptz_move", {"pan": 1}, target={"entity_id": "camera.fixed_camera"})
    assert caught.value.fields == {"entity_id": "camera.fixed_camera has no PTZ"}
    with pytest.raises(ServiceValidationError) as caught:
        await site.hub.services.call("onvif", "ptz_stop", target={"entity_id": "binary_sensor.gate_camera_motion"})
    assert "is not an ONVIF camera" in caught.value.fields["entity_id"]
    with pytest.raises(ServiceValidationError) as caught:
        await site.hub.services.call("onvif", "goto_preset", {}, target={"entity_id": CAMERA})
    assert caught.value.fields == {"preset": "required"}
    assert camera.calls.count("ContinuousMove") == 0


async def test_a_preset_the_camera_does_not_have_is_its_fault(site: OnvifSite, camera: OnvifSimulator) -> None:
    from integrations.onvif.errors import OnvifFaultError

    await site.add(camera)
    with pytest.raises(OnvifFaultError, match="GotoPreset: the device answered a fault: no preset 'nowhere'"):
        await site.hub.services.call("onvif", "goto_preset", {"preset": "nowhere"}, target={"entity_id": CAMERA})
