"""The stream manager: one shared decoder per camera, opened on demand, decoding only what consumers need."""

from __future__ import annotations

import asyncio
import io
import itertools
from pathlib import Path

import pytest
from PIL import Image

from hub.camera import Camera
from hub.core import Hub
from hub.stream_frame import EncodedPacket, StreamInfo
from hub.streams import StreamError
from hub.testing import HubFactory, wait_for
from hub.testing.rtsp import RtspServer, RtspServerFactory

TCP = {"rtsp_transport": "tcp"}


@pytest.fixture
def streams_hub(hub: Hub) -> Hub:
    """The hub with stream timings short enough for tests."""
    hub.streams.idle_timeout = 0.3
    hub.streams.retry_delays = (0.2, 0.4, 0.8)
    hub.streams.stall_timeout = 2.0
    hub.streams.open_timeout = 5.0
    return hub


async def add_camera(hub: Hub, source: str | None, name: str = "Gate", options: dict[str, str] = TCP) -> Camera:
    camera = Camera(name=name, unique_id=name.lower(), source=source, options=options)
    await hub.entities.add(camera, platform="test")
    return camera


async def test_snapshot_opens_the_stream_on_demand_and_it_closes_when_idle(
    streams_hub: Hub, rtsp_server: RtspServer
) -> None:
    camera = await add_camera(streams_hub, rtsp_server.url)
    assert streams_hub.states.get(camera.entity_id).state == "idle"  # type: ignore[union-attr]
    assert not streams_hub.streams.stats(camera.entity_id).open

    jpeg = await camera.async_camera_image(width=320)

    assert jpeg is not None
    image = Image.open(io.BytesIO(jpeg))
    assert (image.format, image.size) == ("JPEG", (320, 180))
    assert streams_hub.states.get(camera.entity_id).state == "streaming"  # type: ignore[union-attr]
    stats = streams_hub.streams.stats(camera.entity_id)
    assert (stats.open, stats.codec, stats.width, stats.height, stats.sessions) == (True, "h264", 1280, 720, 1)
    full = Image.open(io.BytesIO(await streams_hub.streams.snapshot(camera)))
    assert full.size == (1280, 720)
    assert streams_hub.streams.stats(camera.entity_id).sessions == 1  # the second snapshot reused the decoder

    await wait_for(lambda: streams_hub.states.get(camera.entity_id).state == "idle", timeout=5)  # type: ignore[union-attr]
    assert not streams_hub.streams.stats(camera.entity_id).open
    assert streams_hub.streams.open_streams() == []


async def test_consumers_share_one_decoder_and_get_their_own_rate(streams_hub: Hub, rtsp_server: RtspServer) -> None:
    camera = await add_camera(streams_hub, rtsp_server.url)
    slow: list[float] = []
    every: list[int] = []

    async def collect_slow() -> None:
        async with streams_hub.streams.frames(camera, fps=5) as frames:
            async for frame in frames:
                slow.append(frame.media_time)
                if len(slow) == 8:
                    return

    async def collect_every() -> None:
        async with streams_hub.streams.frames(camera) as frames:
            async for frame in frames:
                every.append(frame.index)
                if len(every) == 40:
                    return

    await asyncio.gather(collect_slow(), collect_every(), streams_hub.streams.snapshot(camera))

    stats = streams_hub.streams.stats(camera.entity_id)
    assert stats.sessions == 1
    gaps = [later - earlier for earlier, later in itertools.pairwise(slow)]
    # 5 fps of a 25 fps camera: every fifth frame by the camera's clock, give or take one frame of jitter.
    assert min(gaps) >= 0.2 - 2 * 0.02 - 1e-6
    assert max(gaps) <= 0.2 + 2 * 0.04 + 1e-6
    assert every == sorted(every) and len(set(every)) == 40


async def test_low_rate_consumers_decode_keyframes_only(
    streams_hub: Hub, rtsp_server_factory: RtspServerFactory
) -> None:
    server = await rtsp_server_factory(mounts={"/live": (640, 360, 25)}, gop=5)  # a keyframe every 200 ms
    camera = await add_camera(streams_hub, server.url)
    key_frames: list[bool] = []
    async with streams_hub.streams.frames(camera, fps=2) as frames:
        async for frame in frames:
            key_frames.append(frame.image.key_frame)
            if len(key_frames) == 4:
                break
    stats = streams_hub.streams.stats(camera.entity_id)

    assert key_frames[-2:] == [True, True]  # once the keyframe spacing is known, only keyframes are decoded
    assert stats.keyframe_interval is not None
    assert stats.frames_decoded * 4 < stats.packets_received


