"""The ONVIF client against the simulated camera over loopback: clock offset, device, media, errors by kind."""

from __future__ import annotations

import pytest
from aiohttp import ClientSession, web

from hub.testing import free_port
from integrations.onvif._library import ONVIFCamera
from integrations.onvif.client import OnvifClient
from integrations.onvif.errors import OnvifAuthError, OnvifConnectionError, OnvifFaultError, OnvifResponseError
from integrations.onvif.simulator import OnvifSimulator, SimulatedProfile

from .conftest import PASSWORD, SimulatorFactory


def client_for(simulator: OnvifSimulator, password: str = PASSWORD, **kwargs: float) -> OnvifClient:
    return OnvifClient("127.0.0.1", simulator.port, "admin", password, **kwargs)


async def test_device_information_profiles_and_uris(camera: OnvifSimulator) -> None:
    client = client_for(camera)
    await client.connect()
    try:
        info = await client.device_info()
        profiles = await client.profiles()
        stream = await client.stream_uri("main")
        snapshot = await client.snapshot_uri("main")
    finally:
        await client.close()

    assert (info.manufacturer, info.model, info.serial_number) == ("Gatehouse", "SimCam ONVIF", "SIM-ONVIF-0001")
    assert info.firmware_version == "1.0.0" and info.mac == "02:00:00:00:6f:01"
    (main,) = profiles
    assert (main.token, main.codec, main.width, main.height, main.fps) == ("main", "H264", 1280, 720, 25)
    assert main.ptz
    assert stream == camera.config.rtsp_url
    assert snapshot == camera.address("/onvif/snapshot.jpg")
    assert client.has_ptz and client.has_events
    assert camera.auth_failures == 0


async def test_clock_offset_is_measured_and_used_for_authentication(simulator_factory: SimulatorFactory) -> None:
    camera = await simulator_factory(clock_offset=3600.0)  # the camera's clock is an hour ahead
    client = client_for(camera)
    await client.connect()
    try:
        info = await client.device_info()
    finally:
        await client.close()

    assert info.serial_number == "SIM-ONVIF-0001"
    assert client.clock_offset == pytest.approx(3600.0, abs=2.0)
    assert camera.auth_failures == 0


async def test_without_the_offset_the_same_camera_refuses_the_digest(simulator_factory: SimulatorFactory) -> None:
    """The control experiment: timestamps on our clock are an hour off the camera's, and it says NotAuthorized."""
    camera = await simulator_factory(clock_offset=3600.0)
    raw = ONVIFCamera("127.0.0.1", camera.port, "admin", PASSWORD, adjust_time=False, no_cache=True)
    try:
        await raw.update_xaddrs()  # GetServices is a pre-authentication operation
        service = await raw.create_devicemgmt_service()
        with pytest.raises(Exception, match=r"(?i)not authori"):
            await service.GetDeviceInformation()
    finally:
        await raw.close()
    assert camera.auth_failures == 1


async def test_several_profiles_are_read_with_their_encoders(simulator_factory: SimulatorFactory) -> None:
    camera = await simulator_factory(sub_rtsp_url="rtsp://127.0.0.1:9/sub")
    client = client_for(camera)
    await client.connect()
    try:
        profiles = {profile.token: profile for profile in await client.profiles()}
        sub_uri = await client.stream_uri("sub", "udp")
    finally:
        await client.close()
    assert set(profiles) == {"main", "sub"}
    assert (profiles["sub"].width, profiles["sub"].height, profiles["sub"].fps) == (640, 360, 10)
    assert sub_uri == "rtsp://127.0.0.1:9/sub"


async def test_wrong_password_is_an_auth_error(camera: OnvifSimulator) -> None:
    client = client_for(camera, password="wrong")
    await client.connect()  # clock and services need no credentials
    try:
        with pytest.raises(OnvifAuthError, match="GetDeviceInformation: the device refused the credentials"):
            await client.device_info()
    finally:
        await client.close()


async def test_nothing_listening_is_a_connection_error() -> None:
    client = OnvifClient("127.0.0.1", free_port(), "admin", "x", timeout=2.0)
    with pytest.raises(OnvifConnectionError):
        await client.connect()
    assert not client.connected


async def test_broken_xml_is_a_response_error(simulator_factory: SimulatorFactory) -> None:
    camera = await simulator_factory(broken_xml=frozenset({"GetDeviceInformation"}))
    client = client_for(camera)
    await client.connect()
    try:
        with pytest.raises(OnvifResponseError, match="GetDeviceInformation: the device sent broken XML"):
            await client.device_info()
    finally:
        await client.close()


async def test_a_web_server_that_is_not_onvif_is_a_response_error(unused_port: int) -> None:
    async def not_found(_: web.Request) -> web.Response:
        return web.Response(status=404, text="<html><body>Not Found</body></html>", content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", not_found)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_port).start()
    client = OnvifClient("127.0.0.1", unused_port, "admin", "x")
    try:
        with pytest.raises(OnvifResponseError, match="not SOAP"):
            await client.connect()
    finally:
        await client.close()
        await runner.cleanup()


async def test_an_unsupported_operation_is_a_fault_that_says_so(simulator_factory: SimulatorFactory) -> None:
    camera = await simulator_factory(ptz=False)
    client = client_for(camera)
    await client.connect()
    try:
        assert not client.has_ptz
        media = await client.camera.create_media_service()
        with pytest.raises(OnvifFaultError) as caught:
            await client._call("GetOSDs", lambda: media.GetOSDs({}))
    finally:
        await client.close()
    assert caught.value.not_supported


@pytest.mark.parametrize("scheme", ["digest", "basic"])
async def test_snapshot_over_digest_or_basic(simulator_factory: SimulatorFactory, scheme: str) -> None:
    camera = await simulator_factory(snapshot_auth=scheme)
    client = client_for(camera)
    async with ClientSession() as session:
        jpeg = await client.fetch_snapshot(session, camera.address("/onvif/snapshot.jpg"), 5.0)
        wrong = client_for(camera, password="wrong")
        with pytest.raises(OnvifAuthError):
            await wrong.fetch_snapshot(session, camera.address("/onvif/snapshot.jpg"), 5.0)
    assert jpeg.startswith(b"\xff\xd8") and len(jpeg) > 1000


async def test_a_profile_without_ptz(simulator_factory: SimulatorFactory) -> None:
    profile = SimulatedProfile("fixed", "Fixed lens", "rtsp://127.0.0.1:9/fixed", 1920, 1080, 30, ptz=False)
    camera = await simulator_factory(profiles=(profile,))
    client = client_for(camera)
    await client.connect()
    try:
        (read,) = await client.profiles()
    finally:
        await client.close()
    assert (read.token, read.width, read.fps, read.ptz) == ("fixed", 1920, 30.0, False)
