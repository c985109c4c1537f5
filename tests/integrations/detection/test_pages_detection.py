"""The detection dashboard pages, served by the hub's real HTTP server and read with the session cookies of a
real log-in: the events list with its filters, an event with its snapshot, clip and acknowledge button, the
statistics charts (server-side SVG) and the system panel, in English and French, per tenant."""

from __future__ import annotations

import html as html_module
import re
import time
import uuid
from dataclasses import dataclass

import aiohttp
import pytest

from hub.core import Hub
from hub.tenants import Tenant
from hub.testing import HubFactory
from integrations.detection import pages
from integrations.detection.boxes import Box
from integrations.detection.event import TrackedEvent
from integrations.detection.media_store import media_key
from integrations.detection.runtime import runtime_of

PASSWORD = "correct horse battery"


def tracked(camera: str, label: str, tenant_id: str, start: float) -> TrackedEvent:
    box = Box(10, 20, 50, 34, label, 0.87)
    return TrackedEvent(uuid.uuid4().hex, camera, tenant_id, label, "1", start, start + 75, start + 75, 0.87, 0.87,
                        box, [], ["door", "hall"], box, None, start)  # fmt: skip


@dataclass
class Site:
    hub: Hub
    school: Tenant
    gate: TrackedEvent
    yard: TrackedEvent
    vault: TrackedEvent


async def record(hub: Hub, event: TrackedEvent, media: bool) -> None:
    runtime = runtime_of(hub)
    keys: dict[str, str | None] = {"snapshot": None, "clean": None, "clip": None}
    if media:
        for kind in keys:
            key = media_key(event.tenant_id, event.camera, event.event_id, kind, event.start)  # type: ignore[arg-type]
            await runtime.media.put(key, f"{kind} bytes".encode(), "image/jpeg")
            keys[kind] = key
    await runtime.store.started(event)
    error = None if media else "media store full: no space left"
    await runtime.store.ended(event, snapshot_key=keys["snapshot"], clean_key=keys["clean"], clip_key=keys["clip"],
                              media_error=error, reason="lost")  # fmt: skip


@pytest.fixture
async def site(hub_factory: HubFactory) -> Site:
    hub = await hub_factory(http=True, config={"gatehouse": {"name": "Lakeside School"}})
    school = await hub.tenants.create("school", "Lakeside School")
    bank = await hub.tenants.create("bank", "Bank")
    for role in ("viewer", "operator"):
        await hub.auth.create_user(role, PASSWORD, tenant_id=school.id, role=role, name=f"Ana {role}")
    now = time.time()
    site = Site(
        hub,
        school,
        tracked("camera.gate", "person", school.id, now - 600),
        tracked("camera.yard", "car", school.id, now - 300),
        tracked("camera.vault_<b>", "person", bank.id, now - 100),
    )
    await record(hub, site.gate, media=True)
    await record(hub, site.yard, media=False)
    await record(hub, site.vault, media=True)
    return site


async def get(site: Site, username: str, path: str, *, lang: str = "en") -> tuple[int, str]:
    # unsafe=True: the hub is on 127.0.0.1, and aiohttp's jar drops cookies of IP hosts otherwise.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        body = {"username": username, "password": PASSWORD, "session": True}
        async with session.post(site.hub.http.url + "/api/auth/login", json=body) as response:
            assert response.status == 200, await response.text()
        session.cookie_jar.update_cookies({"lang": lang})
        async with session.get(site.hub.http.url + path, allow_redirects=False) as response:
            return response.status, await response.text()


