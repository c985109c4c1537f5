"""The stations board in a real browser (Debian's Chromium through Playwright) against the hub's real HTTP server,
with a simulated station agent on a real WebSocket: a librarian starts a session, the visitor types the code at the
station, the card goes busy and counts down, the librarian adds time and ends the session.

Screenshots land in ``test-artifacts/screenshots/`` (stations-*.png).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Dialog, Page, expect

from hub.core import Hub
from hub.testing import HubFactory, wait_for
from integrations.stations.manager import StationManager, manager_of
from integrations.stations.simulator import StationAgent
from integrations.stations.store import StationRecord

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery"


@dataclass
class Library:
    hub: Hub
    manager: StationManager
    station: StationRecord
    agent: StationAgent


@pytest.fixture
async def library(hub_factory: HubFactory) -> AsyncIterator[Library]:
    """One station, "Desk 1" at 192.0.2.11, its agent connected and heartbeating; the librarian (an operator)."""
    hub = await hub_factory(http=True, config={"gatehouse": {"name": "Town Library"}, "stations": {}})
    manager = manager_of(hub)
    assert manager is not None
    tenant = await hub.tenants.create("library", "Town Library")
    await hub.auth.create_user("librarian", PASSWORD, tenant_id=tenant.id, role="operator", name="Léa Petit")
    station, token = await manager.create_station(tenant.id, "Desk 1", address="192.0.2.11", actor="test")
    agent = StationAgent(hub.http.url, "192.0.2.11", token, heartbeat_interval=1.0, reconnect=False)
    await agent.start()
    await wait_for(lambda: manager.status_of(station.id) == "available")
    yield Library(hub, manager, station, agent)
    await agent.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


async def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def sign_in(page: Page, hub: Hub) -> None:
    response = await page.request.post(
        hub.http.url + "/api/auth/login", data={"username": "librarian", "password": PASSWORD, "session": True}
    )
    assert response.ok, await response.text()


def seconds(text: str) -> int:
    """ "39:58" or "1:02:05" as seconds."""
    parts = [int(part) for part in text.strip().split(":")]
    total = 0
    for part in parts:
        total = total * 60 + part
    return total


async def accept(dialog: Dialog) -> None:
    await dialog.accept()


async def test_a_session_from_code_to_countdown_to_the_end(library: Library, page: Page) -> None:
    hub, agent, station = library.hub, library.agent, library.station
    await sign_in(page, hub)
    await page.goto(hub.http.url + "/stations")
    await expect(page.locator("#live")).to_have_attribute("data-state", "live")
    desk = page.locator(f'.station-card[data-station-id="{station.id}"]')
    await expect(desk.locator("[data-station-status]")).to_have_text("Available")

    # Start a session at this station: 30 minutes, no visitor; the ticket shows the code, big and printable.
    await desk.get_by_role("link", name="Start a session here").click()
    await expect(page.get_by_label("Station", exact=True)).to_have_value(station.id)
    await page.get_by_role("button", name="30 min").click()
    await page.get_by_role("button", name="Get the code").click()
    code_element = page.locator("#ticket-code")
    await expect(code_element).to_have_text(re.compile(r"^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{6}$"))
    await expect(page.get_by_role("button", name="Print")).to_be_visible()
    await expect(page.locator("[data-session-status]")).to_have_text("Waiting for the code")
    code = (await code_element.text_content() or "").strip()
    await page.emulate_media(media="print")
    await expect(page.locator(".topbar")).to_be_hidden()  # the print stylesheet keeps only the ticket
    await expect(code_element).to_be_visible()
    await shoot(page, "stations-ticket-print")
    await page.emulate_media(media="screen")

    # The visitor types the code at the station: its agent validates it over the real WebSocket, as a station does.
    await agent.validate(code)
    await wait_for(lambda: agent.session_id is not None)
    await expect(page.locator("[data-session-status]")).to_have_text("In use")  # the ticket follows the session

    # The board: the card is busy and counts down from 30 minutes in the browser.
    await page.goto(hub.http.url + "/stations")
    await expect(desk.locator("[data-station-status]")).to_have_text("Busy")
    countdown = desk.locator("[data-ends-at]")
    await expect(countdown).to_have_text(re.compile(r"^(30:00|29:[0-5]\d)$"))
    first = seconds(await countdown.text_content() or "")
    await expect(countdown).not_to_have_text(await countdown.text_content() or "")  # it moves on its own
    assert seconds(await countdown.text_content() or "") < first
    await shoot(page, "stations-board-busy")

    # Add 10 minutes: the remaining time jumps by 10 minutes, and the agent is told the new end.
    await desk.get_by_label("Minutes to add").fill("10")
    await desk.get_by_role("button", name="Add time").click()
    await expect(countdown).to_have_text(re.compile(r"^(40:00|39:[0-5]\d)$"))
    assert seconds(await countdown.text_content() or "") > first + 500
    await wait_for(lambda: agent.remaining is not None and agent.remaining > 30 * 60)

    # A bad amount is refused by the hub, which says what is wrong; nothing changes.
    await desk.get_by_label("Minutes to add").fill("0")
    await desk.get_by_role("button", name="Add time").click()
    await expect(page.locator("#toast")).to_contain_text("minutes")
    assert seconds(await countdown.text_content() or "") > 38 * 60

    # End the session (after the confirmation): the card is available again, the agent's session closed.
    page.once("dialog", accept)
    await desk.get_by_role("button", name="End session").click()
    await expect(desk.locator("[data-station-status]")).to_have_text("Available")
    await expect(desk.locator("[data-ends-at]")).to_have_count(0)
    await wait_for(lambda: agent.session_id is None)
    await shoot(page, "stations-board-available")


async def test_station_upkeep_from_the_board_offline_maintenance_and_a_new_one(library: Library, page: Page) -> None:
    hub, manager, station = library.hub, library.manager, library.station
    await sign_in(page, hub)
    await page.goto(hub.http.url + "/stations")
    await expect(page.locator("#live")).to_have_attribute("data-state", "live")
    desk = page.locator(f'.station-card[data-station-id="{station.id}"]')
    await expect(desk.locator("[data-station-status]")).to_have_text("Available")
    await page.evaluate("window.notReloaded = true")

    await library.agent.close()
    await manager.sweep_offline(now=manager.clock() + manager.offline_after + 1)  # the offline job's sweep

    await expect(desk.locator("[data-station-status]")).to_have_text("Offline")
    await expect(desk).to_have_class(re.compile(r"\bstation-offline\b"))
    assert await page.evaluate("window.notReloaded") is True  # redrawn live, not reloaded

    # Maintenance from the card, and back.
    await desk.get_by_role("button", name="Maintenance").click()
    await expect(desk.locator("[data-station-status]")).to_have_text("Maintenance")
    await desk.get_by_role("button", name="Back in service").click()
    await expect(desk.locator("[data-station-status]")).to_have_text("Offline")

    # A new station from the board: its agent token is shown this once, and its card appears.
    await page.locator("#new-station summary").click()
    await page.get_by_label("Name", exact=True).fill("Desk 2")
    await page.get_by_label("IP address").fill("192.0.2.12")
    await page.get_by_label("MAC address").fill("not a mac")
    await page.get_by_role("button", name="Add the station").click()
    await expect(page.locator('[data-error-for="mac"]')).to_contain_text("MAC address")
    await page.get_by_label("MAC address").fill("00-11-22-aa-bb-cc")
    await page.get_by_role("button", name="Add the station").click()
    await expect(page.locator("#station-token")).to_be_visible()
    token = (await page.locator("#station-token-value").text_content() or "").strip()
    await expect(page.locator("#station-agent-url")).to_have_text(re.compile(r"/ws/station/192\.0\.2\.12$"))
    second = page.locator(".station-card", has_text="Desk 2")
    await expect(second.locator("[data-station-status]")).to_have_text("Offline")
    await expect(second).to_contain_text("00:11:22:AA:BB:CC")
    await shoot(page, "stations-board-new-station")
    agent = StationAgent(hub.http.url, "192.0.2.12", token, reconnect=False)
    await agent.start()  # the token shown works
    try:
        await expect(second.locator("[data-station-status]")).to_have_text("Available", timeout=15_000)
    finally:
        await agent.close()


async def test_registering_a_visitor_needs_consent_and_erasing_one_asks_first(library: Library, page: Page) -> None:
    hub = library.hub
    tenant = hub.tenants.get_by_code("library")
    assert tenant is not None
    await hub.auth.create_user("head", PASSWORD, tenant_id=tenant.id, role="admin", name="Head librarian")
    response = await page.request.post(
        hub.http.url + "/api/auth/login", data={"username": "head", "password": PASSWORD, "session": True}
    )
    assert response.ok, await response.text()
    await page.goto(hub.http.url + "/stations/visitors")
    await page.get_by_label("Last name").fill("Martin")
    await page.get_by_label("First name").fill("Ana")
    await page.get_by_label("ID document").fill("ID card 42")
    await page.get_by_role("button", name="Register", exact=True).click()
    await expect(page.locator('[data-error-for="consent"]')).to_contain_text("consent is required")

    await page.get_by_label(re.compile("GDPR consent")).check()
    await page.get_by_role("button", name="Register", exact=True).click()
    row = page.locator("#stations-visitors tbody tr", has_text="Ana Martin")
    await expect(row).to_contain_text("Given")
    await expect(row).to_contain_text("ID card 42")
    await shoot(page, "stations-visitors")

    # Erase on request: a confirmation first (dismissed: nothing happens), then the personal data is gone.
    page.once("dialog", lambda dialog: dialog.dismiss())
    await row.get_by_role("button", name="Erase").click()
    await expect(row).to_contain_text("Ana Martin")
    page.once("dialog", accept)
    await row.get_by_role("button", name="Erase").click()
    await expect(page.locator("#stations-visitors")).not_to_contain_text("Ana Martin")
    await expect(page.locator("#stations-visitors")).not_to_contain_text("ID card 42")
    visitors = await library.manager.store.visitors(tenant.id)
    assert all(visitor.last_name is None and visitor.erased_at is not None for visitor in visitors)
