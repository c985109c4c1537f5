"""Fixtures for the HTTP tests. ``http_hub``, ``admin_api``, ``anonymous_api`` and ``make_user`` come from the
``hub.testing.http`` plugin; this adds a bare client session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client
