"""HTTP and local connection types end to end: MJPEG and snapshot-only cameras behind Digest and Basic auth (the
camera simulator), an HLS playlist of PyAV-written segments served over HTTP, a local file, a USB device where
there is one, and RTMP's handshake check. Broken cameras (garbage instead of JPEG, wrong passwords) get a clear
health state."""

from __future__ import annotations

import asyncio
import glob
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from hub.core import Hub
from hub.device_health import HealthLevel
from hub.tenants import Tenant
from integrations.cameras.checks import rtmp_handshake
from integrations.cameras.const import DOMAIN
from integrations.cameras.entity import ConfiguredCamera

from .conftest import SimulatorFactory


async def add_camera(hub: Hub, tenant: Tenant, data: dict[str, Any]) -> ConfiguredCamera:
    entry = await hub.config_entries.add(DOMAIN, data, tenant_id=tenant.id, title=data.get("name"))
    assert entry.state == "loaded", entry.reason
    assert isinstance(entry.runtime_data, ConfiguredCamera)
    return entry.runtime_data


def size_of(jpeg: bytes | None) -> tuple[int, int]:
    assert jpeg is not None and jpeg.startswith(b"\xff\xd8")
    with Image.open(io.BytesIO(jpeg)) as image:
        return image.size


async def test_an_mjpeg_camera_behind_digest_auth(hub: Hub, tenant: Tenant, camera_simulator: SimulatorFactory) -> None:
    simulator = await camera_simulator(username="admin", password="mj peg", width=320, height=240)
    camera = await add_camera(hub, tenant, {"url": simulator.mjpeg_url, "username": "admin", "password": "mj peg"})
    assert camera.stream_format == "mpjpeg"
    assert size_of(await hub.streams.snapshot(camera)) == (320, 240)  # decoded from the multipart stream
    assert await camera.health.check_now() is not HealthLevel.OFFLINE  # type: ignore[union-attr]


async def test_a_snapshot_only_camera_with_basic_auth(
    hub: Hub, tenant: Tenant, camera_simulator: SimulatorFactory
) -> None:
    simulator = await camera_simulator(username="admin", password="still", auth="basic", width=640, height=360)
    data = {"url": simulator.snapshot_url, "username": "admin", "password": "still", "name": "Porch"}
    camera = await add_camera(hub, tenant, data)
    assert await camera.stream_source() is None and camera.frontend_stream_type is None
    assert size_of(await camera.async_camera_image()) == (640, 360)
    assert size_of(await camera.async_camera_image(width=160)) == (160, 90)
    assert await camera.health.check_now() is not HealthLevel.OFFLINE  # type: ignore[union-attr]
    assert hub.states.get("camera.porch").attributes["snapshot_url"] == simulator.snapshot_url  # type: ignore[union-attr]


async def test_a_snapshot_url_beside_a_stream_is_used_for_stills(
    hub: Hub, tenant: Tenant, camera_simulator: SimulatorFactory
) -> None:
    simulator = await camera_simulator(width=200, height=100, manufacturer="foscam", username="u", password="p&q")
    data = {"connection_type": "http_snapshot", "host": "127.0.0.1", "port": simulator.port, "manufacturer": "foscam",
            "username": "u", "password": "p&q"}  # fmt: skip
    camera = await add_camera(hub, tenant, data)  # Foscam: credentials in the query string
    assert size_of(await camera.async_camera_image()) == (200, 100)
    assert any("pwd=p%26q" in path or "pwd=p&q" in path for path in simulator.requests)


async def test_broken_cameras_have_a_clear_health_state(
    hub: Hub, tenant: Tenant, camera_simulator: SimulatorFactory
) -> None:
    garbage = await camera_simulator(garbage=True)
    camera = await add_camera(hub, tenant, {"url": garbage.snapshot_url, "name": "Broken"})
    assert await camera.health.check_now() is HealthLevel.OFFLINE  # type: ignore[union-attr]
    assert "did not answer a JPEG" in (camera.health.last_error or "")  # type: ignore[union-attr]
    data = {"connection_type": "http_snapshot", "host": "127.0.0.1", "port": garbage.port, "username": "u",
            "path": "/missing.cgi?usr={username}&pwd={password}", "password": "sekrit"}  # fmt: skip
    missing = await add_camera(hub, tenant, data)
    assert await missing.health.check_now() is HealthLevel.OFFLINE  # type: ignore[union-attr]
    assert missing.health.last_error == "CameraHttpError: HTTP 404 Not Found"  # type: ignore[union-attr]
    locked = await camera_simulator(username="admin", password="right")
    wrong = await add_camera(hub, tenant, {"url": locked.mjpeg_url, "username": "admin", "password": "wrong"})
    assert await wrong.health.check_now() is HealthLevel.AUTH_FAILED  # type: ignore[union-attr]
    assert "HTTP 401" in (wrong.health.last_error or "")  # type: ignore[union-attr]


