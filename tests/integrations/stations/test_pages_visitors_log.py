"""The visitors and audit-log pages, and the French dashboard, served by the hub's real HTTP server and read with
the session cookies of a real log-in."""

from __future__ import annotations

import json
import re

from integrations.stations.pages import LOG_PAGE
from integrations.stations.visitors import create_visitor

from .pages_support import LOCALES, PACKAGE, Library, library

__all__ = ["library"]


# ------------------------------------------------------------------------------------------------- visitors


async def test_visitors_with_consent_search_and_erasure(library: Library) -> None:
    manager, tenant = library.manager, library.tenant
    ana = await create_visitor(
        manager, tenant.id, {"last_name": "Martin", "first_name": "Ana", "email": "ana@example.org",
                             "id_document": "ID card 42", "consent": True}, actor="test",
    )  # fmt: skip
    await create_visitor(manager, tenant.id, {"last_name": "Bernard", "consent": True}, actor="test")
    await create_visitor(manager, library.museum.id, {"last_name": "Elsewhere", "consent": True}, actor="test")

    status, page = await library.get("operator", "/stations/visitors")
    assert status == 200, page
    assert "Ana Martin" in page and "Bernard" in page and "Elsewhere" not in page
    assert "ana@example.org" in page and "ID card 42" in page
    assert page.count('class="badge state-excellent">Given') == 2
    assert 'id="visitor-consent"' in page and 'type="checkbox" required' in page  # the form needs consent
    assert "data-erase-visitor" not in page  # erasure is for administrators

    _, found = await library.get("operator", "/stations/visitors?q=mart")
    assert "Ana Martin" in found and "Bernard" not in found

    _, admin_page = await library.get("admin", "/stations/visitors")
    assert f'data-erase-visitor="{ana.id}"' in admin_page and "Erase Ana Martin&#39;s personal data" in admin_page


# ----------------------------------------------------------------------------------------------- audit log


async def test_the_log_names_who_did_what_where_and_filters(library: Library) -> None:
    manager, tenant = library.manager, library.tenant
    operator = await library.user_id("operator")
    station, _ = await manager.create_station(tenant.id, "Desk 4", actor=operator)
    session = await manager.create_session(tenant.id, 30, station_id=station.id, actor=operator, client="192.0.2.17")
    await manager.add_time(session.id, 15, actor=operator)

    status, page = await library.get("viewer", "/stations/log")
    assert status == 200, page
    rows = re.findall(r'<tr data-log-id="\d+" data-action="([a-z_.]+)">', page)
    assert rows == ["session.add_time", "session.create", "station.create"]  # newest first
    assert ">Time added<" in page and ">Code issued<" in page and ">Station added<" in page
    assert page.count(">operator<") == 3 and "Desk 4" in page and "<code>192.0.2.17</code>" in page
    assert f'href="/stations/sessions/{session.id}"' in page
    assert 'id="log-older"' not in page

    _, filtered = await library.get("viewer", "/stations/log?action=session.add_time")
    assert re.findall(r'data-action="([a-z_.]+)"', filtered) == ["session.add_time"]
    assert '<option value="session.add_time" selected>' in filtered


async def test_the_log_pages_back(library: Library) -> None:
    manager, tenant = library.manager, library.tenant
    for _ in range(LOG_PAGE + 5):
        await manager.create_session(tenant.id, 30, actor="test")
    _, first = await library.get("viewer", "/stations/log")
    ids = [int(value) for value in re.findall(r'data-log-id="(\d+)"', first)]
    assert len(ids) == LOG_PAGE
    older = re.search(r'id="log-older" href="/stations/log\?before_id=(\d+)"', first)
    assert older is not None and int(older.group(1)) == ids[-1]
    _, second = await library.get("viewer", f"/stations/log?before_id={ids[-1]}")
    assert len(re.findall(r'data-log-id="(\d+)"', second)) == 5 and 'id="log-older"' not in second


# -------------------------------------------------------------------------------------------- translations


async def test_the_board_in_french(library: Library) -> None:
    await library.manager.create_station(library.tenant.id, "Poste 1", actor="test")
    status, page = await library.get("operator", "/stations", lang="fr")
    assert status == 200
    assert '<html lang="fr">' in page
    assert "Postes publics" in page and "Hors ligne" in page and "Ouvrir une session" in page


def test_every_string_is_in_both_languages() -> None:
    english = json.loads((LOCALES / "en.json").read_text(encoding="utf-8"))
    french = json.loads((LOCALES / "fr.json").read_text(encoding="utf-8"))
    used: set[str] = set()
    for path in [*PACKAGE.rglob("*.html"), *PACKAGE.rglob("*.js"), PACKAGE / "pages.py"]:
        used |= set(re.findall(r"""\bt(?:\.get)?\(\s*["'`]([a-z0-9_.]+)["'`]""", path.read_text(encoding="utf-8")))
    assert set(english) == set(french)
    assert all(key.startswith("stations.") for key in english)
    own = {key for key in used if key.startswith("stations.") and not key.endswith(".")}  # "status." ~ s: prefixes
    assert own - set(english) == set()
    assert all((french[key] and french[key] != english[key]) or key in SAME_IN_BOTH for key in english)


#: Words that read the same in French.
SAME_IN_BOTH = {
    "stations.minutes",
    "stations.status.maintenance",
    "stations.maintenance.on",
    "stations.visitors.contact",
    "stations.visitors.email",
    "stations.visitors.photo",
    "stations.log.action",
    "stations.log.session",
    "stations.start.preset",
    "stations.actor.system",
}
