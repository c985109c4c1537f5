"""The discovery API's catalogue (manufacturers, templates, URL generation), subnet scan jobs over loopback only
(RTSP, HTTP and ONVIF devices told apart), and WS-Discovery by unicast; tenants see only their own jobs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from hub.auth.scope import Role
from hub.testing import free_port, wait_for
from hub.testing.http import UserFactory, assert_error
from hub.testing.rtsp import RtspServerFactory
from integrations.onvif.simulator import OnvifSimulator

from .conftest import SimulatorFactory, Site


async def test_the_manufacturers_and_their_templates(site: Site) -> None:
    status, body = await site.viewer.get("/api/discovery/manufacturers")
    assert status == 200 and len(body) >= 23
    keys = {item["key"] for item in body}
    assert {"hikvision", "dahua", "axis", "reolink", "unifi", "eufy", "amcrest", "generic"} <= keys
    nest = next(item for item in body if item["key"] == "nest")
    assert nest["cloud_only"] is True and nest["local_streams"] is False
    status, hikvision = await site.viewer.get("/api/discovery/stream-templates/hikvision")
    assert status == 200
    main = next(t for t in hikvision["templates"] if t["stream"] == "main")
    assert main == {"stream": "main", "connection_type": "rtsp", "path": "/Streaming/Channels/{channel}01",
                    "port": None, "note": ""}  # fmt: skip
    status, tapo = await site.viewer.get("/api/discovery/stream-templates/Tapo")
    assert status == 200 and tapo["key"] == "tplink" and tapo["onvif_port"] == 2020
    status, body = await site.viewer.get("/api/discovery/stream-templates/acme")
    assert status == 404
    assert_error(body, "manufacturer_not_found")


async def test_generate_urls_quotes_credentials_and_hides_the_password(site: Site) -> None:
    body = {"ip": "192.0.2.10", "username": "ad@min", "password": "Hik:12/34", "manufacturer": "hikvision",
            "channel": 2, "ports": {"rtsp": 8554}}  # fmt: skip
    status, answer = await site.viewer.post("/api/discovery/generate-urls", json=body)
    assert status == 200, answer
    assert "Hik" not in repr(answer)
    urls = {url["stream"]: url for url in answer["urls"]}
    assert urls["main"]["url"] == "rtsp://ad%40min:***@192.0.2.10:8554/Streaming/Channels/201"
    assert urls["main"]["path"] == "/Streaming/Channels/201" and urls["main"]["port"] == 8554
    assert urls["snapshot"]["url"] == "http://ad%40min:***@192.0.2.10:80/ISAPI/Streaming/channels/201/picture"
    status, answer = await site.viewer.post("/api/discovery/generate-urls", json={"host": "x"})
    assert status == 400
    assert_error(answer, "invalid_data", {"manufacturer": "required"})
    bad_ports = {"host": "x", "manufacturer": "axis", "ports": {"warp": 1}}
    status, answer = await site.viewer.post("/api/discovery/generate-urls", json=bad_ports)
    assert status == 400 and list(answer["error"]["fields"]) == ["ports.warp"]


async def test_a_loopback_scan_finds_rtsp_http_and_onvif_devices(
    site: Site, rtsp_server_factory: RtspServerFactory, camera_simulator: SimulatorFactory
) -> None:
    server = await rtsp_server_factory()
    http_camera = await camera_simulator()
    closed = free_port()
    async with OnvifSimulator(rtsp_url=server.url, manufacturer="Dahua") as onvif:
        ports = [server.port, http_camera.port, onvif.port, closed]
        status, job = await site.admin.post("/api/discovery/scan", json={"cidr": "127.0.0.0/29", "ports": ports})
        assert status == 202, job
        # A loopback scan of six addresses can finish before the 202 answer is written.
        assert job["status"] in ("running", "done") and job["total_hosts"] == 6

        jobs = site.hub.data["cameras"].scans
        await wait_for(lambda: jobs.get(job["id"]).status != "running", timeout=20)
        status, result = await site.admin.get(f"/api/discovery/scan/{job['id']}")
    assert result["status"] == "done", result
    assert result["scanned_hosts"] == 6 and result["progress"] == 100.0
    (device,) = [d for d in result["devices"] if d["host"] == "127.0.0.1"]
    services = {service["port"]: service for service in device["services"]}
    assert device["open_ports"] == sorted([server.port, http_camera.port, onvif.port])
    assert services[server.port]["protocol"] == "rtsp" and "GStreamer" in services[server.port]["server"]
    assert services[http_camera.port]["protocol"] == "http"
    assert services[http_camera.port]["server"] == "Gatehouse-SimCam/1.0"
    assert services[onvif.port]["protocol"] == "onvif" and device["onvif"] is True


async def test_scans_refuse_big_and_public_networks(site: Site) -> None:
    status, body = await site.admin.post("/api/discovery/scan", json={"cidr": "127.0.0.0/16"})
    assert status == 400
    assert_error(body, "scan_refused")
    assert "/22" in body["error"]["fields"]["cidr"]
    status, body = await site.admin.post("/api/discovery/scan", json={"cidr": "8.8.8.0/24"})
    assert status == 400 and "not a private network" in body["error"]["message"]
    status, body = await site.admin.post("/api/discovery/scan", json={"cidr": "banana"})
    assert status == 400 and "cidr" in body["error"]["fields"]
    status, body = await site.admin.post("/api/discovery/scan", json={"cidr": "127.0.0.0/30", "ports": [0]})
    assert status == 400 and list(body["error"]["fields"]) == ["ports[0]"]
    status, body = await site.viewer.post("/api/discovery/scan", json={"cidr": "127.0.0.0/30"})
    assert status == 403


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A device that accepts connections and never says a word: it keeps a scan busy (identify waits for it)."""

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    listener = await asyncio.start_server(silent, "127.0.0.1", 0)
    yield listener.sockets[0].getsockname()[1]
    listener.close()