@pytest.fixture
async def hls_camera(camera_simulator: SimulatorFactory) -> AsyncIterator[Any]:
    yield await camera_simulator(hls=True, width=320, height=180, fps=10)


async def test_an_hls_source(hub: Hub, tenant: Tenant, hls_camera: Any) -> None:
    camera = await add_camera(hub, tenant, {"url": hls_camera.hls_url, "name": "Relay"})
    assert camera.source.connection_type == "hls"
    assert await camera.health.check_now() is not HealthLevel.OFFLINE  # type: ignore[union-attr]
    assert size_of(await hub.streams.snapshot(camera)) == (320, 180)


async def test_a_local_file(hub: Hub, tenant: Tenant, video_file: Path) -> None:
    camera = await add_camera(hub, tenant, {"url": str(video_file), "name": "Replay"})
    assert await camera.health.check_now() is not HealthLevel.OFFLINE  # type: ignore[union-attr]
    assert size_of(await hub.streams.snapshot(camera)) == (640, 360)
    missing = await add_camera(hub, tenant, {"connection_type": "file", "path": "/nonexistent/clip.mp4"})
    assert await missing.health.check_now() is HealthLevel.OFFLINE  # type: ignore[union-attr]
    assert "does not exist" in (missing.health.last_error or "")  # type: ignore[union-attr]


@pytest.mark.skipif(not glob.glob("/dev/video*"), reason="no /dev/video* device on this machine")
async def test_a_usb_camera(hub: Hub, tenant: Tenant) -> None:  # pragma: no cover - needs a V4L2 device
    device = sorted(glob.glob("/dev/video*"))[0]
    camera = await add_camera(hub, tenant, {"connection_type": "usb", "path": device})
    assert camera.stream_format == "v4l2"
    assert await camera.health.check_now() is not HealthLevel.OFFLINE  # type: ignore[union-attr]
    assert (await hub.streams.snapshot(camera)).startswith(b"\xff\xd8")


async def test_a_usb_camera_that_is_not_there_is_offline(hub: Hub, tenant: Tenant) -> None:
    camera = await add_camera(hub, tenant, {"connection_type": "usb", "path": "/dev/video97"})
    assert await camera.health.check_now() is HealthLevel.OFFLINE  # type: ignore[union-attr]
    assert "/dev/video97 does not exist" in (camera.health.last_error or "")  # type: ignore[union-attr]


async def test_the_rtmp_check_speaks_the_handshake() -> None:
    """No RTMP server can be run on loopback here (FFmpeg's listen mode is not reachable through PyAV): the
    health check's handshake is tested against a responder that answers S0+S1 as a server does."""

    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        c0c1 = await reader.readexactly(1537)
        writer.write(bytes([3]) + bytes(1536) + c0c1[1:])  # S0, S1, S2 (echo of C1)
        await writer.drain()
        writer.close()

    listener = await asyncio.start_server(server, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    await rtmp_handshake(f"rtmp://127.0.0.1:{port}/bcs/channel0_main.bcs", timeout=2)
    listener.close()

    async def http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(10)
        writer.write(b"HTTP/1.1 400 Bad Request\r\n" + bytes(1600))
        await writer.drain()
        writer.close()

    not_rtmp = await asyncio.start_server(http, "127.0.0.1", 0)
    with pytest.raises(ValueError, match="not an RTMP server"):
        await rtmp_handshake(f"rtmp://127.0.0.1:{not_rtmp.sockets[0].getsockname()[1]}/x", timeout=2)
    not_rtmp.close()
