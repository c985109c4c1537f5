"""Shared by the Hikvision integration tests: a hub serving HTTP on loopback, a tenant, the events it fires, and
simulated ISAPI devices and gateways (``integrations.hikvision.simulator``) speaking the real protocol to it.

H1's and H3's tests (client, parsers, simulator) keep their fixtures in their own modules; these are the
integration's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hub.config_entries import ConfigEntry
from hub.core import Event, Hub
from hub.health import HealthMonitor
from hub.tenants import Tenant
from hub.testing import HubFactory, free_port
from hub.testing.http import ADMIN_PASSWORD, ADMIN_USERNAME, ApiClient, sign_in
from integrations.hikvision.const import DOMAIN, MANUFACTURER
from integrations.hikvision.manager import HikvisionManager
from integrations.hikvision.simulator import GatewaySimulator, IsapiDeviceSimulator

#: A short back-off table, so a device that comes back is retried within a fraction of a second.
FAST_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8)
WEBHOOK_SECRET = "a webhook secret of some length"


@dataclass
class HikSite:
    """A started hub with HTTP, a tenant ``acme``, the ``access``/``hikvision_event`` events, and simulators."""

    hub: Hub
    tenant: Tenant
    admin: ApiClient
    session: aiohttp.ClientSession
    events: list[Event[Any]] = field(default_factory=list)
    simulators: list[Any] = field(default_factory=list)

    @property
    def manager(self) -> HikvisionManager:
        manager: HikvisionManager = self.hub.data[DOMAIN]
        return manager

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [dict(event.data) for event in self.events if event.event_type == event_type]

    def access(self, serial: str | None = None) -> list[dict[str, Any]]:
        return [data for data in self.of_type("access") if serial is None or data.get("serial") == serial]

    async def device_sim(self, serial: str, **kwargs: Any) -> IsapiDeviceSimulator:
        """A started simulated device on a fixed free port (so it can be stopped and started again there)."""
        kwargs.setdefault("port", free_port())
        simulator = IsapiDeviceSimulator(serial, **kwargs)
        self.simulators.append(simulator)
        await simulator.start()
        return simulator

    async def gateway_sim(self, **kwargs: Any) -> GatewaySimulator:
        kwargs.setdefault("port", free_port())
        simulator = GatewaySimulator(**kwargs)
        self.simulators.append(simulator)
        await simulator.start()
        return simulator

    async def add_device(
        self, simulator: IsapiDeviceSimulator, *, tenant: Tenant | None = None, **data: Any
    ) -> ConfigEntry:
        """The simulator as a tenant's config entry (``event_mode`` stream unless given)."""
        values = {
            "host": simulator.host,
            "port": simulator.port,
            "username": simulator.username,
            "password": simulator.password,
            **data,
        }
        owner = tenant or self.tenant
        return await self.hub.config_entries.add(DOMAIN, values, tenant_id=owner.id, title=f"{simulator.serial}")

    def device(self, serial: str) -> Any:
        return self.hub.devices.get_by_serial(MANUFACTURER, serial)


SiteFactory = Callable[..., Awaitable[HikSite]]


def use_fast_health(hub: Hub) -> HealthMonitor:
    """Give ``hub`` a health monitor with a short back-off (devices tracked afterwards use it)."""
    monitor = HealthMonitor(hub, hub.database, delays=FAST_DELAYS, max_delay=1.0)
    hub.health = monitor
    hub.on_stop(monitor.stop)
    return monitor


@pytest.fixture
async def hik_site_factory(hub_factory: HubFactory) -> AsyncIterator[SiteFactory]:
    """``await factory(hikvision={...})``: a hub with HTTP and the given ``hikvision:`` section."""
    sessions: list[aiohttp.ClientSession] = []
    sites: list[HikSite] = []

    async def start(
        *, hikvision: dict[str, Any] | None = None, fast_health: bool = True, config_dir: Path | None = None
    ) -> HikSite:
        raw: dict[str, Any] = {DOMAIN: hikvision} if hikvision is not None else {}
        hub = await hub_factory(http=True, config=raw, config_dir=config_dir)
        if fast_health:
            await use_fast_health(hub).start()
        if hub.auth.user_by_username(ADMIN_USERNAME) is None:  # a restarted hub keeps its users
            await hub.auth.onboard(ADMIN_USERNAME, ADMIN_PASSWORD, name="Platform administrator")
        session = aiohttp.ClientSession()
        sessions.append(session)
        admin = (await sign_in(hub, session, ADMIN_USERNAME, ADMIN_PASSWORD)).api
        tenant = await hub.tenants.ensure("acme", "Acme")
        site = HikSite(hub, tenant, admin, session)
        for event_type in ("access", "hikvision_event"):
            hub.bus.listen(event_type, site.events.append)
        sites.append(site)
        return site

    yield start
    for site in sites:
        await site.hub.stop()  # first: the hub's streams end cleanly, not with the simulators' sockets
        for simulator in reversed(site.simulators):
            await simulator.stop()
    for session in sessions:
        await session.close()


@pytest.fixture
async def site(hik_site_factory: SiteFactory) -> HikSite:
    return await hik_site_factory()