async def test_packets_alone_decode_nothing(streams_hub: Hub, rtsp_server: RtspServer) -> None:
    camera = await add_camera(streams_hub, rtsp_server.url)
    items: list[StreamInfo | EncodedPacket] = []
    async with streams_hub.streams.packets(camera) as packets:
        async for item in packets:
            items.append(item)
            if len(items) == 30:
                break

    info, first = items[0], items[1]
    assert isinstance(info, StreamInfo) and (info.codec, info.width, info.height) == ("h264", 1280, 720)
    assert info.codec_string is not None and info.codec_string.startswith("avc1.")
    assert isinstance(first, EncodedPacket) and first.is_keyframe and first.session == 1
    assert all(isinstance(item, EncodedPacket) and item.data for item in items[1:])
    assert streams_hub.streams.stats(camera.entity_id).frames_decoded == 0


async def test_a_video_file_plays_at_its_own_pace_and_loops(streams_hub: Hub, video_file: Path) -> None:
    camera = await add_camera(streams_hub, str(video_file), options={})
    async with streams_hub.streams.frames(camera, fps=2) as frames:
        first = await anext(frames)
        assert (first.width, first.height) == (640, 360)
        await wait_for(lambda: streams_hub.streams.stats(camera.entity_id).sessions >= 2, timeout=10)
        assert (await anext(frames)).width == 640  # still delivering after the replay started
    assert streams_hub.streams.stats(camera.entity_id).failures == 0


async def test_snapshot_only_camera_has_no_stream(streams_hub: Hub) -> None:
    camera = await add_camera(streams_hub, None)

    assert await camera.async_camera_image() is None
    with pytest.raises(StreamError, match="no video stream"):
        async with streams_hub.streams.frames(camera) as frames:
            await anext(frames)


async def test_unreachable_camera_fails_fast_with_the_reason(streams_hub: Hub, unused_port: int) -> None:
    camera = await add_camera(streams_hub, f"rtsp://admin:hunter2@127.0.0.1:{unused_port}/live")
    health = streams_hub.health.track("gate_camera", "Gate camera")
    camera.health = health

    with pytest.raises(StreamError, match="Connection refused") as caught:
        await camera.async_camera_image()

    assert "hunter2" not in str(caught.value)
    stats = streams_hub.streams.stats(camera.entity_id)
    assert (stats.state, stats.failures, stats.retry_delay) == ("retrying", 1, 0.2)
    assert streams_hub.states.get(camera.entity_id).state == "unavailable"  # type: ignore[union-attr]
    assert health.level == "offline" and health.last_error == "Connection refused"
    # While it waits for the next try, a snapshot answers at once with the same reason.
    with pytest.raises(StreamError, match="Connection refused"):
        await streams_hub.streams.snapshot(camera, timeout=0.1)


async def test_wrong_credentials_are_reported_without_the_password(
    streams_hub: Hub, rtsp_server_factory: RtspServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    server = await rtsp_server_factory(username="admin", password="right", mounts={"/ch1": (320, 240, 10)})
    camera = await add_camera(streams_hub, server.url_for("/ch1", password="wrong-secret"))

    with pytest.raises(StreamError, match="authentication failed"):
        await streams_hub.streams.snapshot(camera)

    assert "wrong-secret" not in caplog.text
    assert "authentication failed" in (streams_hub.streams.stats(camera.entity_id).last_error or "")


async def test_garbage_from_the_camera_is_a_clear_failure(streams_hub: Hub) -> None:
    async def babble(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        writer.write(b"HELLO I AM NOT RTSP\r\n\r\n" + bytes(range(256)) * 4)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(babble, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        camera = await add_camera(streams_hub, f"rtsp://127.0.0.1:{port}/live")
        with pytest.raises(StreamError):
            await streams_hub.streams.snapshot(camera)
        assert streams_hub.streams.stats(camera.entity_id).state == "retrying"
        await streams_hub.streams.async_close(camera.entity_id)
        assert streams_hub.streams.open_streams() == []
    finally:
        server.close()
        await server.wait_closed()


async def test_removing_the_camera_closes_its_decoder(streams_hub: Hub, rtsp_server: RtspServer) -> None:
    camera = await add_camera(streams_hub, rtsp_server.url)
    received = 0

    async def watch() -> None:
        nonlocal received
        async with streams_hub.streams.frames(camera, fps=5) as frames:
            async for _ in frames:
                received += 1

    watcher = asyncio.create_task(watch())
    await wait_for(lambda: received > 0, timeout=10)

    await streams_hub.entities.remove(camera.entity_id)

    await asyncio.wait_for(watcher, timeout=5)  # the iteration ended instead of waiting forever
    assert streams_hub.streams.open_streams() == []
    assert not streams_hub.streams.stats(camera.entity_id).open


async def test_hub_stop_ends_every_stream(hub_factory: HubFactory, rtsp_server: RtspServer) -> None:
    hub = await hub_factory()
    camera = await add_camera(hub, rtsp_server.url)
    async with hub.streams.frames(camera) as frames:
        await anext(frames)
        await hub.stop()
        left = [frame async for frame in frames]  # frames already queued, then the end
    assert len(left) <= 2
    assert hub.streams.open_streams() == []
