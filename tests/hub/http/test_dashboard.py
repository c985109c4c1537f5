"""The overview page and its static files, served by the hub's real HTTP server (no browser here)."""

from __future__ import annotations

import time

import aiohttp
import pytest

from hub.core import Hub
from hub.http.dashboard import display_state, group_by_domain, relative_time, state_class
from hub.testing import HubFactory


async def fetch(session: aiohttp.ClientSession, hub: Hub, path: str) -> tuple[int, str, str]:
    async with session.get(hub.http.url + path) as response:
        return response.status, response.content_type, await response.text()


async def test_overview_shows_the_hub_entities_and_health(http_hub: Hub, session: aiohttp.ClientSession) -> None:
    http_hub.states.set("lock.front_gate", "locked", {"friendly_name": "Front gate"})
    http_hub.states.set("sensor.library_temperature", "21.5", {"friendly_name": "Library", "unit_of_measurement": "°C"})
    http_hub.states.set("binary_sensor.staff_door", "on", {"friendly_name": "Staff door", "device_class": "door"})
    http_hub.health.track("gate_terminal", "Gate terminal").report_success(80.0)

    status, content_type, html = await fetch(session, http_hub, "/")

    assert status == 200
    assert content_type == "text/html"
    assert "Lakeside School" in html
    assert "Front gate" in html and "lock.front_gate" in html
    assert "21.5 °C" in html
    assert '<span class="badge state-open">open</span>' in html  # a door's "on" reads "open"
    assert 'data-summary="online">1<' in html
    assert html.index("Doors") < html.index("Sensors")  # doors first: what an officer looks at first


async def test_overview_escapes_what_devices_report(http_hub: Hub, session: aiohttp.ClientSession) -> None:
    http_hub.states.set("sensor.evil", "<b>x</b>", {"friendly_name": "<script>alert(1)</script>"})

    _, _, html = await fetch(session, http_hub, "/")

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


async def test_an_empty_hub_says_how_to_start(hub_factory: HubFactory, session: aiohttp.ClientSession) -> None:
    hub = await hub_factory(http=True)

    _, _, html = await fetch(session, hub, "/")

    assert "No entities yet" in html
    assert '<div class="empty card" id="empty">' in html  # shown, not hidden
    assert "<title>Overview · Gatehouse</title>" in html


@pytest.mark.parametrize(
    ("path", "content_type", "needle"),
    [
        ("/static/gatehouse.css", "text/css", "--excellent"),
        ("/static/overview.js", "text/javascript", "/api/health/summary"),
    ],
)
async def test_static_files_are_served(
    http_hub: Hub, session: aiohttp.ClientSession, path: str, content_type: str, needle: str
) -> None:
    status, served_type, text = await fetch(session, http_hub, path)

    assert status == 200
    assert served_type in (content_type, "application/javascript")
    assert needle in text


async def test_the_overview_links_its_assets(http_hub: Hub, session: aiohttp.ClientSession) -> None:
    _, _, html = await fetch(session, http_hub, "/")

    assert '<link rel="stylesheet" href="/static/gatehouse.css' in html
    assert '<script type="module" src="/static/overview.js' in html


async def test_a_missing_static_file_is_404(http_hub: Hub, session: aiohttp.ClientSession) -> None:
    status, content_type, _ = await fetch(session, http_hub, "/static/../hub/core.py")

    assert status == 404
    assert content_type == "application/json"


def test_relative_time_words() -> None:
    now = time.time()
    assert relative_time(now - 5, now) == "just now"
    assert relative_time(now - 150, now) == "2 min ago"
    assert relative_time(now - 7300, now) == "2 h ago"
    assert relative_time(now - 86400 * 1.5, now) == "1 day ago"
    assert relative_time(now - 86400 * 3, now) == "3 days ago"


async def test_state_words_and_classes(hub: Hub) -> None:
    hub.states.set("binary_sensor.gate_camera", "off", {"device_class": "connectivity"})
    hub.states.set("sensor.gate_response", "unknown", {"unit_of_measurement": "ms"})
    hub.states.set("lock.front_gate", "unlocked")

    assert display_state(hub.states.get("binary_sensor.gate_camera")) == "disconnected"  # type: ignore[arg-type]
    assert display_state(hub.states.get("sensor.gate_response")) == "unknown"  # type: ignore[arg-type]
    assert state_class("Armed Away!") == "armed-away"
    assert [group["title"] for group in group_by_domain(hub.states.all())] == ["Doors", "Binary sensors", "Sensors"]
