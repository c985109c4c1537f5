"""Cameras that drop off the network, stall, or come and go a hundred times: offline, back-off, recovery, no leaks."""

from __future__ import annotations

import asyncio
import os
import signal
import threading

import pytest

from hub.camera import Camera
from hub.core import Hub
from hub.device_health import HealthLevel
from hub.testing import wait_for
from hub.testing.rtsp import RtspServer, RtspServerFactory

TCP = {"rtsp_transport": "tcp"}


@pytest.fixture
def streams_hub(hub: Hub) -> Hub:
    hub.streams.idle_timeout = 0.2
    hub.streams.retry_delays = (0.3, 0.6, 1.2)
    hub.streams.stall_timeout = 1.0
    hub.streams.open_timeout = 5.0
    return hub


async def add_camera(hub: Hub, source: str, name: str = "Gate", transport: str = "tcp") -> Camera:
    camera = Camera(name=name, unique_id=name.lower(), source=source, options={"rtsp_transport": transport})
    await hub.entities.add(camera, platform="test")
    camera.health = hub.health.track(f"{camera.entity_id.split('.')[1]}_camera", f"{name} camera")
    return camera


class Watcher:
    """A consumer that keeps reading frames at 5 fps, through outages, until cancelled."""

    def __init__(self, hub: Hub, camera: Camera) -> None:
        self.times: list[float] = []
        self._task = asyncio.create_task(self._watch(hub, camera))

    async def _watch(self, hub: Hub, camera: Camera) -> None:
        async with hub.streams.frames(camera, fps=5) as frames:
            async for frame in frames:
                self.times.append(frame.time)

    async def wait_more(self, count: int = 3, timeout: float = 10.0) -> None:
        seen = len(self.times)
        await wait_for(lambda: len(self.times) >= seen + count, timeout=timeout)

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def record_retry_delays(hub: Hub, camera: Camera, count: int, timeout: float = 10.0) -> list[float | None]:
    """The back-off delay chosen after each of the next ``count`` consecutive failures."""
    delays: list[float | None] = []
    seen = 0

    def failed_again() -> bool:
        nonlocal seen
        stats = hub.streams.stats(camera.entity_id)
        if stats.failures > seen:
            seen = stats.failures
            delays.append(stats.retry_delay)
        return len(delays) >= count

    await wait_for(failed_again, timeout=timeout, interval=0.005)
    return delays


async def test_killed_camera_goes_offline_retries_on_the_backoff_table_and_recovers(
    streams_hub: Hub, rtsp_server: RtspServer
) -> None:
    camera = await add_camera(streams_hub, rtsp_server.url)
    watcher = Watcher(streams_hub, camera)
    await watcher.wait_more()
    assert camera.health is not None and camera.health.connected

    await rtsp_server.async_stop()  # SIGKILL mid-stream: no TEARDOWN, the TCP connection just ends

    delays = await record_retry_delays(streams_hub, camera, 3)
    assert delays == [0.3, 0.6, 1.2]
    assert streams_hub.states.get(camera.entity_id).state == "unavailable"  # type: ignore[union-attr]
    assert camera.health.level is HealthLevel.OFFLINE
    assert streams_hub.states.get("sensor.gate_camera_health").state == "offline"  # type: ignore[union-attr]
    assert streams_hub.streams.stats(camera.entity_id).last_error in ("the stream ended", "Connection refused")

    await rtsp_server.async_start()

    await watcher.wait_more(timeout=15)  # the same consumer gets frames again, without doing anything
    stats = streams_hub.streams.stats(camera.entity_id)
    assert (stats.state, stats.sessions, stats.failures) == ("streaming", 2, 0)
    assert streams_hub.states.get(camera.entity_id).state == "streaming"  # type: ignore[union-attr]
    assert camera.health.connected and camera.health.level is not HealthLevel.OFFLINE
    await watcher.stop()


async def test_a_stalled_stream_is_detected_and_recovers(streams_hub: Hub, rtsp_server: RtspServer) -> None:
    camera = await add_camera(streams_hub, rtsp_server.url, transport="udp")
    watcher = Watcher(streams_hub, camera)
    await watcher.wait_more()
    assert rtsp_server.pid is not None

    os.kill(rtsp_server.pid, signal.SIGSTOP)  # the camera hangs: the socket stays open, nothing arrives
    try:
        await wait_for(lambda: streams_hub.streams.stats(camera.entity_id).state == "retrying", timeout=10)
    finally:
        os.kill(rtsp_server.pid, signal.SIGCONT)

    assert streams_hub.streams.stats(camera.entity_id).last_error == "no data for 1 s"
    await watcher.wait_more(timeout=15)
    assert streams_hub.streams.stats(camera.entity_id).state == "streaming"
    await watcher.stop()


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_a_hundred_connections_leak_no_descriptor_or_thread(
    streams_hub: Hub, rtsp_server_factory: RtspServerFactory
) -> None:
    server = await rtsp_server_factory(mounts={"/live": (320, 240, 25)}, gop=5)
    cameras = [await add_camera(streams_hub, server.url, name=f"Cam {index}") for index in range(10)]
    streams = streams_hub.streams
    # A camera keeps streaming whoever comes and goes; GStreamer's shared media does not (it shuts down when its
    # last client leaves and fails a client that arrives meanwhile), so one viewer stays for the whole test.
    keeper_camera = await add_camera(streams_hub, server.url, name="Keeper")
    keeper = Watcher(streams_hub, keeper_camera)
    await keeper.wait_more(1)

    completed = 0

    async def cycle(camera: Camera, round_number: int) -> None:
        nonlocal completed
        if round_number % 2:
            await streams.snapshot(camera)
        else:
            async with streams.frames(camera) as frames:
                await anext(frames)
        await streams.async_close(camera.entity_id)
        completed += 1

    await cycle(cameras[0], 0)  # warm up: libraries load their own descriptors once
    descriptors = open_descriptors()

    for round_number in range(10):
        await asyncio.gather(*(cycle(camera, round_number) for camera in cameras))

    assert completed == 100 + 1
    await keeper.stop()
    await streams.async_close(keeper_camera.entity_id)
    assert streams.open_streams() == []
    assert [thread.name for thread in threading.enumerate() if thread.name.startswith("stream ")] == []
    assert open_descriptors() <= descriptors + 2  # a leak would be one descriptor per connection at least
