"""Auto-detect and batch test over the REST API against real cameras on loopback: GStreamer RTSP servers with a
brand's paths, the ONVIF simulator pointing at one, HTTP MJPEG/snapshot simulators. Every result is measured
(resolution, fps, response time); the recommended one is the best main stream; no password in any answer."""

from __future__ import annotations

from typing import Any

from hub.testing import free_port, wait_for
from hub.testing.http import assert_error
from hub.testing.rtsp import RtspServerFactory
from integrations.onvif.simulator import OnvifSimulator

from .conftest import SimulatorFactory, Site

HIKVISION_MOUNTS = {"/Streaming/Channels/101": (1280, 720, 25), "/Streaming/Channels/102": (640, 360, 10)}


def no_secret(body: Any, secret: str) -> None:
    assert secret not in repr(body), "a password leaked into the answer"


async def test_a_hikvision_camera_is_found_by_its_templates(site: Site, rtsp_server_factory: RtspServerFactory) -> None:
    server = await rtsp_server_factory(mounts=HIKVISION_MOUNTS, username="admin", password="Hik12345")
    body = {"ip": "127.0.0.1", "port": server.port, "onvif_port": free_port(), "username": "admin",
            "password": "Hik12345", "manufacturer": "hikvision"}  # fmt: skip
    status, detection = await site.admin.post("/api/discovery/auto-detect", json=body)
    assert status == 200, detection
    no_secret(detection, "Hik12345")
    assert detection["success"] is True
    assert detection["onvif"]["status"] == "not_found"
    best = detection["recommended"]
    assert best["stream"] == "main" and best["connection_type"] == "rtsp"
    assert (best["width"], best["height"], best["codec"]) == (1280, 720, "h264")
    assert best["fps"] == 25.0 and best["response_time_ms"] > 0
    assert detection["recommended_url"] == f"rtsp://admin:***@127.0.0.1:{server.port}/Streaming/Channels/101"
    assert detection["recommended_method"] == "rtsp"
    sub = next(r for r in detection["all_results"] if r["stream"] == "sub" and r["connection_type"] == "rtsp")
    assert sub["success"] and sub["resolution"] == "640x360"
    # The HTTP snapshot template has nothing listening on port 80 of loopback: a failure, clearly worded.
    snapshot = next(r for r in detection["all_results"] if r["stream"] == "snapshot")
    assert snapshot["success"] is False and snapshot["error"]
    # The recommended config creates the camera, with the password added back.
    config = {**detection["recommended_config"], "password": "Hik12345", "name": "Gate"}
    status, entry = await site.admin.post("/api/config_entries", json={"domain": "cameras", "data": config})
    assert status == 201 and entry["state"] == "loaded", entry


async def test_wrong_credentials_are_reported_not_retried_everywhere(
    site: Site, rtsp_server_factory: RtspServerFactory
) -> None:
    server = await rtsp_server_factory(mounts=HIKVISION_MOUNTS, username="admin", password="right")
    body = {"host": "127.0.0.1", "port": server.port, "onvif_port": free_port(), "username": "admin",
            "password": "wrong", "manufacturer": "hikvision"}  # fmt: skip
    status, detection = await site.admin.post("/api/discovery/auto-detect", json=body)
    assert status == 200
    assert detection["success"] is False and detection["recommended"] is None
    main = next(r for r in detection["all_results"] if r["stream"] == "main")
    assert "credentials" in main["error"] and "401" in main["error"]


async def test_an_unknown_brand_is_found_among_every_template(
    site: Site, rtsp_server_factory: RtspServerFactory
) -> None:
    server = await rtsp_server_factory()  # /live (1280x720) and /sub: the generic template /live matches
    body = {"host": "127.0.0.1", "port": server.port, "onvif_port": free_port()}
    status, detection = await site.admin.post("/api/discovery/auto-detect", json=body)
    assert status == 200 and detection["success"], detection
    assert detection["recommended"]["url"] == f"rtsp://127.0.0.1:{server.port}/live"
    assert detection["recommended"]["manufacturer"] == "generic"
    assert detection["tested"] > 20  # every brand's main paths, triaged by DESCRIBE (404 in a millisecond)
    failed = [r for r in detection["all_results"] if not r["success"] and r["connection_type"] == "rtsp"]
    assert failed and all("404" in r["error"] for r in failed)


async def test_onvif_is_asked_first_and_names_the_streams(site: Site, rtsp_server_factory: RtspServerFactory) -> None:
    server = await rtsp_server_factory()
    async with OnvifSimulator(rtsp_url=server.url_for("/live"), sub_rtsp_url=server.url_for("/sub"),
                              username="admin", password="onvif-pass", manufacturer="Hikvision") as camera:  # fmt: skip
        body = {"host": "127.0.0.1", "onvif_port": camera.port, "port": server.port, "username": "admin",
                "password": "onvif-pass"}  # fmt: skip
        status, detection = await site.admin.post("/api/discovery/auto-detect", json=body)
    assert status == 200, detection
    no_secret(detection, "onvif-pass")
    assert detection["onvif"]["status"] == "found"
    assert detection["onvif"]["device"]["manufacturer"] == "Hikvision"
    best = detection["recommended"]
    assert best["source"] == "onvif" and best["stream"] == "main" and best["resolution"] == "1280x720"
    assert detection["recommended_config"]["connection_type"] == "onvif"
    assert detection["recommended_config"]["port"] == camera.port
    onvif_results = [r for r in detection["all_results"] if r["source"] == "onvif"]
    assert {r["stream"] for r in onvif_results} == {"main", "sub"}
    # ONVIF named the brand: its templates were tried too (no camera serves them here), not every brand's.
    assert {r["manufacturer"] for r in detection["all_results"] if r["source"] == "template"} == {"hikvision"}


