"""Camera media over the hub's real HTTP server: snapshots, MJPEG, live HLS, statistics, tenant isolation."""

from __future__ import annotations

import asyncio
import io
import re
from dataclasses import dataclass

import aiohttp
import av
import pytest
from PIL import Image

from hub.auth.scope import Role
from hub.camera import Camera
from hub.core import Hub
from hub.testing import wait_for
from hub.testing.http import ApiClient, UserFactory, assert_error
from hub.testing.rtsp import RtspServer, RtspServerFactory


@dataclass
class Site:
    hub: Hub
    camera: Camera
    viewer: ApiClient
    outsider: ApiClient

    async def fetch(self, path: str, client: ApiClient | None = None) -> tuple[int, str, bytes]:
        client = client or self.viewer
        async with client.session.get(client.base_url + path, headers=client.headers) as response:
            return response.status, response.content_type, await response.read()


async def make_site(hub: Hub, make_user: UserFactory, source: str | None, serial: str = "CAM-1") -> Site:
    hub.streams.idle_timeout = 0.3
    hub.streams.retry_delays = (5.0,)
    school = await hub.tenants.create("school")
    bank = await hub.tenants.create("bank")
    device = await hub.devices.claim(school.id, "Acme", serial, "Gate camera")
    camera = Camera(name="Gate", unique_id=serial.lower(), source=source, options={"rtsp_transport": "tcp"})
    await hub.entities.add(camera, platform="test", device=device)
    viewer = (await make_user(hub, school, Role.VIEWER)).api
    outsider = (await make_user(hub, bank, Role.ADMIN)).api
    return Site(hub, camera, viewer, outsider)


@pytest.fixture
async def site(http_hub: Hub, make_user: UserFactory, rtsp_server: RtspServer) -> Site:
    return await make_site(http_hub, make_user, rtsp_server.url)


async def test_snapshot_is_a_jpeg_of_the_tenants_camera(site: Site) -> None:
    status, content_type, body = await site.fetch("/api/camera_proxy/camera.gate?width=480")

    assert (status, content_type) == (200, "image/jpeg")
    assert Image.open(io.BytesIO(body)).size == (480, 270)

    status, _, body = await site.fetch("/api/camera_proxy/camera.gate", site.outsider)
    assert status == 404  # another tenant's camera does not exist
    status, _, _ = await site.fetch("/api/camera_proxy/camera.gate", site.viewer.with_token(None))
    assert status == 401
    status, body_json = await site.viewer.get("/api/camera_proxy/camera.gate?width=huge")
    assert status == 400
    assert_error(body_json, "invalid_query")


async def test_mjpeg_streams_frames_until_the_client_leaves(site: Site) -> None:
    client = site.viewer
    url = client.base_url + "/api/camera_proxy_stream/camera.gate?fps=10&width=320"
    async with client.session.get(url, headers=client.headers) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "multipart/x-mixed-replace; boundary=gatehouse-frame"
        reader = aiohttp.MultipartReader.from_response(response)
        sizes = []
        for _ in range(3):
            part = await reader.next()
            assert isinstance(part, aiohttp.BodyPartReader)
            assert part.headers["Content-Type"] == "image/jpeg"
            sizes.append(Image.open(io.BytesIO(await part.read())).size)
        assert sizes == [(320, 180)] * 3
        assert site.hub.streams.stats("camera.gate").consumers >= 1

    await wait_for(lambda: site.hub.streams.stats("camera.gate").consumers == 0, timeout=5)
    await wait_for(lambda: not site.hub.streams.stats("camera.gate").open, timeout=5)


async def test_hls_remuxes_h264_without_reencoding(site: Site) -> None:
    status, content_type, body = await site.fetch("/api/hls/camera.gate/playlist.m3u8")
    assert (status, content_type) == (200, "application/vnd.apple.mpegurl")
    playlist = body.decode()
    assert playlist.startswith("#EXTM3U\n#EXT-X-VERSION:7\n")
    init_uri = re.search(r'#EXT-X-MAP:URI="([^"]+)"', playlist)
    assert init_uri is not None
    first = int(re.findall(r"segment/(\d+)\.m4s", playlist)[0])

    status, content_type, init = await site.fetch(f"/api/hls/camera.gate/{init_uri.group(1)}")
    assert (status, content_type) == (200, "video/mp4")
    assert init[4:8] == b"ftyp" and b"avcC" in init
    segments = []
    for sequence in (first, first + 1):  # the second may not exist yet: the request waits for it
        status, content_type, segment = await site.fetch(f"/api/hls/camera.gate/segment/{sequence}.m4s")
        assert (status, content_type) == (200, "video/iso.segment")
        assert segment[4:8] == b"moof"
        segments.append(segment)

    with av.open(io.BytesIO(init + b"".join(segments)), "r") as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
    assert (stream.codec_context.name, frames[0].width, frames[0].height) == ("h264", 1280, 720)
    assert frames[0].key_frame and len(frames) >= 25  # whole groups of pictures, starting at a keyframe
    assert site.hub.streams.stats("camera.gate").sessions == 1

    status, _, _ = await site.fetch(f"/api/hls/camera.gate/segment/{first + 50}.m4s")
    assert status == 404
    status, _, _ = await site.fetch("/api/hls/camera.gate/playlist.m3u8", site.outsider)
    assert status == 404


