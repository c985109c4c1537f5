"""The automation pages in a real browser (Debian's Chromium driven by Playwright) against the hub's real HTTP server:
an automation created from a blueprint through the generated form runs when its event arrives, its trace shows the
run, and the notification it made appears on the overview live and is dismissed; the YAML editor lists refused
keys with their lines; the list turns an automation off.

Screenshots land in ``test-artifacts/screenshots/`` like the other browser tests.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page, expect

from hub.core import Hub
from hub.http.pages.notifications import notification_manager
from hub.notifications import NotificationManager
from hub.tenants import Tenant
from hub.testing import HubFactory, wait_for

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery"
SESSION_BLUEPRINT = "gatehouse/station_session_ending.yaml"


def notes(hub: Hub) -> NotificationManager:
    """The hub's notifications (started by the ``notify:`` section)."""
    manager = notification_manager(hub)
    assert manager is not None
    return manager


@pytest.fixture
async def site(hub_factory: HubFactory) -> Hub:
    return await hub_factory(http=True, config={"gatehouse": {"name": "Lakeside School"}, "notify": {}})


@pytest.fixture
async def school(site: Hub) -> Tenant:
    tenant = await site.tenants.create("school", "Lakeside School")
    await site.auth.create_user("officer", PASSWORD, tenant_id=tenant.id, role="owner", name="Ana Ruiz")
    return tenant


@pytest.fixture
async def page(context: BrowserContext, site: Hub) -> Page:
    page = await context.new_page()
    response = await page.request.post(
        site.http.url + "/api/auth/login", data={"username": "officer", "password": PASSWORD, "session": True}
    )
    assert response.ok, await response.text()
    return page


async def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


# ------------------------------------------------------------------------------------------------ scenarios


async def test_from_a_blueprint_to_a_run_its_trace_and_its_notification(site: Hub, school: Tenant, page: Page) -> None:
    await page.goto(site.http.url + "/automations")
    await page.get_by_role("link", name="New from a blueprint").click()
    await page.get_by_label("Blueprint").select_option(SESSION_BLUEPRINT)  # choosing one shows its form
    await expect(page).to_have_url(re.compile(r"/automations/new\?blueprint=gatehouse%2Fstation_session_ending\.yaml$"))

    form = page.locator("#blueprint-form")
    await form.get_by_label("Name", exact=True).fill("Warn at station 3")
    await form.get_by_label(re.compile(r"^Station \(optional\)$")).fill("Station 3")
    minutes = form.get_by_label("Warn at most this many minutes before the end")
    await expect(minutes).to_have_value("5")  # the input's default
    await minutes.fill("10")
    await expect(form.get_by_label("Notify the dashboard too")).to_be_checked()
    await shoot(page, "automation_from_blueprint")
    await form.get_by_role("button", name="Create automation").click()

    await expect(page).to_have_url(re.compile(r"/automations#"))
    row = page.locator("#automations-table tbody tr", has_text="Warn at station 3")
    await expect(row).to_be_visible()
    await expect(row.locator(".last-triggered")).to_have_text("never")
    await shoot(page, "automations")
    (automation,) = site.automations.all(school.id)
    assert automation.blueprint_path == SESSION_BLUEPRINT

    # The station says its session ends: the list shows the run without reloading (another station: no run).
    await expect(page.locator("#live")).to_have_attribute("data-state", "live")
    await page.evaluate("window.notReloaded = true")
    site.bus.fire("station_session_ending", {"station": "Station 9", "minutes_left": 2}, tenant_id=school.id)
    site.bus.fire("station_session_ending", {"station": "Station 3", "minutes_left": 4}, tenant_id=school.id)
    await expect(row.locator(".last-triggered")).not_to_have_text("never")
    assert await page.evaluate("window.notReloaded") is True

    # Its notification is on the overview; the next one appears there without reloading.
    await page.goto(site.http.url + "/")
    await expect(page.locator(".notification", has_text="The session on Station 3 ends in 4 minutes.")).to_be_visible()
    await expect(page.locator("#live")).to_have_attribute("data-state", "live")
    await page.evaluate("window.notReloaded = true")
    site.bus.fire("station_session_ending", {"station": "Station 3", "minutes_left": 1}, tenant_id=school.id)
    latest = page.locator(".notification", has_text="The session on Station 3 ends in 1 minutes.")
    await expect(latest).to_be_visible()
    assert await page.evaluate("window.notReloaded") is True
    await shoot(page, "overview_notification")

    # The newest run's trace: what triggered it and each step.
    await wait_for(lambda: all(trace.result for trace in site.automations.traces(automation.id)))
    await page.goto(site.http.url + "/automations")
    await row.get_by_role("link", name="Runs").click()
    trace = page.locator("#trace")
    await expect(trace.locator("#trace-result")).to_have_text("finished")
    await expect(trace.locator(".trace-trigger")).to_contain_text("station_session_ending")
    await expect(trace.locator('.trace-step[data-path="condition/0"]')).to_be_visible()
    await expect(trace.locator('.trace-step[data-path="action/0"]')).to_be_visible()
    await expect(trace.locator("#trace-variables")).to_contain_text('"minutes_left": 1')
    await expect(page.locator(".trace-picker li")).to_have_count(3)  # Station 9's run stopped at its condition
    await shoot(page, "automation_trace")

    await page.goto(site.http.url + "/")
    await latest.get_by_role("button", name="Dismiss").click()
    await expect(latest).to_have_count(0)
    await wait_for(lambda: len(notes(site).all(school.id)) == 1)


