"""A pytest plugin for Gatehouse and for integrators: started hubs, tenants, config entries, free ports.

Installed with the ``gatehouse`` distribution (entry point ``pytest11``), so an integration's tests get these
fixtures without a conftest:

    async def test_turnstile_opens(hub, tenant):
        entry = await hub.config_entries.add("turnstile", {"host": "127.0.0.1", "port": 9000}, tenant_id=tenant.id)
        assert entry.state == "loaded"

Fixtures: ``hub`` (a started hub on SQLite in a temporary config dir, built-in and installed integrations
loaded, no HTTP), ``hub_factory`` (start hubs with your own config, plugins, database or HTTP), ``tenant``,
``unused_port``, and the database fixtures ``database``, ``database_url`` (SQLite and a throwaway PostgreSQL)
and ``postgres_cluster`` from ``hub.testing.database``; cameras: ``rtsp_server``, ``rtsp_server_factory`` and
``video_file`` from ``hub.testing.rtsp`` (a real GStreamer RTSP server on loopback, killable mid-stream).
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import pytest

from hub.bootstrap import start_hub
from hub.core import Hub
from hub.tenants import Tenant

__all__ = ["HubFactory", "free_port", "wait_for"]

# SQLite and throwaway-PostgreSQL fixtures: database, database_url, postgres_cluster; and the HTTP fixtures
# http_hub, admin_api, anonymous_api, make_user (hub.testing.http); rtsp_server, rtsp_server_factory, video_file
# (hub.testing.rtsp); person_model, person_model_onnx, people_video (hub.testing.detection); s3_server
# (hub.testing.s3, moto's S3 server).
pytest_plugins = [
    "hub.testing.database",
    "hub.testing.detection",
    "hub.testing.http",
    "hub.testing.rtsp",
    "hub.testing.s3",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.01) -> None:
    """Wait until ``predicate()`` is true (a device connected, a state arrived); fail after ``timeout``."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {predicate}")
        await asyncio.sleep(interval)


class HubFactory(Protocol):
    def __call__(
        self,
        *,
        config: Mapping[str, Any] | None = None,
        plugins: Iterable[ModuleType | object] = (),
        database_url: str | None = None,
        http: bool = False,
        config_dir: Path | None = None,
    ) -> Awaitable[Hub]: ...


@pytest.fixture
def unused_port() -> int:
    return free_port()


@pytest.fixture
async def hub_factory(tmp_path: Path) -> AsyncIterator[HubFactory]:
    """Start hubs in temporary config dirs; every hub started is stopped after the test."""
    started: list[Hub] = []

    async def start(
        *,
        config: Mapping[str, Any] | None = None,
        plugins: Iterable[ModuleType | object] = (),
        database_url: str | None = None,
        http: bool = False,
        config_dir: Path | None = None,
    ) -> Hub:
        directory = config_dir or tmp_path / f"config{len(started)}"
        directory.mkdir(parents=True, exist_ok=True)
        raw: dict[str, Any] = {"recorder": {"commit_interval": 0.05}, **(config or {})}
        if http:
            raw.setdefault("http", {"host": "127.0.0.1", "port": free_port()})
        started_hub = await start_hub(directory, raw_config=raw, plugins=plugins, database_url=database_url, http=http)
        started.append(started_hub)
        return started_hub

    yield start
    for started_hub in reversed(started):
        await started_hub.stop()


@pytest.fixture
async def hub(hub_factory: HubFactory) -> Hub:
    """A started hub: SQLite in a temporary config dir, every integration loaded, none configured, no HTTP."""
    return await hub_factory()


@pytest.fixture
async def tenant(hub: Hub) -> Tenant:
    """A tenant named ``acme`` on the ``hub`` fixture."""
    return await hub.tenants.create("acme", "Acme Security")
