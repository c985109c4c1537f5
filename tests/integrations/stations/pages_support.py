"""What the dashboard page tests share: an HTTP hub with ``stations:``, two tenants, users of each role signed in
with real session cookies (made on first use), and readers for the rendered HTML."""

from __future__ import annotations

import html as html_module
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from hub.core import Hub
from hub.tenants import Tenant
from hub.testing import HubFactory
from integrations.stations.manager import StationManager, manager_of

PASSWORD = "correct horse battery"
LOCALES = Path(__file__).resolve().parents[3] / "integrations" / "stations" / "locales"
PACKAGE = LOCALES.parent


@dataclass
class Library:
    """A hub with ``stations:``; users are made (and signed in once) on first use: argon2 is slow on purpose."""

    hub: Hub
    manager: StationManager
    tenant: Tenant
    museum: Tenant
    sessions: dict[str, aiohttp.ClientSession] = field(default_factory=dict)

    async def user_id(self, username: str) -> str:
        await self.signed_in(username)
        return next(user.id for user in self.hub.auth.users() if user.username == username)

    async def signed_in(self, username: str) -> aiohttp.ClientSession:
        if username not in self.sessions:
            tenant = self.museum if username == "curator" else self.tenant
            role = "admin" if username == "curator" else username
            await self.hub.auth.create_user(username, PASSWORD, tenant_id=tenant.id, role=role, name=f"Léa {role}")
            # unsafe=True: the hub is on 127.0.0.1, and aiohttp's jar drops cookies of IP hosts otherwise.
            session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
            body = {"username": username, "password": PASSWORD, "session": True}
            async with session.post(self.hub.http.url + "/api/auth/login", json=body) as response:
                assert response.status == 200, await response.text()
            self.sessions[username] = session
        return self.sessions[username]

    async def get(self, username: str, path: str, *, lang: str = "en") -> tuple[int, str]:
        """``path`` as ``username`` (viewer, operator, admin of the library; curator: the museum's admin) sees it."""
        session = await self.signed_in(username)
        session.cookie_jar.update_cookies({"lang": lang})
        async with session.get(self.hub.http.url + path, allow_redirects=False) as response:
            return response.status, await response.text()

    async def close(self) -> None:
        for session in self.sessions.values():
            await session.close()


@pytest.fixture
async def library(hub_factory: HubFactory) -> AsyncIterator[Library]:
    hub = await hub_factory(http=True, config={"gatehouse": {"name": "Town Library"}, "stations": {}})
    manager = manager_of(hub)
    assert manager is not None
    tenant = await hub.tenants.create("library", "Town Library")
    museum = await hub.tenants.create("museum", "City Museum")
    site = Library(hub, manager, tenant, museum)
    yield site
    await site.close()


def context_json(page: str) -> dict[str, object]:
    match = re.search(r'<script type="application/json" id="stations-context">(.*?)</script>', page, re.S)
    assert match is not None
    return dict(json.loads(match.group(1)))


def card(page: str, name: str) -> str:
    """The HTML of the station card titled ``name``."""
    for chunk in page.split('<article class="card station-card')[1:]:
        if f"<h2>{html_module.escape(name)}</h2>" in chunk:
            return chunk.split("</article>")[0]
    raise AssertionError(f"no card for {name!r}")
