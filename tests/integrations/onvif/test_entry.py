"""An ONVIF config entry on a started hub against the simulated camera: device, camera, event sensors, health."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from PIL import Image

from hub.config_entries import EntryState, InvalidConfigEntry
from hub.core import Event
from hub.device_registry import DeviceStatus
from hub.testing import free_port, wait_for
from hub.testing.rtsp import RtspServer
from integrations.onvif.simulator import OnvifSimulator

from .conftest import PASSWORD, OnvifSite, SimulatorFactory

MOTION = "tns1:RuleEngine/CellMotionDetector/Motion"
CAMERA = "camera.gate_camera"
MOTION_SENSOR = "binary_sensor.gate_camera_motion"
TAMPER_SENSOR = "binary_sensor.gate_camera_tamper"
INPUT_SENSOR = "binary_sensor.gate_camera_digital_input_1"


async def test_entry_registers_the_device_and_its_camera(site: OnvifSite, camera: OnvifSimulator) -> None:
    entry = await site.add(camera)

    assert entry.state is EntryState.LOADED, entry.reason
    device = site.hub.devices.get_by_serial("Gatehouse", "SIM-ONVIF-0001")
    assert device is not None
    assert (device.status, device.tenant_id, device.model, device.sw_version) == (
        DeviceStatus.ACTIVE, site.tenant.id, "SimCam ONVIF", "1.0.0",
    )  # fmt: skip
    state = site.hub.states.get(CAMERA)
    assert state is not None and state.tenant_id == site.tenant.id
    assert state.state == "idle"
    assert state.attributes["supports_ptz"] is True
    assert (state.attributes["profile"], state.attributes["resolution"], state.attributes["codec"]) == (
        "main", "1280x720", "H264",
    )  # fmt: skip
    assert site.hub.health.get("onvif_sim_onvif_0001") is not None


async def test_stream_source_has_the_credentials_and_the_transport(site: OnvifSite, camera: OnvifSimulator) -> None:
    entry = await site.add(camera, rtsp_transport="udp")
    onvif = site.device(entry)
    assert onvif.camera is not None

    source = await onvif.camera.stream_source()

    assert source == camera.config.rtsp_url.replace("rtsp://", "rtsp://admin:s3cret%3Ap%40ss@")
    assert dict(onvif.camera.stream_options) == {"rtsp_transport": "udp"}


async def test_event_sensors_start_from_the_cameras_initial_states(site: OnvifSite, camera: OnvifSimulator) -> None:
    await site.add(camera)
    await wait_for(lambda: all(site.state(entity) == "off" for entity in (MOTION_SENSOR, TAMPER_SENSOR, INPUT_SENSOR)))

    camera.emit(MOTION, {"IsMotion": "true"})
    await wait_for(lambda: site.state(MOTION_SENSOR) == "on")
    camera.emit("tns1:Device/Trigger/DigitalInput", {"LogicalState": "true"}, {"InputToken": "1"})
    await wait_for(lambda: site.state(INPUT_SENSOR) == "on")
    camera.emit(MOTION, {"IsMotion": "false"})
    await wait_for(lambda: site.state(MOTION_SENSOR) == "off")

    state = site.hub.states.get(MOTION_SENSOR)
    assert state is not None and state.tenant_id == site.tenant.id
    assert state.attributes["device_class"] == "motion"
    assert state.attributes["topic"] == MOTION


async def test_a_line_crossing_pulses_its_sensor(site: OnvifSite, camera: OnvifSimulator) -> None:
    entry = await site.add(camera)
    await wait_for(lambda: site.state(MOTION_SENSOR) == "off")  # subscribed: the initial states arrived
    camera.emit("tns1:RuleEngine/LineDetector/Crossed", {"ObjectId": "42"}, operation=None)
    sensor_id = "binary_sensor.gate_camera_line_crossing"
    await wait_for(lambda: site.state(sensor_id) == "on")

    sensor = next(s for s in site.device(entry).sensors.values() if s.entity_id == sensor_id)
    sensor.pulse(0.05)  # the table's 5 s, shortened: it goes off by itself
    await wait_for(lambda: site.state(sensor_id) == "off")


async def test_unknown_topics_are_logged_once_and_still_fired(
    site: OnvifSite, camera: OnvifSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    fired: list[Event[Any]] = []
    site.hub.bus.listen("onvif_event", fired.append)
    caplog.set_level(logging.INFO, logger="integrations.onvif")
    await site.add(camera)
    await wait_for(lambda: site.state(MOTION_SENSOR) == "off")  # subscribed: the initial states arrived

    for count in ("1", "2", "3"):
        camera.emit("tnsaxis:CameraApplicationPlatform/ObjectAnalytics/Device1Scenario1", {"active": count})
    await wait_for(lambda: sum(1 for event in fired if event.data["topic"].startswith("tnsaxis:")) == 3)

    logged = [r for r in caplog.records if "no handler for event topic tnsaxis:CameraApplication" in r.getMessage()]
    assert len(logged) == 1
    assert fired[-1].data["data"] == {"active": "3"}
    assert fired[-1].tenant_id == site.tenant.id


async def test_snapshots_come_from_the_snapshot_url(site: OnvifSite, camera: OnvifSimulator) -> None:
    entry = await site.add(camera)
    onvif_camera = site.device(entry).camera
    assert onvif_camera is not None

    full = await onvif_camera.async_camera_image()
    small = await onvif_camera.async_camera_image(width=320)

    assert full is not None and full.startswith(b"\xff\xd8")
    assert small is not None and small.startswith(b"\xff\xd8")
    assert Image.open(io.BytesIO(full)).size == (640, 360)
    assert Image.open(io.BytesIO(small)).size == (320, 180)


async def test_without_a_snapshot_url_stills_come_from_the_stream(
    site: OnvifSite, simulator_factory: SimulatorFactory, rtsp_server: RtspServer
) -> None:
    camera = await simulator_factory(rtsp_url=rtsp_server.url, snapshot=False)
    entry = await site.add(camera)
    onvif_camera = site.device(entry).camera
    assert onvif_camera is not None and site.device(entry).snapshot_uri is None

    jpeg = await onvif_camera.async_camera_image(width=640)

    assert jpeg is not None
    assert Image.open(io.BytesIO(jpeg)).size == (640, 360)  # a frame of the 1280x720 stream, scaled


async def test_clock_offset_is_shown_and_used(site: OnvifSite, simulator_factory: SimulatorFactory) -> None:
    camera = await simulator_factory(clock_offset=-7200.0)
    entry = await site.add(camera)
    assert entry.state is EntryState.LOADED, entry.reason
    state = site.hub.states.get(CAMERA)
    assert state is not None and state.attributes["clock_offset_s"] == pytest.approx(-7200, abs=2)
    assert camera.auth_failures == 0


async def test_the_configured_profile_is_used(site: OnvifSite, simulator_factory: SimulatorFactory) -> None:
    camera = await simulator_factory(sub_rtsp_url="rtsp://127.0.0.1:9/sub")
    entry = await site.add(camera, profile_token="sub")
    onvif = site.device(entry)
    assert onvif.profile.token == "sub"
    assert onvif.stream_url is not None and onvif.stream_url.endswith("@127.0.0.1:9/sub")


async def test_wrong_password_fails_without_retry(site: OnvifSite, camera: OnvifSimulator) -> None:
    entry = await site.add(camera, password="wrong")
    assert entry.state is EntryState.SETUP_ERROR
    assert entry.reason is not None and entry.reason.startswith("authentication failed")
    assert entry.retry_delay is None


async def test_an_unreachable_camera_is_retried(site: OnvifSite) -> None:
    values = {"host": "127.0.0.1", "port": free_port(), "username": "admin", "password": PASSWORD}
    entry = await site.hub.config_entries.add("onvif", values, tenant_id=site.tenant.id, title="Lost camera")
    assert entry.state is EntryState.SETUP_RETRY
    assert entry.reason is not None and "GetSystemDateAndTime" in entry.reason
    assert entry.retry_delay == 5.0


async def test_broken_xml_is_a_clear_reason(site: OnvifSite, simulator_factory: SimulatorFactory) -> None:
    camera = await simulator_factory(broken_xml=frozenset({"GetDeviceInformation"}))
    entry = await site.add(camera)
    assert entry.state is EntryState.SETUP_RETRY
    assert entry.reason is not None and "GetDeviceInformation: the device sent broken XML" in entry.reason


async def test_an_unknown_profile_names_the_field(site: OnvifSite, camera: OnvifSimulator) -> None:
    entry = await site.add(camera, profile_token="nope")
    assert entry.state is EntryState.SETUP_ERROR
    assert entry.reason is not None and "profile_token: the device has no profile 'nope' (it has: main)" in entry.reason


async def test_bad_entry_data_names_each_field(site: OnvifSite) -> None:
    with pytest.raises(InvalidConfigEntry) as caught:
        await site.hub.config_entries.add(
            "onvif", {"host": "", "port": 70000, "rtsp_transport": "carrier-pigeon"}, tenant_id=site.tenant.id
        )
    assert set(caught.value.fields) == {"host", "port", "rtsp_transport"}


async def test_offline_and_back(site: OnvifSite, camera: OnvifSimulator) -> None:
    entry = await site.add(camera)
    onvif = site.device(entry)
    health = onvif.health
    assert health is not None and onvif.device is not None and onvif.events is not None
    await wait_for(lambda: site.state(MOTION_SENSOR) == "off")

    await camera.stop()
    assert await health.check_now() == "offline"
    await wait_for(lambda: site.state(CAMERA) == "unavailable" and site.state(MOTION_SENSOR) == "unavailable")
    await wait_for(lambda: site.hub.devices.get(onvif.device.id).status is DeviceStatus.OFFLINE)  # type: ignore[union-attr]
    assert health.next_retry_at is not None  # on the back-off table

    subscriptions = onvif.events.subscriptions
    await camera.start()
    assert await health.check_now() == "excellent"
    # Recovery is several SOAP round trips (device info, a new pull point): generous limits for a loaded CI machine.
    await wait_for(lambda: site.hub.devices.get(onvif.device.id).status is DeviceStatus.ACTIVE, timeout=30)  # type: ignore[union-attr]
    await wait_for(lambda: site.state(CAMERA) == "idle", timeout=30)
    await wait_for(lambda: onvif.events is not None and onvif.events.subscriptions > subscriptions, timeout=30)
    camera.emit(MOTION, {"IsMotion": "true"})
    await wait_for(lambda: site.state(MOTION_SENSOR) == "on", timeout=30)


async def test_a_changed_password_on_the_camera_is_auth_failed(site: OnvifSite, camera: OnvifSimulator) -> None:
    entry = await site.add(camera)
    health = site.device(entry).health
    assert health is not None
    camera.reconfigure(password="changed")
    assert await health.check_now() == "auth_failed"
    assert health.next_retry_at is None
    await wait_for(lambda: site.state(CAMERA) == "unavailable")


async def test_unload_stops_everything_and_never_unsubscribes(site: OnvifSite, camera: OnvifSimulator) -> None:
    entry = await site.add(camera)
    await wait_for(lambda: site.state(MOTION_SENSOR) == "off")
    assert site.hub.services.has("onvif", "ptz_move")

    await site.hub.config_entries.unload(entry.entry_id)

    assert site.state(CAMERA) is None and site.state(MOTION_SENSOR) is None
    assert not site.hub.services.has("onvif", "ptz_move")
    assert site.hub.health.get("onvif_sim_onvif_0001") is None
    assert "Unsubscribe" not in camera.calls
    assert len(camera.events.subscriptions) == 1  # left to expire on the camera


async def test_credentials_stay_out_of_states_and_logs(
    site: OnvifSite, simulator_factory: SimulatorFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    camera = await simulator_factory(rtsp_url=f"rtsp://0.0.0.0:{free_port()}/live")  # rewritten: logged
    entry = await site.add(camera)
    assert entry.state is EntryState.LOADED
    assert "stream host cannot be reached" in caplog.text
    # Every log of the integration and of the ONVIF library (its DEBUG logs print each SOAP request: digests only).
    ours = [r.getMessage() for r in caplog.records if r.name.startswith(("integrations.onvif", "onvif", "zeep"))]
    everything = "\n".join(ours) + repr([state.as_dict() for state in site.hub.states.all()])
    assert PASSWORD not in everything and "s3cret%3Ap%40ss" not in everything
