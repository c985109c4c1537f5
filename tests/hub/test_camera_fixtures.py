"""The camera fixtures integrations test against: a real RTSP server that can be killed, and video files."""

from __future__ import annotations

import asyncio
from pathlib import Path

import av
import pytest

from hub.testing.rtsp import RtspServer, RtspServerFactory


def _open_first_frame(url: str, transport: str = "tcp") -> tuple[str, int, int]:
    options = {"rtsp_transport": transport, "analyzeduration": "500000"}
    with av.open(url, options=options, timeout=(10.0, 5.0)) as container:
        stream = container.streams.video[0]
        frame = next(container.decode(stream))
        return stream.codec_context.name, frame.width, frame.height


@pytest.mark.parametrize("transport", ["tcp", "udp"])
async def test_rtsp_server_serves_720p_h264(rtsp_server: RtspServer, transport: str) -> None:
    assert rtsp_server.url == f"rtsp://127.0.0.1:{rtsp_server.port}/live"
    codec, width, height = await asyncio.to_thread(_open_first_frame, rtsp_server.url, transport)
    assert (codec, width, height) == ("h264", 1280, 720)
    sub = await asyncio.to_thread(_open_first_frame, rtsp_server.url_for("/sub"), transport)
    assert sub == ("h264", 640, 360)


async def test_rtsp_server_stops_and_restarts_on_the_same_port(rtsp_server: RtspServer) -> None:
    port = rtsp_server.port
    await rtsp_server.async_stop()
    assert not rtsp_server.running
    with pytest.raises(av.error.FFmpegError):
        await asyncio.to_thread(_open_first_frame, rtsp_server.url)
    await rtsp_server.async_start()
    assert rtsp_server.port == port
    assert (await asyncio.to_thread(_open_first_frame, rtsp_server.url))[0] == "h264"


async def test_rtsp_server_with_credentials_refuses_wrong_ones(rtsp_server_factory: RtspServerFactory) -> None:
    server = await rtsp_server_factory(username="admin", password="s3cret", mounts={"/ch1": (320, 240, 10)})
    assert server.url == f"rtsp://admin:s3cret@127.0.0.1:{server.port}/ch1"
    assert await asyncio.to_thread(_open_first_frame, server.url) == ("h264", 320, 240)
    with pytest.raises(av.error.HTTPUnauthorizedError):
        await asyncio.to_thread(_open_first_frame, server.url_for("/ch1", password="wrong"))
    assert "s3cret" not in repr(server)


async def test_rtsp_server_mjpeg(rtsp_server_factory: RtspServerFactory) -> None:
    server = await rtsp_server_factory(codec="mjpeg", mounts={"/mjpeg": (320, 240, 10)})
    assert await asyncio.to_thread(_open_first_frame, server.url) == ("mjpeg", 320, 240)


def test_video_file_is_a_short_h264_mp4(video_file: Path) -> None:
    with av.open(str(video_file)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
    assert stream.codec_context.name == "h264"
    assert (frames[0].width, frames[0].height) == (640, 360)
    assert len(frames) == 75
    assert sum(1 for frame in frames if frame.key_frame) == 3
