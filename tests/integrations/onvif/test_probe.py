"""``probe_onvif``, as camera auto-detect calls it: the simulated camera's profiles with stream URIs that really
open (GStreamer's RTSP server behind them), None where nothing ONVIF answers, OnvifAuthError on a bad password."""

from __future__ import annotations

import asyncio
import time

import av
import pytest

from hub.testing import free_port
from hub.testing.rtsp import RtspServer
from integrations.onvif.probe import OnvifAuthError, probe_onvif

from .conftest import PASSWORD, SimulatorFactory


def first_frame_size(url: str) -> tuple[int, int]:
    with av.open(url, options={"rtsp_transport": "tcp", "stimeout": "5000000"}, timeout=10) as container:
        frame = next(container.decode(video=0))
        return frame.width, frame.height


async def test_profiles_with_streams_that_open(simulator_factory: SimulatorFactory, rtsp_server: RtspServer) -> None:
    camera = await simulator_factory(rtsp_url=rtsp_server.url, sub_rtsp_url=rtsp_server.url_for("/sub"))

    probe = await probe_onvif("127.0.0.1", camera.port, "admin", PASSWORD)

    assert probe is not None
    assert (probe.device.manufacturer, probe.device.serial_number) == ("Gatehouse", "SIM-ONVIF-0001")
    main, sub = probe.profiles
    assert (main.token, main.codec, main.width, main.height, main.fps) == ("main", "H264", 1280, 720, 25.0)
    assert (sub.token, sub.width, sub.height, sub.fps) == ("sub", 640, 360, 10.0)
    assert main.stream_uri == rtsp_server.url.replace("rtsp://", "rtsp://admin:s3cret%3Ap%40ss@")
    assert main.snapshot_uri == camera.address("/onvif/snapshot.jpg")
    assert main.ptz and probe.ptz and probe.events
    assert probe.elapsed_ms > 0
    assert main.stream_uri is not None and sub.stream_uri is not None
    assert await asyncio.to_thread(first_frame_size, main.stream_uri) == (1280, 720)
    assert await asyncio.to_thread(first_frame_size, sub.stream_uri) == (640, 360)


async def test_as_dict_never_shows_the_password(simulator_factory: SimulatorFactory) -> None:
    camera = await simulator_factory(rtsp_url="rtsp://0.0.0.0:8554/live")
    probe = await probe_onvif("127.0.0.1", camera.port, "admin", PASSWORD)
    assert probe is not None
    (profile,) = probe.as_dict()["profiles"]
    assert profile["stream_uri"] == "rtsp://admin:***@127.0.0.1:8554/live"  # 0.0.0.0 rewritten to the host asked
    assert PASSWORD not in str(probe.as_dict())


async def test_wrong_password_raises(simulator_factory: SimulatorFactory) -> None:
    camera = await simulator_factory()
    with pytest.raises(OnvifAuthError):
        await probe_onvif("127.0.0.1", camera.port, "admin", "wrong")


async def test_nothing_listening_is_none() -> None:
    assert await probe_onvif("127.0.0.1", free_port(), "admin", "x") is None


async def test_an_rtsp_server_is_not_onvif(rtsp_server: RtspServer) -> None:
    assert await probe_onvif("127.0.0.1", rtsp_server.port, "admin", "x", timeout=3.0) is None


async def test_broken_xml_is_none(simulator_factory: SimulatorFactory) -> None:
    camera = await simulator_factory(broken_xml=frozenset({"GetProfiles"}))
    assert await probe_onvif("127.0.0.1", camera.port, "admin", PASSWORD) is None


async def test_a_silent_port_is_none_within_the_timeout(unused_port: int) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accept and never answer
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", unused_port)
    try:
        started = time.perf_counter()
        assert await probe_onvif("127.0.0.1", unused_port, "admin", "x", timeout=0.5) is None
        assert time.perf_counter() - started < 3.0  # the timeout is honoured: no 90 s library default
    finally:
        server.close()
        await server.wait_closed()
