"""Ready-made check coroutines for ``HealthMonitor.track``: the two most devices need.

A check succeeds by returning (anything but ``False``) and fails by raising; the monitor times it.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp

from hub.device_health import Check


def tcp_check(host: str, port: int) -> Check:
    """Open and close a TCP connection: for devices whose protocol has no cheap request (RTSP, SDK ports)."""

    async def check() -> None:
        _, writer = await asyncio.open_connection(host, port)
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

    return check


def http_check(session: aiohttp.ClientSession, url: str, *, method: str = "GET", **kwargs: Any) -> Check:
    """One HTTP request that must answer 2xx or 3xx (a 401 means wrong credentials: the device is not usable)."""

    async def check() -> int:
        async with session.request(method, url, **kwargs) as response:
            response.raise_for_status()
            return response.status

    return check
