"""The TM20 dashboard pages, served by the hub's real HTTP server with a simulated terminal connected over a
real socket, read with the session cookies of a real log-in. The live parts and the buttons are exercised in
Chromium by test_pages_in_a_browser (skipped without /usr/bin/chromium)."""

from __future__ import annotations

import html as html_module
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from hub.core import Hub
from hub.tenants import Tenant
from hub.testing import HubFactory, free_port, wait_for
from integrations.tm20.const import MANUFACTURER
from integrations.tm20.simulator import TerminalSimulator

SN = "ZX0006827500"
PASSWORD = "correct horse battery"
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"


@dataclass
class Site:
    hub: Hub
    tenant: Tenant
    terminal: TerminalSimulator


@pytest.fixture
async def site(hub_factory: HubFactory) -> AsyncIterator[Site]:
    port = free_port()
    hub = await hub_factory(
        http=True,
        config={"gatehouse": {"name": "Lakeside School"}, "tm20": {"host": "127.0.0.1", "port": port}},
    )
    tenant = await hub.tenants.create("school", "Lakeside School")
    await hub.devices.claim(tenant.id, MANUFACTURER, SN, "Front gate")
    await hub.devices.claim(tenant.id, MANUFACTURER, "AYTE16052143", "Gym door")  # claimed, never connected
    for role in ("viewer", "operator", "admin"):
        await hub.auth.create_user(role, PASSWORD, tenant_id=tenant.id, role=role, name=f"Ana {role}")
    terminal = TerminalSimulator(f"ws://127.0.0.1:{port}/ws/tm20/", SN, reconnect=False)
    await terminal.start()
    await wait_for(lambda: hub.devices.get_by_serial(MANUFACTURER, SN).status == "ACTIVE")  # type: ignore[union-attr]
    await hub.data["tm20"].people.create(tenant.id, enrollid=7, name="Léa <Martin>")
    records = terminal.make_logs(1, enrollid=7, mode=3)
    records.append({"enrollid": 0, "time": terminal.now(), "mode": 0, "inout": 1, "event": 5})
    assert (await terminal.send_logs(records))["result"] is True
    yield Site(hub, tenant, terminal)
    await terminal.close()


async def browser_for(site: Site, username: str) -> aiohttp.ClientSession:
    # unsafe=True: the hub is on 127.0.0.1, and aiohttp's jar drops cookies of IP hosts otherwise.
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    body = {"username": username, "password": PASSWORD, "session": True}
    async with session.post(site.hub.http.url + "/api/auth/login", json=body) as response:
        assert response.status == 200, await response.text()
    return session


async def get(site: Site, username: str, path: str, **kwargs: object) -> tuple[int, str]:
    session = await browser_for(site, username)
    async with session, session.get(site.hub.http.url + path, allow_redirects=False, **kwargs) as response:  # type: ignore[arg-type]
        return response.status, await response.text()


async def test_the_terminals_page_lists_both_terminals_with_their_status(site: Site) -> None:
    status, html = await get(site, "viewer", "/tm20")
    assert status == 200, html
    assert 'href="/tm20"' in html and 'aria-current="page"' in html  # the header links the integration's page
    assert 'id="people-link"' not in html  # the people page is for administrators
    assert "Front gate" in html and "Gym door" in html
    assert 'data-connection="online"' in html and 'data-connection="pending"' in html
    assert 'href="/tm20/ZX0006827500"' in html
    assert "tfs30" in html  # model from the registration


async def test_a_terminal_page_shows_logs_people_and_the_door_button(site: Site) -> None:
    status, html = await get(site, "operator", f"/tm20/{SN}")
    assert status == 200, html
    text = html_module.unescape(html)
    assert "Léa <Martin>" in text and "<Martin>" not in html  # user input is escaped
    assert "Forced open" in html  # the door event, in words
    assert text.count('data-log-id="') == 2
    assert 'id="open-door"' in html and "/static/tm20/terminal.js" in html
    assert "Card" in html