async def test_the_events_page_lists_the_tenants_detections_with_filters(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, html = await get(site, "viewer", "/detection")
    assert status == 200, html
    assert 'href="/detection"' in html and 'aria-current="page"' in html  # the header links the page
    assert f'data-event-id="{site.gate.event_id}"' in html and f'data-event-id="{site.yard.event_id}"' in html
    assert site.vault.event_id not in html and "vault" not in html  # the bank's detection is not listed
    assert f'src="/api/detection/events/{site.gate.event_id}/snapshot.jpg"' in html
    assert html.index(site.yard.event_id) < html.index(site.gate.event_id)  # newest first
    assert "door, hall" in html and "1 min 15 s" in html
    assert "data-detection-ack" not in html  # viewers do not acknowledge
    assert '<option value="camera.gate"' in html and '<option value="car"' in html

    _, filtered = await get(site, "viewer", "/detection?camera=camera.yard")
    assert site.yard.event_id in filtered and site.gate.event_id not in filtered
    _, filtered = await get(site, "viewer", "/detection?label=person&range=1h")
    assert site.gate.event_id in filtered and site.yard.event_id not in filtered
    _, filtered = await get(site, "viewer", "/detection?acknowledged=yes")
    assert 'id="detection-empty"' in filtered and "data-event-id" not in filtered
    _, foreign_cursor = await get(site, "viewer", f"/detection?before={site.vault.event_id}")
    assert "data-event-id" not in foreign_cursor  # another tenant's cursor shows nothing, and no error

    monkeypatch.setattr(pages, "PAGE_SIZE", 1)
    _, newest = await get(site, "viewer", "/detection?label=person&camera=")
    older = re.search(r'href="(/detection\?[^"]+)" id="older-page"', newest)
    assert "data-event-id" in newest and older is not None  # (only gate is a person: a full page of one)
    _, page_two = await get(site, "viewer", html_module.unescape(older.group(1)))
    assert 'id="newest-page"' in page_two and "data-event-id" not in page_two and "label=person" in older.group(1)
    _, first_page = await get(site, "viewer", "/detection")
    older = re.search(r'href="(/detection\?[^"]+)" id="older-page"', first_page)
    assert older is not None and site.yard.event_id in first_page
    _, second_page = await get(site, "viewer", html_module.unescape(older.group(1)))
    assert site.gate.event_id in second_page and site.yard.event_id not in second_page
    monkeypatch.undo()

    status, html = await get(site, "operator", "/detection")
    assert html.count("data-detection-ack=") == 2
    status, french = await get(site, "operator", "/detection", lang="fr")
    assert status == 200 and "Détections" in french and "Acquitter" in french


async def test_an_event_page_shows_the_snapshot_the_clip_and_the_facts(site: Site) -> None:
    status, html = await get(site, "operator", f"/detection/events/{site.gate.event_id}")
    assert status == 200, html
    base = f"/api/detection/events/{site.gate.event_id}"
    assert f'id="event-snapshot" src="{base}/snapshot.jpg"' in html
    assert f'data-src="{base}/snapshot.jpg?clean=1"' in html
    assert re.search(
        rf'<video class="detection-clip" id="event-clip" controls preload="metadata" playsinline src="{base}/clip.mp4"',
        html,
    )
    assert f'data-detection-ack="{site.gate.event_id}"' in html
    assert "out of sight" in html and "87 %" in html and "door, hall" in html

    status, html = await get(site, "viewer", f"/detection/events/{site.yard.event_id}")
    assert status == 200
    assert 'id="no-snapshot"' in html and 'id="no-clip"' in html
    assert "Media could not be stored: media store full: no space left" in html_module.unescape(html)
    assert "data-detection-ack" not in html

    status, html = await get(site, "viewer", f"/detection/events/{site.vault.event_id}")
    assert status == 404 and site.vault.event_id not in html.replace(f"/detection/events/{site.vault.event_id}", "")
    status, _ = await get(site, "viewer", "/detection/events/nonsense")
    assert status == 404


async def test_an_acknowledged_event_says_by_whom(site: Site) -> None:
    operator = site.hub.auth.user_by_username("operator")
    assert operator is not None
    await runtime_of(site.hub).store.acknowledge(site.gate.event_id, operator.id)
    _, html = await get(site, "viewer", f"/detection/events/{site.gate.event_id}")
    assert "Ana operator" in html and "ack-done" in html
    _, listed = await get(site, "viewer", "/detection?acknowledged=yes")
    assert site.gate.event_id in listed and site.yard.event_id not in listed


async def test_the_stats_page_draws_the_charts_and_the_system_panel(site: Site) -> None:
    status, html = await get(site, "viewer", "/detection/stats")
    assert status == 200, html
    assert 'data-stat="total">2<' in html and 'data-stat="acknowledged">0<' in html
    hours = re.findall(r'<rect class="chart-bar" data-hour="\d+" data-count="(\d+)"', html)
    assert len(hours) in (24, 25)  # every hour of the last 24 (the first one partly)
    assert sum(map(int, hours)) == 2
    labels = dict(re.findall(r'<g class="chart-row" data-name="([^"]+)" data-count="(\d+)"', html))
    assert labels == {"person": "1", "car": "1", "camera.gate": "1", "camera.yard": "1"}
    assert 'id="system-panel"' in html and 'data-system="cpu_percent"' in html
    assert "vault" not in html
    _, only_yard = await get(site, "viewer", "/detection/stats?camera=camera.yard&window=7d")
    assert 'data-stat="total">1<' in only_yard
    _, french = await get(site, "viewer", "/detection/stats", lang="fr")
    assert "Statistiques de détection" in french and "Par heure" in french
