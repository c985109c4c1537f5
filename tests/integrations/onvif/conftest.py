"""Shared by the ONVIF tests: a simulated camera on a free loopback port, and a hub with an ONVIF entry on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from hub.config_entries import ConfigEntry
from hub.core import Hub
from hub.tenants import Tenant
from hub.testing import free_port
from integrations.onvif.device import OnvifDevice
from integrations.onvif.simulator import OnvifSimulator

PASSWORD = "s3cret:p@ss"  # a colon and an @: the stream URL must quote them


def nowhere_rtsp() -> str:
    """An RTSP URL nothing listens on: for tests that never open the stream."""
    return f"rtsp://127.0.0.1:{free_port()}/live"


SimulatorFactory = Callable[..., Awaitable[OnvifSimulator]]


@pytest.fixture
async def simulator_factory() -> AsyncIterator[SimulatorFactory]:
    """Start simulated cameras (password ``PASSWORD`` unless told); each one is stopped after the test."""
    started: list[OnvifSimulator] = []

    async def start(**changes: Any) -> OnvifSimulator:
        changes.setdefault("password", PASSWORD)
        changes.setdefault("rtsp_url", nowhere_rtsp())
        simulator = OnvifSimulator(**changes)
        await simulator.start()
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        await simulator.stop()


@pytest.fixture
async def camera(simulator_factory: SimulatorFactory) -> OnvifSimulator:
    return await simulator_factory()


@dataclass
class OnvifSite:
    hub: Hub
    tenant: Tenant

    async def add(self, simulator: OnvifSimulator, title: str = "Gate camera", **data: Any) -> ConfigEntry:
        values = {"host": "127.0.0.1", "port": simulator.port, "username": "admin", "password": PASSWORD, **data}
        return await self.hub.config_entries.add("onvif", values, tenant_id=self.tenant.id, title=title)

    def device(self, entry: ConfigEntry) -> OnvifDevice:
        device = entry.runtime_data
        assert isinstance(device, OnvifDevice), entry.reason
        return device

    def state(self, entity_id: str) -> str | None:
        state = self.hub.states.get(entity_id)
        return state.state if state else None


@pytest.fixture
async def site(hub: Hub, tenant: Tenant) -> OnvifSite:
    return OnvifSite(hub, tenant)
