"""Shared by the TM20 tests: a hub with the endpoint on a free loopback port, and simulated terminals on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from hub.core import Event, Hub
from hub.tenants import Tenant
from hub.testing import HubFactory, free_port
from integrations.tm20.const import MANUFACTURER
from integrations.tm20.manager import TerminalManager
from integrations.tm20.simulator import TerminalSimulator


@dataclass
class Tm20Site:
    """A started hub with ``tm20:``, a tenant ``acme``, the events fired, and the simulators started."""

    hub: Hub
    port: int
    tenant: Tenant
    events: list[Event[Any]] = field(default_factory=list)
    simulators: list[TerminalSimulator] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/tm20/"

    @property
    def manager(self) -> TerminalManager:
        manager: TerminalManager = self.hub.data["tm20"]
        return manager

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [dict(event.data) for event in self.events if event.event_type == event_type]

    async def claim(self, sn: str, name: str | None = None, tenant: Tenant | None = None) -> str:
        device = await self.hub.devices.claim((tenant or self.tenant).id, MANUFACTURER, sn, name)
        return device.id

    async def terminal(self, sn: str, **kwargs: Any) -> TerminalSimulator:
        """A simulated terminal, connected and registered (its reg reply is ``simulator.reg_reply``)."""
        simulator = TerminalSimulator(self.url, sn, **kwargs)
        self.simulators.append(simulator)
        await simulator.start()
        return simulator


SiteFactory = Callable[..., Awaitable[Tm20Site]]


@pytest.fixture
async def tm20_site_factory(hub_factory: HubFactory) -> AsyncIterator[SiteFactory]:
    sites: list[Tm20Site] = []

    async def start(database_url: str | None = None, **tm20: Any) -> Tm20Site:
        port = free_port()
        section = {"host": "127.0.0.1", "port": port, "command_timeout": 3, "time_zone": "Europe/Paris", **tm20}
        hub = await hub_factory(config={"tm20": section}, database_url=database_url)
        tenant = await hub.tenants.create("acme", "Acme")
        site = Tm20Site(hub, port, tenant)
        for event_type in ("access", "tm20_door_event"):
            hub.bus.listen(event_type, site.events.append)
        sites.append(site)
        return site

    yield start
    for site in sites:
        for simulator in site.simulators:
            await simulator.close()


@pytest.fixture
async def site(tm20_site_factory: SiteFactory) -> Tm20Site:
    return await tm20_site_factory()
