"""The Hikvision pages in a real browser (Debian's Chromium through Playwright) against the hub's real HTTP server
and a simulated access terminal: a scan appears live, the door buttons open the device's door, the claim form
claims a serial. Screenshots go to ``test-artifacts/screenshots/`` like the core's browser tests.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.auth.scope import Role
from hub.testing import wait_for

from .conftest import HikSite

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
PASSWORD = "a long enough password"
SERIAL = "DS-K1T671M0008"

if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing under CI: run `make setup` (it installs Debian's chromium)")
    pytest.skip(f"{CHROMIUM} is not installed (run `make setup`)", allow_module_level=True)

from playwright.async_api import Page, async_playwright, expect  # noqa: E402  (skipped above without a browser)


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        context = await browser.new_context(
            viewport={"width": 1280, "height": 860}, locale="en-US", timezone_id="Europe/Paris"
        )
        context.set_default_timeout(10_000)
        yield await context.new_page()
        await context.close()
        await browser.close()


async def sign_in(page: Page, site: HikSite, role: Role) -> None:
    username = f"officer-{role}"
    await site.hub.auth.create_user(username, PASSWORD, tenant_id=site.tenant.id, role=role, name="Ana Ruiz")
    response = await page.request.post(
        site.hub.http.url + "/api/auth/login", data={"username": username, "password": PASSWORD, "session": True}
    )
    assert response.ok, await response.text()


async def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def test_a_scan_appears_live_and_the_door_opens(site: HikSite, page: Page) -> None:
    simulator = await site.device_sim(SERIAL, kind="access", doors=2)
    await site.add_device(simulator, name="Staff door")
    await wait_for(lambda: simulator.stream_count == 1)
    await sign_in(page, site, Role.OPERATOR)

    await page.goto(f"{site.hub.http.url}/hikvision/{SERIAL}")
    await expect(page.locator("#live")).to_have_attribute("data-state", "live")
    serial_no = simulator.emit_access(5, 75, employee_no="42", name="Ada Lovelace")

    row = page.locator("#hikvision-events-body tr").first
    await expect(row).to_contain_text("Ada Lovelace")
    await expect(row).to_contain_text("Granted")
    assert await row.get_attribute("data-live-key") == f"{SERIAL}:{serial_no}"

    await page.locator('button[data-door-command="alwaysOpen"][data-door="2"]').click()
    await expect(page.locator("#door-result")).to_contain_text("Door 2")
    await expect(page.locator('[data-door-state="2"]')).to_have_text("unlocked")
    await expect(page.locator('[data-door-mode="2"]')).to_have_text("held open")
    assert simulator.access.doors[1].mode == "alwaysOpen"
    await shoot(page, "hikvision_device")


async def test_claiming_a_serial_from_the_devices_page(site: HikSite, page: Page) -> None:
    await sign_in(page, site, Role.ADMIN)
    await page.goto(f"{site.hub.http.url}/hikvision")

    await page.get_by_label("Serial number").fill("FN2090414")
    await page.get_by_role("button", name="Claim").click()

    await expect(page.locator("#claim-result")).to_contain_text("FN2090414 is claimed")
    claimed = site.device("FN2090414")
    assert claimed is not None and claimed.tenant_id == site.tenant.id and claimed.status == "PENDING"
    await expect(page.locator('#hikvision-devices tr[data-serial="FN2090414"]')).to_contain_text("Waiting")
    await shoot(page, "hikvision_devices")
