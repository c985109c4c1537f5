"""The stations board, starting a session and its printable ticket, served by the hub's real HTTP server and read
with the session cookies of a real log-in, for each role and tenant. The live parts and the buttons run in
Chromium in tests/browser/test_stations_board.py."""

from __future__ import annotations

import re

import aiohttp

from hub.testing import HubFactory
from integrations.stations.pages import remaining_text
from integrations.stations.visitors import create_visitor, erase_visitor

from .pages_support import PACKAGE, Library, card, context_json, library

__all__ = ["library"]


# ------------------------------------------------------------------------------------------------ the board


async def test_the_board_shows_each_station_of_the_tenant_with_its_status(library: Library) -> None:
    manager = library.manager
    desk, _ = await manager.create_station(library.tenant.id, "Desk <1>", address="192.0.2.11", actor="test")
    repair, _ = await manager.create_station(library.tenant.id, "Repair bench", actor="test")
    await manager.set_status(repair.id, "maintenance", actor="test")
    await manager.create_station(library.museum.id, "Museum kiosk", actor="test")

    status, page = await library.get("viewer", "/stations")

    assert status == 200, page
    assert 'href="/stations"' in page and 'aria-current="page"' in page  # in the header, and current
    assert "Desk &lt;1&gt;" in page and "Desk <1>" not in page  # names are escaped
    assert "Museum kiosk" not in page  # another tenant's
    assert 'data-status="offline"' in card(page, "Desk <1>")  # no agent has ever connected
    assert "<code>192.0.2.11</code>" in card(page, "Desk <1>")
    assert 'data-status="maintenance"' in card(page, "Repair bench")
    assert re.search(r'data-count="offline">\s*1<', page) and re.search(r'data-count="maintenance">\s*1<', page)
    assert "data-maintenance" not in page and "data-terminate" not in page  # viewers only look
    follow = context_json(page)["follow"]
    assert isinstance(follow, dict)
    assert set(follow[desk.id]) == {"status", "session"}  # the entities board.js follows
    assert follow[desk.id]["status"] in manager.station_entity_ids(desk.id)


async def test_an_active_session_shows_its_countdown_visitor_and_actions(library: Library) -> None:
    manager, tenant = library.manager, library.tenant
    station, _ = await manager.create_station(tenant.id, "Desk 2", address="192.0.2.12", actor="test")
    visitor = await create_visitor(manager, tenant.id, {"last_name": "Martin", "first_name": "Ana", "consent": True},
                                   actor="test")  # fmt: skip
    waiting = await manager.create_session(tenant.id, 45, visitor_id=visitor.id, actor="test")
    other = await manager.create_session(tenant.id, 30, actor="test")
    active = await manager.validate_code(waiting.code, station_id=station.id, client="127.0.0.1")

    status, page = await library.get("operator", "/stations")

    assert status == 200, page
    desk = card(page, "Desk 2")
    assert f'data-session-id="{active.id}"' in desk
    assert f'data-ends-at="{active.as_dict()["ends_at"]}"' in desk
    assert re.search(r">\s*(45:00|44:5\d)\s*<", desk)  # rendered complete, then counted down in the browser
    assert "Ana Martin" in desk
    assert f'data-add-time="{active.id}"' in desk and f'data-terminate="{active.id}"' in desk
    assert 'data-to="maintenance"' in desk
    # The code still waiting to be used is listed for operators, with a way to cancel it.
    assert f'data-waiting-session="{other.id}"' in page and other.code in page
    assert waiting.code not in page  # an active session's code is not shown on the board

    _, viewer_page = await library.get("viewer", "/stations")
    assert other.code not in viewer_page  # codes are for operators


async def test_the_board_without_the_stations_section_says_how_to_set_it_up(hub_factory: HubFactory) -> None:
    hub = await hub_factory(http=True)
    tenant = await hub.tenants.create("library", "Town Library")
    site = Library(hub, None, tenant, tenant)  # no manager: not set up
    status, page = await site.get("viewer", "/stations")
    await site.close()
    assert status == 200
    assert 'id="stations-not-configured"' in page and "add a stations: section" in page


async def test_pages_need_a_session(library: Library) -> None:
    async with (
        aiohttp.ClientSession() as anonymous,
        anonymous.get(library.hub.http.url + "/stations/visitors", allow_redirects=False) as response,
    ):
        assert response.status == 302
        assert response.headers["Location"] == "/login?next=%2Fstations%2Fvisitors"


# -------------------------------------------------------------------------------------- sessions and tickets


async def test_starting_a_session_is_for_operators_and_offers_stations_and_visitors(library: Library) -> None:
    manager, tenant = library.manager, library.tenant
    station, _ = await manager.create_station(tenant.id, "Desk 3", actor="test")
    visitor = await create_visitor(manager, tenant.id, {"last_name": "Durand", "consent": True}, actor="test")
    gone = await create_visitor(manager, tenant.id, {"last_name": "Gone", "consent": True}, actor="test")
    await erase_visitor(manager, gone, actor="test")

    assert (await library.get("viewer", "/stations/sessions/new"))[0] == 403
    status, page = await library.get("operator", f"/stations/sessions/new?station={station.id}")

    assert status == 200, page
    assert f'<option value="{station.id}" selected>Desk 3' in page
    assert f'<option value="{visitor.id}"' in page and "Durand" in page
    assert gone.id not in page  # an erased visitor cannot be given a session
    assert 'name="minutes"' in page and 'data-minutes="60"' in page
    assert 'name="tenant_id"' not in page  # the operator's own tenant


async def test_the_ticket_shows_the_code_big_to_operators_only(library: Library) -> None:
    manager, tenant = library.manager, library.tenant
    session = await manager.create_session(tenant.id, 90, actor="test")

    status, page = await library.get("operator", f"/stations/sessions/{session.id}")
    assert status == 200, page
    assert f'<p class="ticket-code" id="ticket-code">{session.code}</p>' in page
    assert 'id="print-ticket"' in page and "@media print" not in page  # the print stylesheet is a file
    assert "/static/stations/stations.css" in page and "Any available station" in page
    assert "Town Library" in page  # the hub's name heads the printed ticket

    _, viewer_page = await library.get("viewer", f"/stations/sessions/{session.id}")
    assert session.code not in viewer_page and 'id="print-ticket"' not in viewer_page

    assert (await library.get("curator", f"/stations/sessions/{session.id}"))[0] == 404  # another tenant
    assert (await library.get("operator", "/stations/sessions/no-such-session"))[0] == 404

    await manager.terminate(session.id, actor="test")
    _, finished = await library.get("operator", f"/stations/sessions/{session.id}")
    assert session.code not in finished and "Ended by an operator" in finished


async def test_the_print_stylesheet_keeps_only_the_ticket(library: Library) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(library.hub.http.url + "/static/stations/stations.css") as response,
    ):
        assert response.status == 200
        css = await response.text()
    print_rules = css.split("@media print", 1)[1]
    assert ".topbar" in print_rules and ".no-print" in print_rules and ".ticket-code" in print_rules


def test_remaining_time_reads_like_the_browser_writes_it() -> None:
    assert [remaining_text(s) for s in (None, 0, 59, 600, 3599, 3600, 3725)] == [
        "\u2013",
        "00:00",
        "00:59",
        "10:00",
        "59:59",
        "1:00:00",
        "1:02:05",
    ]
    script = (PACKAGE / "static" / "countdown.js").read_text(encoding="utf-8")
    assert "hours ? `${hours}:${two(minutes)}:${two(secs)}` : `${two(minutes)}:${two(secs)}`" in script
