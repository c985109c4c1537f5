"""The dashboard's pages, served by the hub's real HTTP server and read with the session cookies of a real
REST log-in (no browser here: tests/browser drives Chromium)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import yarl

from hub.core import Hub
from hub.device_registry import Device
from hub.http.dashboard import frontend_dir
from hub.http.i18n import best_language
from hub.tenants import Tenant
from hub.testing import HubFactory

PASSWORD = "correct horse battery"


@pytest.fixture
async def site(hub_factory: HubFactory) -> Hub:
    return await hub_factory(http=True, config={"gatehouse": {"name": "Lakeside School"}})


@pytest.fixture
async def acme(site: Hub) -> Tenant:
    return await site.tenants.create("acme", "Acme Security")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    # unsafe=True: the hub is on 127.0.0.1, and aiohttp's jar drops cookies of IP hosts otherwise.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        yield client


async def log_in(site: Hub, session: aiohttp.ClientSession, username: str) -> None:
    body = {"username": username, "password": PASSWORD, "session": True}
    async with session.post(site.http.url + "/api/auth/login", json=body) as response:
        assert response.status == 200, await response.text()


async def signed_in(site: Hub, session: aiohttp.ClientSession, tenant: Tenant, role: str = "admin") -> None:
    await site.auth.create_user(f"{role}1", PASSWORD, tenant_id=tenant.id, role=role, name=f"Ana {role}")
    await log_in(site, session, f"{role}1")


async def get(session: aiohttp.ClientSession, site: Hub, path: str, **kwargs: object) -> tuple[int, str]:
    async with session.get(site.http.url + path, allow_redirects=False, **kwargs) as response:  # type: ignore[arg-type]
        return response.status, await response.text()


async def claimed_device(site: Hub, tenant: Tenant, serial: str = "ZX0006827500") -> Device:
    await site.devices.claim(tenant.id, "ZKTeco", serial, "Gate terminal")
    return await site.devices.connected("ZKTeco", serial, model="TM20")


PAGES = ["/", "/events", "/health", "/integrations", "/users", "/audit", "/devices/claim"]


@pytest.mark.parametrize("path", PAGES)
async def test_each_page_renders_for_a_signed_in_admin(
    site: Hub, acme: Tenant, session: aiohttp.ClientSession, path: str
) -> None:
    await signed_in(site, session, acme)

    status, html = await get(session, site, path)

    assert status == 200, html
    assert '<html lang="en">' in html
    assert "Lakeside School" in html
    assert "Ana admin" in html  # the header names who is signed in
    assert 'id="logout"' in html


@pytest.mark.parametrize("path", [*PAGES, "/devices/0123456789abcdef"])
async def test_pages_send_visitors_without_a_session_to_the_login(
    site: Hub, acme: Tenant, session: aiohttp.ClientSession, path: str
) -> None:
    await site.auth.create_user("someone", PASSWORD, tenant_id=acme.id)

    async with session.get(site.http.url + path, allow_redirects=False) as response:
        assert response.status == 302
        location = response.headers["Location"]

    target = yarl.URL(location)
    assert target.path == "/login"
    assert target.query.get("next") == (None if path == "/" else path)


async def test_the_login_page_comes_back_to_the_page_asked_for(
    site: Hub, acme: Tenant, session: aiohttp.ClientSession
) -> None:
    await site.auth.create_user("someone", PASSWORD, tenant_id=acme.id)

    status, html = await get(session, site, "/login?next=/events")
    _, outside = await get(session, site, "/login?next=//evil.example/")

    assert status == 200
    assert 'data-next="/events"' in html
    assert 'data-next="/"' in outside  # never an open redirect
    assert 'autocomplete="current-password"' in html


async def test_without_any_user_the_hub_asks_for_onboarding(site: Hub, session: aiohttp.ClientSession) -> None:
    async with session.get(site.http.url + "/", allow_redirects=True) as response:
        assert response.url.path == "/onboarding"
        html = await response.text()

    assert "Welcome to Gatehouse" in html
    assert 'id="onboarding-form"' in html


async def test_onboarding_is_gone_once_a_user_exists(site: Hub, acme: Tenant, session: aiohttp.ClientSession) -> None:
    await site.auth.create_user("someone", PASSWORD, tenant_id=acme.id)

    status, _ = await get(session, site, "/onboarding")

    assert status == 302


async def test_the_overview_shows_the_tenants_devices_and_only_them(
    site: Hub, acme: Tenant, session: aiohttp.ClientSession
) -> None:
    other = await site.tenants.create("other", "Other School")
    mine = await claimed_device(site, acme)
    await site.devices.claim(other.id, "ZKTeco", "OTHER-SERIAL", "Their gate")
    site.states.set("lock.front_gate", "unlocked", {"friendly_name": "Front gate"}, tenant_id=acme.id)
    site.states.set("lock.their_gate", "locked", {"friendly_name": "Their lock"}, tenant_id=other.id)
    site.health.track("gate_terminal", "Gate terminal", device_id=mine.id, tenant_id=acme.id).report_success(80.0)
    await signed_in(site, session, acme)

    _, html = await get(session, site, "/")

    assert "Gate terminal" in html and f'href="/devices/{mine.id}"' in html
    assert "Front gate" in html and '<span class="badge state-unlocked">unlocked</span>' in html
    assert "Their gate" not in html and "Their lock" not in html
    assert 'data-summary="total">1<' in html and 'data-summary="online">1<' in html
    assert 'data-health-entity="sensor.gate_terminal_health"' in html  # the live health badge of the device
    assert '<script type="module" src="/static/js/overview.js' in html


async def test_the_overview_escapes_what_devices_report(
    site: Hub, acme: Tenant, session: aiohttp.ClientSession
) -> None:
    site.states.set("sensor.evil", "<b>x</b>", {"friendly_name": "<script>alert(1)</script>"}, tenant_id=acme.id)
    await signed_in(site, session, acme)

    _, html = await get(session, site, "/")

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


async def test_a_device_page_shows_its_entities_and_health(
    site: Hub, acme: Tenant, session: aiohttp.ClientSession
) -> None:
    device = await claimed_device(site, acme)
    site.health.track("gate_terminal", "Gate terminal", device_id=device.id, tenant_id=acme.id).report_success(42.0)
    await signed_in(site, session, acme)

    status, html = await get(session, site, f"/devices/{device.id}")

    assert status == 200
    assert '<h1 id="device-name">Gate terminal</h1>' in html
    assert "ZX0006827500" in html and "TM20" in html
    assert "42.0 ms" in html
    assert 'data-entity-id="sensor.gate_terminal_response_time"' in html  # the chart starts on a number
    assert 'id="rename-form"' in html and 'id="release"' in html  # admins manage the device
    assert 'data-action="reconnect"' in html


async def test_another_tenants_device_is_not_found(site: Hub, acme: Tenant, session: aiohttp.ClientSession) -> None:
    other = await site.tenants.create("other", "Other School")
    theirs = await site.devices.claim(other.id, "ZKTeco", "OTHER-SERIAL", "Their gate")
    await signed_in(site, session, acme)

    status, html = await get(session, site, f"/devices/{theirs.id}")
    absent, _ = await get(session, site, "/devices/does-not-exist")

    assert status == 404 and absent == 404
    assert "Their gate" not in html and "OTHER-SERIAL" not in html
    assert "Not found" in html and "<html" in html  # the dashboard's own page, not the API's JSON


async def test_a_viewer_sees_no_button_it_may_not_use(site: Hub, acme: Tenant, session: aiohttp.ClientSession) -> None:
    device = await claimed_device(site, acme)
    site.health.track("gate_terminal", "Gate terminal", device_id=device.id, tenant_id=acme.id).report_success(42.0)
    await signed_in(site, session, acme, role="viewer")

    _, overview = await get(session, site, "/")
    _, detail = await get(session, site, f"/devices/{device.id}")
    _, health = await get(session, site, "/health")
    users, forbidden = await get(session, site, "/users")

    assert 'href="/users"' not in overview and 'href="/audit"' not in overview
    assert 'href="/devices/claim"' not in overview
    assert 'id="rename-form"' not in detail and 'data-action="reconnect"' not in detail
    assert 'data-action="reconnect"' not in health
    assert users == 403 and "Not allowed" in forbidden


async def test_an_operator_may_reconnect_but_not_manage(
    site: Hub, acme: Tenant, session: aiohttp.ClientSession
) -> None:
    device = await claimed_device(site, acme)
    site.health.track("gate_terminal", "Gate terminal", device_id=device.id, tenant_id=acme.id).report_success(42.0)
    await signed_in(site, session, acme, role="operator")

    _, detail = await get(session, site, f"/devices/{device.id}")
    claim, _ = await get(session, site, "/devices/claim")

    assert 'data-action="reconnect"' in detail
    assert 'id="rename-form"' not in detail
    assert claim == 403


async def test_the_events_page_lists_the_tenants_events_with_filters(
    site: Hub, acme: Tenant, session: aiohttp.ClientSession
) -> None:
    other = await site.tenants.create("other", "Other School")
    device = await claimed_device(site, acme)
    site.bus.fire("access", {"device_id": device.id, "person": "Ana Ruiz", "granted": True, "door": "Gate"},
                  tenant_id=acme.id)  # fmt: skip
    site.bus.fire("access", {"person": "Zed Intruder", "granted": False}, tenant_id=other.id)
    await site.recorder.commit_barrier()
    await signed_in(site, session, acme, role="operator")

    _, html = await get(session, site, "/events")
    _, filtered = await get(session, site, "/events?type=device_health_changed")

    assert "Ana Ruiz" in html and "Granted" in html and "Zed Intruder" not in html
    assert "data-ack=" in html  # operators acknowledge
    assert "Ana Ruiz" not in filtered


async def test_the_integrations_page_offers_a_form_from_the_entry_schema(
    hub_factory: HubFactory, session: aiohttp.ClientSession
) -> None:
    site = await hub_factory(http=True, config={"demo": {"interval": 5}})
    tenant = site.tenants.get_by_code("demo")
    assert tenant is not None
    await signed_in(site, session, tenant)

    _, html = await get(session, site, "/integrations")

    forms = json.loads(re.search(r'<script type="application/json" id="entry-forms">(.*?)</script>', html, re.S)[1])  # type: ignore[index]
    assert {"name": "interval", "type": "float"}.items() <= forms["demo"]["fields"][0].items()
    assert "Demo site" in html and "Loaded" in html  # the demo's config entry and its state


async def test_the_audit_log_pages_back(site: Hub, acme: Tenant, session: aiohttp.ClientSession) -> None:
    await signed_in(site, session, acme)  # the log-in itself is audited

    status, html = await get(session, site, "/audit")

    assert status == 200
    assert "Signed in" in html


async def test_french_from_the_lang_cookie(site: Hub, acme: Tenant, session: aiohttp.ClientSession) -> None:
    await signed_in(site, session, acme)

    _, html = await get(session, site, "/", cookies={"lang": "fr"})

    assert '<html lang="fr">' in html
    assert "Vue d\u2019ensemble" in html and "Se déconnecter" in html and "Réclamer un appareil" in html


async def test_french_from_accept_language_and_the_switcher(site: Hub, session: aiohttp.ClientSession) -> None:
    status, html = await get(session, site, "/onboarding", headers={"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"})
    async with session.get(site.http.url + "/onboarding?lang=en", allow_redirects=False) as response:
        switched = response.status, response.headers["Location"], response.cookies["lang"].value

    assert status == 200 and '<html lang="fr">' in html and "Bienvenue" in html
    assert switched == (302, "/onboarding", "en")


def test_accept_language_picks_the_best_language_we_speak() -> None:
    assert best_language("de-DE,fr;q=0.8,en;q=0.5") == "fr"
    assert best_language("en-GB,en;q=0.9") == "en"
    assert best_language("de, es;q=0.5") == "en"
    assert best_language("fr;q=0, en;q=0.1") == "en"


def test_every_string_is_in_both_languages() -> None:
    locales = frontend_dir() / "locales"
    english = json.loads((locales / "en.json").read_text(encoding="utf-8"))
    french = json.loads((locales / "fr.json").read_text(encoding="utf-8"))
    used: set[str] = set()
    for path in [*Path(frontend_dir()).rglob("*.html"), *Path(frontend_dir()).rglob("*.js")]:
        used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_.]+)["']""", path.read_text(encoding="utf-8")))

    assert set(english) == set(french)
    assert {key for key in used if not key.endswith(".")} - set(english) == set()  # "role." ~ role: a prefix
