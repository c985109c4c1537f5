"""What the store, manager, API, service and entity tests share: hubs with ``stations:`` set up, a tenant, a
controllable clock, and an HTTP desk with users of every role in two tenants."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from hub.auth.scope import Role
from hub.core import Event, Hub
from hub.tenants import Tenant
from hub.testing import HubFactory
from hub.testing.http import ApiClient, SignedInUser, UserFactory
from integrations.stations.const import (
    EVENT_SESSION_ENDED,
    EVENT_SESSION_ENDING,
    EVENT_SESSION_STARTED,
    EVENT_STATUS_CHANGED,
)
from integrations.stations.manager import StationManager, manager_of

EVENTS = (EVENT_SESSION_STARTED, EVENT_SESSION_ENDING, EVENT_SESSION_ENDED, EVENT_STATUS_CHANGED)


class Clock:
    """The manager's clock, moved by the test: the hub is the clock, so the test can be it."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Stations:
    """A started hub with ``stations:``, tenant ``library``, the station events fired, a fake clock."""

    hub: Hub
    manager: StationManager
    tenant: Tenant
    clock: Clock
    events: list[Event[Any]] = field(default_factory=list)

    def of_type(self, event_type: str) -> list[Event[Any]]:
        return [event for event in self.events if event.event_type == event_type]


def listen(hub: Hub, events: list[Event[Any]]) -> None:
    for event_type in EVENTS:
        hub.bus.listen(event_type, events.append)


async def stations_on(hub: Hub, tenant_code: str = "library") -> Stations:
    manager = manager_of(hub)
    assert manager is not None
    clock = Clock()
    manager.clock = clock
    tenant = await hub.tenants.create(tenant_code, tenant_code.title())
    site = Stations(hub, manager, tenant, clock)
    listen(hub, site.events)
    return site


@pytest.fixture
async def stations(hub_factory: HubFactory) -> Stations:
    """No HTTP, SQLite, ``stations: {}``."""
    return await stations_on(await hub_factory(config={"stations": {}}))


@dataclass
class Desk:
    """An HTTP hub with ``stations:``: the library's operator (a signed-in user), its viewer and admin (API
    keys: no password hashing, so the fixture stays fast), and the museum's operator (an API key)."""

    hub: Hub
    manager: StationManager
    library: Tenant
    museum: Tenant
    operator: SignedInUser
    viewer: ApiClient
    admin: ApiClient
    intruder: ApiClient  # the museum's operator
    events: list[Event[Any]] = field(default_factory=list)


async def api_key(hub: Hub, client: ApiClient, tenant: Tenant, role: Role) -> ApiClient:
    _, secret = await hub.auth.create_api_key(f"{tenant.code} {role}", tenant_id=tenant.id, role=role, created_by=None)
    return client.with_token(secret)


@pytest.fixture
async def desk(hub_factory: HubFactory, make_user: UserFactory) -> AsyncIterator[Desk]:
    hub = await hub_factory(http=True, config={"stations": {}})
    manager = manager_of(hub)
    assert manager is not None
    library = await hub.tenants.create("library", "Library")
    museum = await hub.tenants.create("museum", "Museum")
    operator = await make_user(hub, library, Role.OPERATOR)
    desk = Desk(
        hub,
        manager,
        library,
        museum,
        operator=operator,
        viewer=await api_key(hub, operator.api, library, Role.VIEWER),
        admin=await api_key(hub, operator.api, library, Role.ADMIN),
        intruder=await api_key(hub, operator.api, museum, Role.OPERATOR),
    )
    listen(hub, desk.events)
    yield desk