async def test_a_scan_can_be_stopped_and_belongs_to_its_tenant(
    site: Site, make_user: UserFactory, silent_port: int
) -> None:
    body = {"cidr": "127.0.0.0/29", "ports": [silent_port], "time_limit": 60}
    status, job = await site.admin.post("/api/discovery/scan", json=body)
    assert status == 202 and job["total_hosts"] == 6
    other = await site.hub.tenants.create("other", "Other School")
    stranger = (await make_user(site.hub, other, Role.ADMIN)).api
    status, _ = await stranger.get(f"/api/discovery/scan/{job['id']}")
    assert status == 404
    status, _ = await stranger.delete(f"/api/discovery/scan/{job['id']}")
    assert status == 404
    status, listing = await stranger.get("/api/discovery/scan")
    assert status == 200 and listing == []
    status, stopped = await site.admin.delete(f"/api/discovery/scan/{job['id']}")
    assert status == 200 and stopped["status"] == "stopped"
    assert stopped["finished_at"] is not None and stopped["scanned_hosts"] < 6
    status, listing = await site.admin.get("/api/discovery/scan")
    assert [item["id"] for item in listing] == [job["id"]]


async def test_a_scan_past_its_time_limit_ends_timed_out(site: Site, silent_port: int) -> None:
    body = {"cidr": "127.0.0.0/30", "ports": [silent_port], "time_limit": 1}
    _, job = await site.admin.post("/api/discovery/scan", json=body)
    jobs = site.hub.data["cameras"].scans
    await wait_for(lambda: jobs.get(job["id"]).status != "running", timeout=10)
    _status, result = await site.admin.get(f"/api/discovery/scan/{job['id']}")
    assert result["status"] == "timed_out" and "longer than 1 s" in result["error"]


async def test_ws_discovery_by_unicast_lists_the_camera(site: Site, rtsp_server_factory: RtspServerFactory) -> None:
    server = await rtsp_server_factory()
    async with OnvifSimulator(rtsp_url=server.url, manufacturer="Axis", name="Gate camera") as camera:
        discovery_port = free_port()
        await camera.start_discovery(port=discovery_port)
        body = {"address": "127.0.0.1", "port": discovery_port, "timeout": 3}
        status, devices = await site.admin.post("/api/discovery/onvif", json=body)
    assert status == 200, devices
    (device,) = devices
    assert device["host"] == "127.0.0.1" and device["port"] == camera.port
    assert device["name"] == "Gate camera"
