"""The detection pages in a real browser: Debian's Chromium (Playwright) against the hub's real HTTP server.
Events are written through the real DetectionEventStore with real JPEG snapshots in the real media store; the
list shows them, a new one arrives live (a ``detection`` bus event over the WebSocket API), the event page loads
its snapshot, switches to the clean picture and acknowledges; the statistics page draws its charts.

Screenshots land in ``test-artifacts/screenshots/`` like the other browser tests.
"""

from __future__ import annotations

import io
import time
import uuid
from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import BrowserContext, Page, expect

from hub.core import Hub
from hub.detection import EVENT_DETECTION
from hub.tenants import Tenant
from hub.testing import HubFactory
from hub.testing.detection import PEOPLE_VIDEO_SECONDS
from integrations.detection.boxes import Box
from integrations.detection.event import TrackedEvent
from integrations.detection.media_store import media_key
from integrations.detection.runtime import runtime_of

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery"


def jpeg(color: tuple[int, int, int], size: tuple[int, int] = (320, 180)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def tracked(camera: str, label: str, tenant_id: str, start: float) -> TrackedEvent:
    box = Box(40, 30, 120, 170, label, 0.91)
    return TrackedEvent(uuid.uuid4().hex, camera, tenant_id, label, "3", start, start + 4, start + 4, 0.91, 0.91,
                        box, [], ["door"], box, None, start)  # fmt: skip


async def record(hub: Hub, event: TrackedEvent, clip: bytes | None = None) -> None:
    """What the pipeline does for an event: snapshots in the media store, then the row, then the bus event; the
    clip comes last (after the post-roll)."""
    runtime = runtime_of(hub)
    keys = {}
    for kind, color in (("snapshot", (200, 40, 40)), ("clean", (40, 160, 40))):
        keys[kind] = media_key(event.tenant_id, event.camera, event.event_id, kind, event.start)  # type: ignore[arg-type]
        await runtime.media.put(keys[kind], jpeg(color), "image/jpeg")
    await runtime.store.started(event)
    await runtime.store.ended(event, snapshot_key=keys["snapshot"], clean_key=keys["clean"], clip_key=None,
                              media_error=None, reason="lost")  # fmt: skip
    hub.bus.fire(EVENT_DETECTION, event.event_data("end"), tenant_id=event.tenant_id)
    if clip is not None:
        key = media_key(event.tenant_id, event.camera, event.event_id, "clip", event.start)
        await runtime.media.put(key, clip, "video/mp4")
        await runtime.store.media_ready(event.event_id, clip_key=key)


@pytest.fixture
async def site(hub_factory: HubFactory) -> Hub:
    return await hub_factory(http=True, config={"gatehouse": {"name": "Lakeside School"}})


@pytest.fixture
async def school(site: Hub) -> Tenant:
    tenant = await site.tenants.create("school", "Lakeside School")
    await site.auth.create_user("officer", PASSWORD, tenant_id=tenant.id, role="operator", name="Ana Ruiz")
    return tenant


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


async def snapshot_loaded(page: Page, selector: str) -> bool:
    return bool(await page.eval_on_selector(selector, "img => img.complete && img.naturalWidth > 0"))


async def test_list_live_arrival_detail_snapshot_and_acknowledge(
    site: Hub, school: Tenant, page: Page, people_video: Path
) -> None:
    now = time.time()
    first = tracked("camera.gate", "person", school.id, now - 120)
    await record(site, first, clip=people_video.read_bytes())  # a real 12 s H.264 MP4 as the clip

    clip_statuses: list[int] = []
    page.on("response", lambda response: clip_statuses.append(response.status) if "clip.mp4" in response.url else None)
    await page.goto(site.http.url + "/detection")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Detections")
    rows = page.locator("#detection-events-body tr")
    await expect(rows).to_have_count(1)
    await expect(page.locator("#live")).to_have_attribute("data-state", "live")

    second = tracked("camera.yard", "person", school.id, now - 5)
    await record(site, second)  # arrives through the WebSocket: the table fetches itself again
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_have_attribute("data-event-id", second.event_id)
    thumb = f'tr[data-event-id="{first.event_id}"] img.detection-thumb'
    await page.wait_for_function(f"document.querySelector('{thumb}')?.naturalWidth > 0")
    await shoot(page, "detection-events")

    await page.locator(f'tr[data-event-id="{first.event_id}"] a.event-link').click()
    await expect(page).to_have_url(site.http.url + f"/detection/events/{first.event_id}")
    await page.wait_for_function("document.getElementById('event-snapshot')?.naturalWidth === 320")
    assert await snapshot_loaded(page, "#event-snapshot")
    await page.get_by_role("button", name="Clean").click()
    await expect(page.locator("#event-snapshot")).to_have_attribute(
        "src", f"/api/detection/events/{first.event_id}/snapshot.jpg?clean=1"
    )
    await page.wait_for_function("document.getElementById('event-snapshot').complete")
    assert await snapshot_loaded(page, "#event-snapshot")
    await clip_plays_and_seeks(page, clip_statuses)

    await page.get_by_role("button", name="Acknowledge").click()
    await expect(page.locator("#event-ack .ack-done")).to_contain_text("Acknowledged just now")
    row = await runtime_of(site).store.get(first.event_id)
    assert row is not None and row.acknowledged_at is not None
    assert row.acknowledged_by == site.auth.user_by_username("officer").id  # type: ignore[union-attr]
    await shoot(page, "detection-event")

    await page.reload()
    await expect(page.locator("#event-ack .ack-done")).to_contain_text("Ana Ruiz")

    # The second event just ended: its clip comes after the post-roll, and its page shows it without a reload.
    await page.goto(site.http.url + f"/detection/events/{second.event_id}")
    await expect(page.locator("#no-clip")).to_be_visible()
    runtime = runtime_of(site)
    key = media_key(school.id, second.camera, second.event_id, "clip", second.start)
    await runtime.media.put(key, people_video.read_bytes(), "video/mp4")
    await runtime.store.media_ready(second.event_id, clip_key=key)
    await expect(page.locator("#event-clip")).to_be_visible()


async def clip_plays_and_seeks(page: Page, clip_statuses: list[int]) -> None:
    """The <video> reads the clip's metadata and seeks near its end: the browser asks for byte ranges (206)."""
    await page.wait_for_function("document.getElementById('event-clip').readyState >= 1")
    duration = await page.eval_on_selector("#event-clip", "video => video.duration")
    assert abs(duration - PEOPLE_VIDEO_SECONDS) < 0.5
    seeked = await page.eval_on_selector(
        "#event-clip",
        """video => new Promise(resolve => {
            video.addEventListener("seeked", () => resolve(video.currentTime), { once: true });
            video.currentTime = 9;
        })""",
    )
    assert abs(seeked - 9) < 0.5
    await page.wait_for_function("document.getElementById('event-clip').readyState >= 2")
    assert 206 in clip_statuses, clip_statuses  # the browser read the clip by byte ranges


async def test_stats_page_draws_bars(site: Hub, school: Tenant, page: Page) -> None:
    now = time.time()
    for index, (camera, label) in enumerate(
        (("camera.gate", "person"), ("camera.gate", "person"), ("camera.yard", "car"))
    ):
        await record(site, tracked(camera, label, school.id, now - 60 * (index + 1)))
    await page.goto(site.http.url + "/detection/stats")
    await expect(page.locator('[data-stat="total"]')).to_have_text("3")
    await expect(page.locator('#chart-labels g.chart-row[data-name="person"]')).to_have_attribute("data-count", "2")
    await expect(page.locator('#chart-cameras g.chart-row[data-name="camera.yard"]')).to_have_attribute(
        "data-count", "1"
    )
    widths = await page.eval_on_selector_all("#chart-labels rect.chart-bar", "bars => bars.map(b => b.getBBox().width)")
    assert widths[0] > widths[1] > 0  # person (2) drawn longer than car (1)
    hour_total = await page.eval_on_selector_all(
        "#chart-hours rect.chart-bar", "bars => bars.reduce((n, b) => n + Number(b.dataset.count), 0)"
    )
    assert hour_total == 3
    await expect(page.locator('[data-system="gpu"]')).not_to_be_empty()
    await shoot(page, "detection-stats")