async def test_onvif_with_wrong_credentials_says_so(site: Site, rtsp_server_factory: RtspServerFactory) -> None:
    server = await rtsp_server_factory()
    async with OnvifSimulator(rtsp_url=server.url, username="admin", password="right") as camera:
        body = {"host": "127.0.0.1", "onvif_port": camera.port, "port": server.port, "username": "admin",
                "password": "wrong"}  # fmt: skip
        status, detection = await site.admin.post("/api/discovery/auto-detect", json=body)
    assert status == 200
    assert detection["onvif"]["status"] == "auth_failed"
    # The RTSP server takes no credentials: the generic template still finds the stream.
    assert detection["recommended"]["source"] == "template"


async def test_http_cameras_mjpeg_and_snapshots_are_measured(site: Site, camera_simulator: SimulatorFactory) -> None:
    camera = await camera_simulator(username="root", password="pass word", manufacturer="axis", width=320,
                                    height=240, fps=8)  # fmt: skip
    body = {"host": "127.0.0.1", "port": free_port(), "http_port": camera.port, "onvif_port": free_port(),
            "username": "root", "password": "pass word", "manufacturer": "axis"}  # fmt: skip
    status, detection = await site.admin.post("/api/discovery/auto-detect", json=body)
    assert status == 200, detection
    no_secret(detection, "pass word")
    no_secret(detection, "pass%20word")
    by_stream = {r["stream"]: r for r in detection["all_results"] if r["success"]}
    assert by_stream["mjpeg"]["connection_type"] == "http_mjpeg" and by_stream["mjpeg"]["resolution"] == "320x240"
    assert by_stream["mjpeg"]["fps"] > 0
    assert by_stream["snapshot"]["resolution"] == "320x240"
    assert detection["recommended"]["stream"] == "mjpeg"  # no RTSP here: the moving picture beats stills
    assert camera.requests  # the simulator really was asked


async def test_an_unreachable_host_answers_with_failures(site: Site) -> None:
    closed = free_port()
    body = {"host": "127.0.0.1", "port": closed, "http_port": closed, "onvif_port": closed, "manufacturer": "dahua"}
    status, detection = await site.admin.post("/api/discovery/auto-detect", json=body)
    assert status == 200
    assert detection["success"] is False
    assert all(f"nothing listens on port {closed}" in r["error"] for r in detection["all_results"])


async def test_batch_test_measures_urls_and_detects_addresses(
    site: Site, rtsp_server_factory: RtspServerFactory, camera_simulator: SimulatorFactory
) -> None:
    server = await rtsp_server_factory(username="u", password="p@ss")
    camera = await camera_simulator()
    cameras = [
        {"url": f"rtsp://127.0.0.1:{server.port}/sub", "username": "u", "password": "p@ss", "name": "gate"},
        {"url": camera.mjpeg_url},
        {"url": f"rtsp://127.0.0.1:{server.port}/nope", "username": "u", "password": "p@ss"},
        {"ip": "127.0.0.1", "port": server.port, "onvif_port": free_port(), "username": "u", "password": "p@ss"},
    ]
    status, body = await site.admin.post("/api/discovery/batch-test", json={"cameras": cameras, "timeout": 6})
    assert status == 200, body
    no_secret(body, "p@ss")
    gate, mjpeg, missing, detected = body["results"]
    assert gate["name"] == "gate" and gate["success"] and gate["resolution"] == "640x360"
    assert gate["url"] == f"rtsp://u:***@127.0.0.1:{server.port}/sub"
    assert mjpeg["success"] and mjpeg["connection_type"] == "http_mjpeg" and mjpeg["resolution"] == "640x360"
    assert missing["success"] is False and "404" in missing["error"]
    assert detected["success"] and detected["recommended"]["resolution"] == "1280x720"
    assert body["working"] == 3


async def test_garbage_and_stalled_streams_end_in_bounded_time(site: Site, camera_simulator: SimulatorFactory) -> None:
    garbage = await camera_simulator(garbage=True)
    stalled = await camera_simulator(stall_after=0.3, width=320, height=240)
    cameras = [{"url": garbage.mjpeg_url}, {"url": stalled.mjpeg_url}, {"url": garbage.snapshot_url}]
    status, body = await site.admin.post("/api/discovery/batch-test", json={"cameras": cameras, "timeout": 2})
    assert status == 200, body
    broken, hung, not_jpeg = body["results"]
    assert broken["success"] is False and broken["error"]
    assert hung["success"] is True and hung["resolution"] == "320x240"  # it did send a frame before hanging
    assert not_jpeg["success"] is False
    await wait_for(lambda: garbage.clients == 0 and stalled.clients == 0, timeout=10)  # nothing left open


async def test_probing_the_network_is_for_administrators(site: Site) -> None:
    status, body = await site.viewer.post("/api/discovery/auto-detect", json={"host": "127.0.0.1"})
    assert status == 403
    status, body = await site.admin.post("/api/discovery/auto-detect", json={"username": "x"})
    assert status == 400
    assert_error(body, "invalid_data", {"host": "required"})
    status, body = await site.admin.post("/api/discovery/auto-detect", json={"host": "a b", "manufacturer": "zz"})
    assert status == 400 and set(body["error"]["fields"]) == {"host", "manufacturer"}
    status, body = await site.admin.post("/api/discovery/batch-test", json={"cameras": [{"username": "x"}]})
    assert status == 400 and "cameras" in repr(body["error"]["fields"])
