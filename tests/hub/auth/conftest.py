"""Fixtures for the auth tests: a started hub on SQLite and on PostgreSQL, with a tenant and its users."""

from __future__ import annotations

import pytest

from hub.core import Hub
from hub.tenants import Tenant
from hub.testing import HubFactory

PASSWORD = "correct horse battery"


@pytest.fixture
async def auth_hub(database_url: str, hub_factory: HubFactory) -> Hub:
    """A started hub (no HTTP) on each database the hub supports.

    ``database_url`` comes first so that it is torn down last: dropping the PostgreSQL database under a hub
    that is still running makes its final flush retry for seconds.
    """
    return await hub_factory(database_url=database_url)


@pytest.fixture
async def acme(auth_hub: Hub) -> Tenant:
    return await auth_hub.tenants.create("acme", "Acme Security")


@pytest.fixture
async def globex(auth_hub: Hub) -> Tenant:
    return await auth_hub.tenants.create("globex", "Globex")
