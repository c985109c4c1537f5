"""The ``auth_failed`` health level: a device that refuses our password is left alone until a person acts.

Devices lock an account after a few bad passwords, so after a refusal nothing retries: no back-off, no polling,
no staleness timer. ``reconnect()`` makes one attempt, ``track`` again (new credentials) starts over, and a
success the device reports by itself clears it. The device here is a real HTTP server on 127.0.0.1 that
answers 401 until the test gives it the right password.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from hub.core import Event, Hub
from hub.exceptions import ConfigEntryAuthFailed
from hub.health import EVENT_DEVICE_HEALTH_CHANGED, HealthLevel, HealthMonitor
from hub.testing import free_port, wait_for

FAST_DELAYS = (0.02, 0.04, 0.08, 0.16, 0.32)


class LockingDevice:
    """Answers ``/status`` with 200 for the right Basic password and 401 otherwise; counts every refusal."""

    def __init__(self, password: str) -> None:
        self.password = password
        self.port = free_port()
        self.refused = 0
        self.answered = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/status", self._status)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _status(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != basic("admin", self.password):
            self.refused += 1
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="device"'})
        self.answered += 1
        return web.json_response({"status": "ok"})


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def password_check(session: aiohttp.ClientSession, device: LockingDevice, password: str) -> Any:
    """What an integration's check does: a 401 is not "offline" but ``ConfigEntryAuthFailed``."""

    async def check() -> None:
        url = f"http://127.0.0.1:{device.port}/status"
        async with session.get(url, headers={"Authorization": basic("admin", password)}) as response:
            if response.status == 401:
                raise ConfigEntryAuthFailed("the device refused user admin")
            response.raise_for_status()

    return check


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Hub]:
    hub = Hub(tmp_path)
    yield hub
    await hub.stop()


@pytest.fixture
async def monitor(core: Hub) -> AsyncIterator[HealthMonitor]:
    monitor = HealthMonitor(core, delays=FAST_DELAYS)
    await monitor.start()
    yield monitor
    await monitor.stop()


@pytest.fixture
async def device() -> AsyncIterator[LockingDevice]:
    server = LockingDevice("s3cret")
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def test_a_refused_password_is_tried_once_and_never_again(
    core: Hub, monitor: HealthMonitor, device: LockingDevice, session: aiohttp.ClientSession
) -> None:
    events: list[Event[Any]] = []
    core.bus.listen(EVENT_DEVICE_HEALTH_CHANGED, events.append)

    health = monitor.track("door_a", "Door A", check=password_check(session, device, "wrong"), interval=0.05)
    await wait_for(lambda: health.level is HealthLevel.AUTH_FAILED)
    # Five fast retries and twenty polls would have happened by now if anything still tried.
    await asyncio.sleep(0.7)

    assert device.refused == 1
    assert health.retries_stopped is True
    assert health.next_retry_at is None
    assert health.connected is False
    assert health.last_error == "the device refused user admin"
    assert [event.data["new_level"] for event in events] == ["auth_failed"]
    state = core.states.get("sensor.door_a_health")
    assert state is not None and state.state == "auth_failed"
    assert state.attributes["retries_stopped"] is True
    connected = core.states.get("binary_sensor.door_a_connected")
    assert connected is not None and connected.state == "off"


async def test_reconnect_is_one_attempt(
    monitor: HealthMonitor, device: LockingDevice, session: aiohttp.ClientSession
) -> None:
    health = monitor.track("door_b", "Door B", check=password_check(session, device, "wrong"), interval=0.05)
    await wait_for(lambda: health.level is HealthLevel.AUTH_FAILED)

    assert await health.reconnect() is HealthLevel.AUTH_FAILED
    await asyncio.sleep(0.3)

    assert device.refused == 2
    assert health.retries_stopped is True


async def test_new_credentials_through_track_clear_it(
    monitor: HealthMonitor, device: LockingDevice, session: aiohttp.ClientSession
) -> None:
    old = monitor.track("door_c", "Door C", check=password_check(session, device, "wrong"), interval=0.05)
    await wait_for(lambda: old.level is HealthLevel.AUTH_FAILED)

    new = monitor.track("door_c", "Door C", check=password_check(session, device, "s3cret"), interval=0.05)
    await wait_for(lambda: device.answered >= 3)  # polling again at the normal interval

    assert new.level is HealthLevel.EXCELLENT
    assert new.retries_stopped is False
    assert device.refused == 1


async def test_a_push_device_reporting_success_clears_it(monitor: HealthMonitor) -> None:
    terminal = monitor.track("gate", "Gate terminal", stale_after=0.05)
    terminal.report_success(20.0)

    terminal.report_auth_failed("digest refused")
    await asyncio.sleep(0.2)  # the staleness timer is off too: it stays auth_failed, not offline

    assert terminal.level is HealthLevel.AUTH_FAILED
    assert terminal.last_error == "digest refused"

    terminal.report_success(30.0)
    assert terminal.level is HealthLevel.EXCELLENT
    assert terminal.retries_stopped is False


async def test_summary_counts_it_apart_from_offline(monitor: HealthMonitor) -> None:
    monitor.track("one", "One").report_auth_failed("401")
    monitor.track("two", "Two").report_failure("unplugged")

    summary = monitor.summary()

    assert summary["levels"]["auth_failed"] == 1
    assert summary["levels"]["offline"] == 1
    assert summary["online"] == 0
