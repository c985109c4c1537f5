"""The camera pages in a real browser: Debian's Chromium (Playwright) against the hub's real HTTP server, with a
real RTSP camera on loopback. The grid shows live stills, the live page plays HLS through our own MSE player, an
MJPEG camera falls back to MJPEG, and PTZ buttons call the camera platform's services while pressed.

Screenshots land in ``test-artifacts/screenshots/`` like the other browser tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page, expect

from hub.camera import Camera
from hub.core import Hub, ServiceCall
from hub.tenants import Tenant
from hub.testing import HubFactory, wait_for
from hub.testing.rtsp import RtspServer, RtspServerFactory

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery"


class PtzCamera(Camera):
    supports_ptz = True


@pytest.fixture
async def site(hub_factory: HubFactory) -> Hub:
    hub = await hub_factory(http=True, config={"gatehouse": {"name": "Lakeside School"}})
    hub.streams.idle_timeout = 1.0
    return hub


@pytest.fixture
async def school(site: Hub) -> Tenant:
    tenant = await site.tenants.create("school", "Lakeside School")
    await site.auth.create_user("officer", PASSWORD, tenant_id=tenant.id, role="operator", name="Ana Ruiz")
    return tenant


async def add_camera(site: Hub, tenant: Tenant, camera: Camera, serial: str) -> Camera:
    device = await site.devices.claim(tenant.id, "Acme", serial, camera.name or serial)
    await site.entities.add(camera, platform="acme", device=device)
    return camera


@pytest.fixture
async def gate(site: Hub, school: Tenant, rtsp_server: RtspServer) -> Camera:
    camera = PtzCamera(name="Gate", unique_id="gate-cam", source=rtsp_server.url, options={"rtsp_transport": "tcp"})
    return await add_camera(site, school, camera, "CAM-GATE")


@pytest.fixture
async def page(context: BrowserContext, site: Hub, school: Tenant) -> Page:
    page = await context.new_page()
    response = await page.request.post(
        site.http.url + "/api/auth/login", data={"username": "officer", "password": PASSWORD, "session": True}
    )
    assert response.ok, await response.text()
    return page


async def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def test_grid_shows_each_cameras_live_still(
    site: Hub, school: Tenant, gate: Camera, rtsp_server_factory: RtspServerFactory, page: Page
) -> None:
    dead = Camera(name="Loading dock", unique_id="dock-cam", source="rtsp://127.0.0.1:9/none")
    await add_camera(site, school, dead, "CAM-DOCK")
    site.streams.retry_delays = (30.0,)

    await page.goto(site.http.url + "/cameras")

    await expect(page.get_by_role("heading", level=1)).to_have_text("Cameras")
    await expect(page.get_by_role("link", name="Cameras")).to_have_attribute("aria-current", "page")
    gate_card = page.locator('.camera-card[data-entity-id="camera.gate"]')
    await expect(gate_card.locator(".camera-still")).to_be_visible()
    assert await gate_card.locator(".camera-still").evaluate("image => image.naturalWidth") > 0
    await expect(gate_card.locator(".camera-state")).to_have_text("streaming")
    dock_card = page.locator('.camera-card[data-entity-id="camera.loading_dock"]')
    await expect(dock_card.locator(".camera-still-message")).to_contain_text("Unavailable: camera.loading_dock")
    await expect(dock_card.locator(".camera-state")).to_have_text("unavailable")
    await shoot(page, "cameras-grid")

    await gate_card.get_by_role("link").click()
    await expect(page).to_have_url(site.http.url + "/cameras/camera.gate")


async def test_live_page_plays_hls_through_media_source_extensions(site: Hub, gate: Camera, page: Page) -> None:
    await page.goto(site.http.url + "/cameras/camera.gate")

    await expect(page.locator("#player-mode")).to_have_attribute("data-mode", "hls")
    video = page.locator("#camera-video")
    await expect(video).to_be_visible()
    await page.wait_for_function(
        "() => { const v = document.getElementById('camera-video'); return v.videoWidth === 1280 && v.currentTime > 1 }"
    )
    await expect(page.locator('[data-stat="codec"]')).to_have_text("h264")
    await expect(page.locator('[data-stat="size"]')).to_have_text("1280\u00d7720")
    assert site.streams.stats("camera.gate").sessions == 1  # the page's HLS and the stats share one decoder
    await shoot(page, "camera-live")


async def test_mjpeg_camera_falls_back_to_mjpeg(
    site: Hub, school: Tenant, rtsp_server_factory: RtspServerFactory, page: Page
) -> None:
    server = await rtsp_server_factory(codec="mjpeg", mounts={"/mjpeg": (320, 240, 10)})
    await add_camera(site, school, Camera(name="Lobby", unique_id="lobby-cam", source=server.url), "CAM-LOBBY")

    await page.goto(site.http.url + "/cameras/camera.lobby")

    await expect(page.locator("#player-mode")).to_have_attribute("data-mode", "mjpeg")
    await expect(page.locator("#camera-note")).to_contain_text("this camera sends mjpeg")
    await page.wait_for_function("() => document.getElementById('camera-mjpeg').naturalWidth === 320")


async def test_ptz_buttons_move_while_pressed(site: Hub, gate: Camera, page: Page) -> None:
    calls: list[ServiceCall] = []
    site.services.register("acme", "ptz_move", calls.append)
    site.services.register("acme", "ptz_stop", calls.append)

    await page.goto(site.http.url + "/cameras/camera.gate")
    left = page.get_by_role("button", name="Pan left")
    await left.hover()
    await page.mouse.down()
    await expect(left).to_have_attribute("aria-pressed", "true")
    await page.mouse.up()
    await expect(left).to_have_attribute("aria-pressed", "false")

    await wait_for(lambda: len(calls) >= 2, timeout=10)
    assert [(call.service, dict(call.data), call.entity_ids) for call in calls] == [
        ("ptz_move", {"pan": -0.5, "tilt": 0}, ("camera.gate",)),
        ("ptz_stop", {}, ("camera.gate",)),
    ]
