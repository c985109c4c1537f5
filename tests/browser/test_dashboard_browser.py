"""The dashboard in a real browser: Debian's Chromium driven by Playwright against the hub's real HTTP server,
with the demo integration's simulated school for data.

Each scenario saves a screenshot under ``test-artifacts/screenshots/`` (look at them when changing a page).
Without ``/usr/bin/chromium`` the tests are skipped on a developer's machine (``make setup`` installs it) and
fail under CI, where a skipped browser test would hide a broken dashboard.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, expect

from hub.core import Hub
from hub.store.history import event_records
from hub.tenants import Tenant
from hub.testing import HubFactory

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery"
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
async def site(hub_factory: HubFactory) -> Hub:
    """The demo school: five devices, doors, sensors that change every 0.2 s, access events."""
    return await hub_factory(http=True, config={"gatehouse": {"name": "Lakeside School"}, "demo": {"interval": 0.2}})


@pytest.fixture
async def school(site: Hub) -> Tenant:
    tenant = site.tenants.get_by_code("demo")
    assert tenant is not None
    await site.auth.create_user("officer", PASSWORD, tenant_id=tenant.id, role="owner", name="Ana Ruiz")
    return tenant


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


async def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def sign_in(page: Page, site: Hub) -> None:
    """The session cookies through the REST API (the form itself has its own test)."""
    response = await page.request.post(
        site.http.url + "/api/auth/login", data={"username": "officer", "password": PASSWORD, "session": True}
    )
    assert response.ok, await response.text()


async def open_live(page: Page, url: str) -> None:
    await page.goto(url)
    await expect(page.locator("#live")).to_have_attribute("data-state", "live")


# ------------------------------------------------------------------------------------------------ scenarios


async def test_signing_in_through_the_form(site: Hub, school: Tenant, page: Page) -> None:
    await page.goto(site.http.url + "/events")
    await expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)events$"))
    await page.get_by_label("Username").fill("officer")
    await page.get_by_label("Password").fill("wrong password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#login-error")).to_have_text("Wrong username or password.")
    await shoot(page, "login")

    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()

    await expect(page).to_have_url(site.http.url + "/events")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Events")
    await expect(page.locator(".user-name")).to_have_text("Ana Ruiz")


async def test_a_state_change_appears_without_reloading(site: Hub, school: Tenant, page: Page) -> None:
    site.states.set("sensor.visitors_today", "12", {"friendly_name": "Visitors today"}, tenant_id=school.id)
    await sign_in(page, site)
    await open_live(page, site.http.url + "/")
    row = page.locator('.entity-row[data-entity-id="sensor.visitors_today"]')
    await expect(row.locator(".badge")).to_have_text("12")
    await page.evaluate("window.notReloaded = true")

    site.states.set("sensor.visitors_today", "13", {"friendly_name": "Visitors today"}, tenant_id=school.id)

    await expect(row.locator(".badge")).to_have_text("13")
    assert await page.evaluate("window.notReloaded") is True
    await expect(page.locator(".device-card")).to_have_count(6)  # five demo devices and "Other entities"
    await shoot(page, "overview")


async def test_claiming_a_device_by_serial(site: Hub, school: Tenant, page: Page) -> None:
    await sign_in(page, site)
    await page.goto(site.http.url + "/devices/claim")

    await page.get_by_label("Manufacturer").select_option("Demo")
    await page.get_by_label("Serial number").fill("DEMO-TM20-0042")
    await page.get_by_label("Name").fill("Back gate terminal")
    await page.get_by_role("button", name="Claim", exact=True).click()

    result = page.locator("#claim-result")
    await expect(result.locator(".claim-result-status")).to_have_text("Pending")
    await expect(result.locator(".claim-result-name")).to_have_text("Back gate terminal")
    device = site.devices.get_by_serial("Demo", "DEMO-TM20-0042")
    assert device is not None and device.tenant_id == school.id
    await shoot(page, "claim")

    other = await site.tenants.create("other", "Other School")
    await site.devices.claim(other.id, "Demo", "THEIRS-0001")
    await page.get_by_label("Manufacturer").select_option("Demo")  # the form was reset to the first manufacturer
    await page.get_by_label("Serial number").fill("THEIRS-0001")
    await page.get_by_role("button", name="Claim", exact=True).click()
    await expect(page.locator('[data-error-for="serial_number"]')).to_contain_text("Another organisation")


async def test_acknowledging_an_event(site: Hub, school: Tenant, page: Page) -> None:
    gate = site.devices.get_by_serial("Demo", "DEMO-TM20-0001")
    assert gate is not None
    site.bus.fire("access", {"device_id": gate.id, "person": "Night Visitor", "granted": False, "method": "card"},
                  tenant_id=school.id)  # fmt: skip
    await site.recorder.commit_barrier()
    await sign_in(page, site)
    await open_live(page, site.http.url + "/events?type=access&acknowledged=no")
    row = page.locator("#events-body tr", has_text="Night Visitor").first

    await row.get_by_role("button", name="Acknowledge").click()

    await expect(row.locator(".ack-done")).to_be_visible()
    records = await event_records(site.database, event_type="access", tenant_id=school.id, acknowledged=True)
    assert [record.event.data["person"] for record in records] == ["Night Visitor"]

    site.bus.fire("access", {"device_id": gate.id, "person": "Late Visitor", "granted": True}, tenant_id=school.id)
    await expect(page.locator("#events-body tr", has_text="Late Visitor").first).to_be_visible()  # live, no reload
    await shoot(page, "events")


async def test_switching_to_french(site: Hub, school: Tenant, page: Page) -> None:
    await sign_in(page, site)
    await open_live(page, site.http.url + "/health")

    await page.get_by_role("link", name="FR").click()

    await expect(page.locator("html")).to_have_attribute("lang", "fr")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Santé des appareils")
    await expect(page.locator("#live .live-text")).to_have_text("En direct")
    await expect(page.get_by_role("link", name="Vue d\u2019ensemble")).to_be_visible()


# ------------------------------------------------------------------------------------------- every page


async def test_each_page_in_the_browser(site: Hub, school: Tenant, page: Page) -> None:
    """Every page loads without a script error; a screenshot of each for people to look at."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await sign_in(page, site)
    gate = site.devices.get_by_serial("Demo", "DEMO-STATION-0001")
    assert gate is not None
    await site.recorder.commit_barrier()

    await open_live(page, f"{site.http.url}/devices/{gate.id}")
    await expect(page.locator("#chart svg")).to_be_visible()
    await shoot(page, "device")

    await open_live(page, site.http.url + "/health")
    await expect(page.locator("#health-table tbody tr")).to_have_count(5)
    await shoot(page, "health")

    await page.goto(site.http.url + "/integrations")
    await page.get_by_role("button", name="Add an integration").click()
    await page.get_by_label("Interval").fill("0")
    await page.get_by_role("button", name="Add", exact=True).click()
    await expect(page.locator('[data-error-for="interval"]')).to_be_visible()  # the 400's fields, by the field
    await shoot(page, "integrations")

    await page.goto(site.http.url + "/users")
    await page.locator("#new-key summary").click()
    await page.get_by_label("Name", exact=True).last.fill("Gate controller")
    await page.get_by_role("button", name="Create the key").click()
    await expect(page.locator("#key-secret-value")).not_to_be_empty()
    await shoot(page, "users")

    await page.goto(site.http.url + "/audit")
    await expect(page.locator("#audit-table tbody tr").first).to_be_visible()
    await shoot(page, "audit")

    await page.set_viewport_size(PHONE)
    await open_live(page, site.http.url + "/")
    await expect(page.locator(".nav-toggle")).to_be_visible()
    await expect(page.locator("#main-nav")).to_be_hidden()
    await shoot(page, "overview-390")
    await page.locator(".nav-toggle").click()
    await expect(page.get_by_role("link", name="Health")).to_be_visible()
    await page.goto(site.http.url + "/health")
    await shoot(page, "health-390")

    assert errors == []


async def test_onboarding_creates_the_first_administrator(
    hub_factory: HubFactory, browser: Browser, context: BrowserContext
) -> None:
    hub = await hub_factory(http=True)
    page = await context.new_page()

    await page.goto(hub.http.url + "/")
    await expect(page).to_have_url(hub.http.url + "/onboarding")
    await page.get_by_label("Name", exact=True).fill("Platform Admin")
    await page.get_by_label("Username").fill("root")
    await page.get_by_label("Password").fill(PASSWORD)
    await shoot(page, "onboarding")
    await page.get_by_role("button", name="Create the administrator").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    assert hub.auth.has_users
