"""Fixtures for the HTTP tests: a hub serving HTTP on a free loopback port, and a client session for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from hub.core import Hub
from hub.testing import HubFactory


@pytest.fixture
async def http_hub(hub_factory: HubFactory) -> Hub:
    """A started hub with its real HTTP server on 127.0.0.1 (no integration configured)."""
    return await hub_factory(http=True, config={"gatehouse": {"name": "Lakeside School"}})


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client