async def test_a_viewer_sees_no_door_button(site: Site) -> None:
    status, html = await get(site, "viewer", f"/tm20/{SN}")
    assert status == 200
    assert 'id="open-door"' not in html


async def test_an_unknown_terminal_is_the_404_page(site: Site) -> None:
    status, html = await get(site, "viewer", "/tm20/NOPE0001")
    assert status == 404
    assert "NOPE0001" not in html or "Front gate" not in html


async def test_the_people_page_is_for_administrators(site: Site) -> None:
    status, _ = await get(site, "operator", "/tm20/people")
    assert status == 403
    status, html = await get(site, "admin", "/tm20/people")
    assert status == 200
    assert "Léa &lt;Martin&gt;" in html
    assert 'id="person-form"' in html and "/static/tm20/people.js" in html


async def test_the_pages_speak_french(site: Site) -> None:
    status, html = await get(site, "admin", "/tm20", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert status == 200
    assert '<html lang="fr">' in html
    assert "Terminaux" in html and "En ligne" in html and "Jamais connecté" in html
    status, html = await get(site, "admin", f"/tm20/{SN}", cookies={"lang": "fr"})
    assert "Ouvrir la porte" in html and "Ouverture forcée" in html


async def test_the_static_files_are_served(site: Site) -> None:
    async with aiohttp.ClientSession() as session, session.get(site.hub.http.url + "/static/tm20/terminal.js") as r:
        assert r.status == 200
        assert "subscribe_events" in await r.text()


async def test_without_a_tm20_section_the_page_says_how_to_start_the_endpoint(hub_factory: HubFactory) -> None:
    hub = await hub_factory(http=True)
    tenant = await hub.tenants.create("school", "Lakeside School")
    await hub.auth.create_user("viewer", PASSWORD, tenant_id=tenant.id, role="viewer")
    status, html = await get(Site(hub, tenant, None), "viewer", "/tm20")  # type: ignore[arg-type]
    assert status == 200
    assert 'id="tm20-not-configured"' in html


# ------------------------------------------------------------------------------------------------ browser


@pytest.mark.skipif(not Path(CHROMIUM).exists() and not shutil.which("chromium"), reason="needs Chromium")
async def test_pages_in_a_browser(site: Site) -> None:
    """Open the door from the page (it reaches the simulator), see a new log arrive live, add a person."""
    from playwright.async_api import async_playwright, expect

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        context = await browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
        context.set_default_timeout(10_000)
        page = await context.new_page()
        await page.goto(site.hub.http.url + "/login?next=/tm20")
        await page.fill("#login-username", "admin")
        await page.fill("#login-password", PASSWORD)
        await page.click("button[type=submit]")
        await expect(page.locator("#tm20-terminals")).to_be_visible()
        await page.screenshot(path=str(SCREENSHOTS / "tm20-terminals.png"), full_page=True)

        await page.click(f'a[href="/tm20/{SN}"]')
        await expect(page.locator("#live")).to_have_attribute("data-state", "live")
        await page.click("#open-door")
        await expect(page.locator("#door-result")).to_have_text("Door opened")
        assert site.terminal.door_openings == 1

        await site.terminal.send_logs(site.terminal.make_logs(1, enrollid=7, mode=1))
        await expect(page.locator("#tm20-logs-body tr.is-new")).to_contain_text("Léa <Martin>")
        await page.screenshot(path=str(SCREENSHOTS / "tm20-terminal.png"), full_page=True)

        await page.goto(site.hub.http.url + "/tm20/people")
        await page.click("#new-person summary")
        await page.fill("#person-enrollid", "12")
        await page.fill("#person-name", "Tom Weber")
        await page.fill("#person-card", "445566")
        await page.click("#person-form button[type=submit]")
        await expect(page.locator("#tm20-people")).to_contain_text("Tom Weber")
        await wait_for(lambda: 12 in site.terminal.users)
        await page.screenshot(path=str(SCREENSHOTS / "tm20-people.png"), full_page=True)
        await browser.close()