async def test_the_yaml_editor_names_each_refused_key(site: Hub, school: Tenant, page: Page) -> None:
    await page.goto(site.http.url + "/automations/new/yaml")
    editor = page.get_by_label("Configuration (YAML)")
    text = (
        "id: front_door\n"
        "alias: Front door opened\n"
        "triggers:\n"
        "  - trigger: event\n"
        "    event_type: door_opened\n"
        "actions:\n"
        "  - action: nowhere.nothing\n"
    )
    await editor.fill(text)
    await page.get_by_role("button", name="Save").click()
    error = page.locator('.automation-field-error[data-key="actions.0.action"]')
    await expect(error).to_contain_text("line 7:")
    await shoot(page, "automation_yaml_errors")
    assert site.automations.get("front_door") is None

    await editor.fill(text.replace("nowhere.nothing", "notify.persistent_notification\n    data:\n      message: hi"))
    await page.get_by_role("button", name="Save").click()
    await expect(page).to_have_url(site.http.url + "/automations/front_door")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Front door opened")
    await expect(page.get_by_label("Configuration (YAML)")).to_have_value(re.compile(r"tenant: school"))


async def test_turning_an_automation_off_from_the_list(site: Hub, school: Tenant, page: Page) -> None:
    config = {"id": "greeting", "alias": "Greeting", "triggers": [{"trigger": "event", "event_type": "hello"}],
              "actions": [{"action": "notify.persistent_notification", "data": {"message": "hello"}}]}  # fmt: skip
    await site.automations.save(config, tenant_id=school.id)
    await page.goto(site.http.url + "/automations")
    row = page.locator('tr[data-automation-id="greeting"]')
    await row.get_by_role("checkbox").uncheck()
    await expect(row.locator(".badge")).to_have_text("off")
    await wait_for(lambda: site.automations.get("greeting").enabled is False)  # type: ignore[union-attr]
    await page.reload()
    await expect(page.locator('tr[data-automation-id="greeting"]').get_by_role("checkbox")).not_to_be_checked()


async def test_a_missing_blueprint_input_is_shown_next_to_its_field(site: Hub, school: Tenant, page: Page) -> None:
    await page.goto(site.http.url + "/automations/new?blueprint=gatehouse/person_after_hours.yaml")
    form = page.locator("#blueprint-form")
    await form.get_by_role("button", name="Create automation").click()  # no camera chosen
    error = form.locator('.field-error[data-error-for="camera"]')
    await expect(error).to_have_text("required input 'Camera' is missing")
    await expect(form.locator("#input-camera")).to_have_attribute("aria-invalid", "true")
    assert site.automations.all(school.id) == []
