"""The HTTP camera simulator speaks real HTTP: a multipart MJPEG stream a client can split into JPEGs, snapshots,
Digest and Basic challenges that real clients answer, a brand's paths; ``gatehouse simulate camera`` runs one."""

from __future__ import annotations

import asyncio
import io

import aiohttp
import pytest
from PIL import Image

from hub.cli import build_parser
from hub.plugins import PluginManager
from hub.testing import free_port, wait_for
from integrations.cameras import cli as cameras_cli
from integrations.cameras.simulator import BOUNDARY, CameraSimulator

from .conftest import SimulatorFactory


async def test_the_mjpeg_stream_is_multipart_jpeg_at_the_frame_rate(camera_simulator: SimulatorFactory) -> None:
    simulator = await camera_simulator(width=160, height=120, fps=20)
    async with aiohttp.ClientSession() as session, session.get(simulator.mjpeg_url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == f"multipart/x-mixed-replace;boundary={BOUNDARY}"
        reader = aiohttp.MultipartReader.from_response(response)
        frames = []
        for _ in range(3):
            part = await reader.next()
            assert part is not None and part.headers["Content-Type"] == "image/jpeg"
            frames.append(await part.read())  # type: ignore[union-attr]
        assert simulator.clients == 1
    for frame in frames:
        with Image.open(io.BytesIO(frame)) as image:
            assert image.size == (160, 120)
    assert frames[0] != frames[1]  # the picture moves
    await wait_for(lambda: simulator.clients == 0)


@pytest.mark.parametrize("auth", ["digest", "basic"])
async def test_credentials_are_checked(camera_simulator: SimulatorFactory, auth: str) -> None:
    simulator = await camera_simulator(username="admin", password="secret", auth=auth)
    async with aiohttp.ClientSession() as session:
        async with session.get(simulator.snapshot_url) as response:
            assert response.status == 401
            assert response.headers["WWW-Authenticate"].lower().startswith(auth)
        if auth == "digest":
            middleware = aiohttp.DigestAuthMiddleware("admin", "secret")
            async with session.get(simulator.snapshot_url, middlewares=(middleware,)) as response:
                assert response.status == 200 and (await response.read()).startswith(b"\xff\xd8")
            wrong = aiohttp.DigestAuthMiddleware("admin", "nope")
            async with session.get(simulator.snapshot_url, middlewares=(wrong,)) as response:
                assert response.status == 401
        else:
            headers = {"Authorization": aiohttp.encode_basic_auth("admin", "secret")}
            async with session.get(simulator.snapshot_url, headers=headers) as response:
                assert response.status == 200


async def test_a_brand_s_paths(camera_simulator: SimulatorFactory) -> None:
    simulator = await camera_simulator(manufacturer="axis")
    assert simulator.mjpeg_path == "/axis-cgi/mjpg/video.cgi?camera=1"
    assert simulator.snapshot_path == "/axis-cgi/jpg/image.cgi?camera=1"
    async with aiohttp.ClientSession() as session, session.get(simulator.snapshot_url) as response:
        assert response.status == 200
    with pytest.raises(ValueError, match="unknown manufacturer"):
        CameraSimulator(manufacturer="acme")


def test_the_simulate_camera_command_is_added() -> None:
    plugins = PluginManager()
    plugins.register(cameras_cli, name="cameras_cli_test")
    args = build_parser(plugins).parse_args(["simulate", "camera", "--port", "0", "--manufacturer", "dahua"])
    assert (args.port, args.fps, args.manufacturer, args.auth) == (0, 10, "dahua", "digest")


async def test_simulate_camera_serves_until_its_duration(capsys: pytest.CaptureFixture[str]) -> None:
    plugins = PluginManager()
    plugins.register(cameras_cli, name="cameras_cli_test")
    port = free_port()
    args = build_parser(plugins).parse_args(["simulate", "camera", "--port", str(port), "--duration", "3", "--hls"])
    command = asyncio.create_task(asyncio.to_thread(args.func, args))

    async def snapshot() -> bytes:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/snapshot.jpg") as response:
                        return await response.read()
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
        return b""

    assert (await snapshot()).startswith(b"\xff\xd8")
    assert await command == 0
    out = capsys.readouterr().out
    assert f"http://127.0.0.1:{port}/video.mjpg" in out and "/hls/stream.m3u8" in out
    args = build_parser(plugins).parse_args(["simulate", "camera", "--fps", "0"])
    assert args.func(args) == 2