async def test_hls_refuses_mjpeg_with_a_clear_reason(
    http_hub: Hub, make_user: UserFactory, rtsp_server_factory: RtspServerFactory
) -> None:
    server = await rtsp_server_factory(codec="mjpeg", mounts={"/mjpeg": (320, 240, 10)})
    site = await make_site(http_hub, make_user, server.url)

    status, body = await site.viewer.get("/api/hls/camera.gate/playlist.m3u8")

    assert status == 409
    assert_error(body, "unsupported_codec")
    assert "mjpeg" in body["error"]["message"]
    status, content_type, _ = await site.fetch("/api/camera_proxy/camera.gate")
    assert (status, content_type) == (200, "image/jpeg")  # snapshots and MJPEG still work


async def test_unreachable_camera_answers_503_without_its_password(
    http_hub: Hub, make_user: UserFactory, unused_port: int
) -> None:
    site = await make_site(http_hub, make_user, f"rtsp://admin:hunter2@127.0.0.1:{unused_port}/live")

    status, body = await site.viewer.get("/api/camera_proxy/camera.gate")
    assert status == 503
    assert_error(body, "camera_unavailable")
    assert "Connection refused" in body["error"]["message"] and "hunter2" not in body["error"]["message"]

    status, body = await site.viewer.get("/api/hls/camera.gate/playlist.m3u8")
    assert status == 503
    status, stats = await site.viewer.get("/api/cameras/camera.gate/stats")
    assert status == 200
    assert (stats["state"], stats["failures"], stats["last_error"]) == ("retrying", 1, "Connection refused")


async def test_snapshot_only_camera_has_no_live_video(http_hub: Hub, make_user: UserFactory) -> None:
    site = await make_site(http_hub, make_user, None)

    status, body = await site.viewer.get("/api/hls/camera.gate/playlist.m3u8")
    assert status == 409
    assert_error(body, "no_video_stream")
    status, body = await site.viewer.get("/api/camera_proxy/camera.gate")
    assert status == 503


async def test_camera_list_and_stats_follow_the_stream(site: Site) -> None:
    status, cameras = await site.viewer.get("/api/cameras")
    assert status == 200
    assert [(camera["entity_id"], camera["state"], camera["stream"]["open"]) for camera in cameras] == [
        ("camera.gate", "idle", False)
    ]
    status, cameras = await site.outsider.get("/api/cameras")
    assert (status, cameras) == (200, [])

    async with site.hub.streams.frames(site.camera, fps=5) as frames:
        await anext(frames)
        await asyncio.sleep(0)
        status, stats = await site.viewer.get("/api/cameras/camera.gate/stats")
        assert status == 200
        assert (stats["open"], stats["codec"], stats["width"], stats["height"]) == (True, "h264", 1280, 720)
        assert stats["consumers"] == 1 and stats["frames_decoded"] >= 1
        status, cameras = await site.viewer.get("/api/cameras")
        assert cameras[0]["state"] == "streaming"
    status, _ = await site.outsider.get("/api/cameras/camera.gate/stats")
    assert status == 404


async def test_camera_pages_show_only_the_tenants_cameras(site: Site) -> None:
    status, content_type, body = await site.fetch("/cameras")
    assert (status, content_type) == (200, "text/html")
    assert b'data-entity-id="camera.gate"' in body
    status, _, body = await site.fetch("/cameras/camera.gate")
    assert status == 200
    assert b'id="camera-live" data-entity-id="camera.gate" data-stream-type="hls"' in body

    status, _, body = await site.fetch("/cameras", site.outsider)
    assert status == 200 and b"camera.gate" not in body
    status, _, body = await site.fetch("/cameras/camera.gate", site.outsider)
    assert status == 404 and b"camera.gate" not in body
