"""What the agent, job and simulator tests share: a hub serving HTTP with ``stations:`` set up, a tenant with an
operator, stations with their tokens, and simulated agents that are closed after each test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from hub.auth.scope import Role
from hub.core import Hub
from hub.tenants import Tenant
from hub.testing import HubFactory
from hub.testing.http import ApiClient, UserFactory
from integrations.stations.manager import StationManager, manager_of
from integrations.stations.simulator import StationAgent
from integrations.stations.store import StationRecord


@dataclass
class Site:
    """A hub with the stations integration, one tenant (``library``) and an operator's API client."""

    hub: Hub
    manager: StationManager
    tenant: Tenant
    api: ApiClient
    http: aiohttp.ClientSession
    agents: list[StationAgent] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.hub.http.url

    async def station(self, name: str, address: str | None = None) -> tuple[StationRecord, str]:
        return await self.manager.create_station(self.tenant.id, name, address=address, actor="test")

    def agent(self, address: str, token: str, **options: Any) -> StationAgent:
        options.setdefault("auto_heartbeat", False)
        options.setdefault("reconnect", False)
        agent = StationAgent(self.url, address, token, **options)
        self.agents.append(agent)
        return agent

    async def connected_agent(self, address: str, token: str, **options: Any) -> StationAgent:
        agent = self.agent(address, token, **options)
        await agent.start()
        return agent

    async def new_session(self, minutes: int = 30, station_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"minutes": minutes}
        if station_id is not None:
            body["station_id"] = station_id
        status, session = await self.api.post("/api/stations/sessions", body)
        assert status == 201, session
        return dict(session)

    async def session(self, session_id: str) -> dict[str, Any]:
        status, session = await self.api.get(f"/api/stations/sessions/{session_id}")
        assert status == 200, session
        return dict(session)

    def status(self, station: StationRecord) -> str:
        return self.manager.status_of(station.id)


SiteFactory = Callable[..., Awaitable[Site]]


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """``wait_for`` for conditions that need a query (a session's row): polls ``check`` until it is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {check}")
        await asyncio.sleep(0.02)


@pytest.fixture
async def make_site(
    hub_factory: HubFactory, make_user: UserFactory, api_session: aiohttp.ClientSession
) -> AsyncIterator[SiteFactory]:
    """``await make_site(offline_after=0.5, ...)``: the ``stations:`` section's options, short timings included
    (and ``database_url=`` for PostgreSQL)."""
    sites: list[Site] = []

    async def make(database_url: str | None = None, **stations: Any) -> Site:
        hub = await hub_factory(http=True, config={"stations": stations}, database_url=database_url)
        manager = manager_of(hub)
        assert manager is not None
        tenant = await hub.tenants.create("library", "Town library")
        operator = await make_user(hub, tenant, Role.OPERATOR)
        site = Site(hub, manager, tenant, operator.api, api_session)
        sites.append(site)
        return site

    yield make
    for site in sites:
        for agent in site.agents:
            await agent.close()


@pytest.fixture
async def site(make_site: SiteFactory) -> Site:
    return await make_site()
