"""Shared by the cameras tests: HTTP camera simulators, an RTSPS (TLS) server, and a hub with signed-in users."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hub.auth.scope import Role
from hub.core import Hub
from hub.tenants import Tenant
from hub.testing import HubFactory, free_port
from hub.testing.http import ApiClient, UserFactory
from hub.testing.rtsp import SYSTEM_PYTHON, gstreamer_rtsp_available
from integrations.cameras.simulator import CameraSimulator

RTSPS_SCRIPT = Path(__file__).with_name("rtsps_server.py")

SimulatorFactory = Callable[..., Awaitable[CameraSimulator]]


@pytest.fixture
async def camera_simulator() -> AsyncIterator[SimulatorFactory]:
    """``await camera_simulator(username=..., manufacturer=...)``: started HTTP cameras, stopped after the test."""
    started: list[CameraSimulator] = []

    async def start(**options: Any) -> CameraSimulator:
        simulator = CameraSimulator(**options)
        await simulator.start()
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        await simulator.stop()


@dataclass
class Site:
    """A hub serving HTTP with the cameras integration, a tenant, and its admin and viewer."""

    hub: Hub
    tenant: Tenant
    admin: ApiClient
    viewer: ApiClient


@pytest.fixture
async def site(hub_factory: HubFactory, make_user: UserFactory) -> Site:
    hub = await hub_factory(http=True)
    tenant = await hub.tenants.create("school", "Lakeside School")
    admin = (await make_user(hub, tenant, Role.ADMIN)).api
    viewer = (await make_user(hub, tenant, Role.VIEWER)).api
    return Site(hub, tenant, admin, viewer)


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1, made by the openssl command."""
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key_path), "-out", str(cert_path), "-days", "1", "-subj", "/CN=127.0.0.1"],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return cert_path, key_path


@dataclass
class RtspsServer:
    port: int
    path: str

    @property
    def url(self) -> str:
        return f"rtsps://127.0.0.1:{self.port}{self.path}"


@pytest.fixture
async def rtsps_server(tmp_path: Path) -> AsyncIterator[RtspsServer]:
    """GStreamer's RTSP server behind TLS (a self-signed certificate, like cameras and UniFi Protect)."""
    if not gstreamer_rtsp_available():
        pytest.skip("GStreamer's RTSP server is not installed for /usr/bin/python3 (run `make install`)")
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed (it makes the test certificate)")
    cert, key = _self_signed(tmp_path)
    port = free_port()
    process = subprocess.Popen(
        [SYSTEM_PYTHON, str(RTSPS_SCRIPT), str(port), str(cert), str(key)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "GST_DEBUG": "0"},
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 20)
    if not line.startswith(b"READY"):
        process.kill()
        raise RuntimeError(f"RTSPS server did not start: {line!r}")
    yield RtspsServer(port, "/live")
    process.kill()
    process.wait(timeout=10)
    process.stdout.close()
