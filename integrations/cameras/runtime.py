"""What the cameras integration shares across its entries and API calls: one HTTP client session, a small
thread pool for PyAV probes, and the subnet-scan jobs. Created on first use, closed when the hub stops.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import aiohttp

from hub.core import Hub

from .const import DOMAIN
from .scan import ScanJobs

#: PyAV probes at once: each holds a thread and a decoder (this hub may run on 2 cores).
PROBE_THREADS = 4


class CamerasRuntime:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.executor = ThreadPoolExecutor(max_workers=PROBE_THREADS, thread_name_prefix="camera-probe")
        self.probe_slots = asyncio.Semaphore(PROBE_THREADS)
        self.scans = ScanJobs(self)
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The client session for cameras' HTTP endpoints (no cookies kept between cameras)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        return self._session

    async def close(self) -> None:
        await self.scans.stop_all()
        if self._session is not None:
            await self._session.close()
        self.executor.shutdown(wait=False, cancel_futures=True)


def runtime_of(hub: Hub) -> CamerasRuntime:
    """The hub's cameras runtime, created (and scheduled to close with the hub) on first use."""
    runtime = hub.data.get(DOMAIN)
    if runtime is None:
        runtime = hub.data[DOMAIN] = CamerasRuntime(hub)
        hub.on_stop(runtime.close)
    assert isinstance(runtime, CamerasRuntime)
    return runtime
