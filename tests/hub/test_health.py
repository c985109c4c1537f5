"""Device health, as a specification: levels from real response times, back-off, entities, events, uptime.

Checks run against a real HTTP server on 127.0.0.1 that the tests make slow, or close.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from hub.backoff import Backoff
from hub.core import Event, Hub
from hub.health import (
    EVENT_DEVICE_HEALTH_CHANGED,
    RECONNECT_DELAYS,
    HealthLevel,
    HealthMonitor,
    http_check,
    level_for,
    tcp_check,
)
from hub.store.database import Database
from hub.store.models import UptimeRow
from hub.testing import free_port, wait_for
from hub.uptime import UptimeBook

# A short back-off table so a whole retry sequence takes 0.62 s instead of 5 m 10 s.
FAST_DELAYS = (0.02, 0.04, 0.08, 0.16, 0.32)
NOON = dt.datetime(2025, 3, 10, 12, 0, tzinfo=dt.UTC).timestamp()


class FakeClock:
    """Epoch seconds that move only when the test says so."""

    def __init__(self, now: float = NOON) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class DeviceServer:
    """A device's HTTP API on loopback; ``/status?delay=s`` answers after ``delay`` seconds."""

    def __init__(self) -> None:
        self.port = free_port()
        self.requests = 0
        self._runner: web.AppRunner | None = None

    def url(self, delay: float = 0.0) -> str:
        return f"http://127.0.0.1:{self.port}/status?delay={delay}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/status", self._status)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _status(self, request: web.Request) -> web.Response:
        self.requests += 1
        await asyncio.sleep(float(request.query.get("delay", "0")))
        return web.json_response({"status": "ok"})


MonitorFactory = Callable[..., Awaitable[HealthMonitor]]


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Hub]:
    """A bare hub (bus, states, services): the monitor under test is the only part attached."""
    hub = Hub(tmp_path)
    yield hub
    await hub.stop()


@pytest.fixture
async def make_monitor(core: Hub) -> AsyncIterator[MonitorFactory]:
    """Start monitors on ``core`` with the test's options; all are stopped afterwards."""
    monitors: list[HealthMonitor] = []

    async def make(**kwargs: Any) -> HealthMonitor:
        monitor = HealthMonitor(core, **kwargs)
        await monitor.start()
        monitors.append(monitor)
        return monitor

    yield make
    for monitor in monitors:
        await monitor.stop()


@pytest.fixture
async def server() -> AsyncIterator[DeviceServer]:
    device = DeviceServer()
    await device.start()
    yield device
    await device.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def health_events(hub: Hub) -> list[Event[Any]]:
    events: list[Event[Any]] = []
    hub.bus.listen(EVENT_DEVICE_HEALTH_CHANGED, events.append)
    return events


# ---------------------------------------------------------------------------------------------------- levels


@pytest.mark.parametrize(
    ("response_time_ms", "level"),
    [
        (0.4, HealthLevel.EXCELLENT),
        (499.9, HealthLevel.EXCELLENT),
        (500, HealthLevel.GOOD),
        (1499.9, HealthLevel.GOOD),
        (1500, HealthLevel.FAIR),
        (2999.9, HealthLevel.FAIR),
        (3000, HealthLevel.POOR),
        (9000, HealthLevel.POOR),
    ],
)
def test_level_for_response_time(response_time_ms: float, level: HealthLevel) -> None:
    assert level_for(response_time_ms) is level


async def test_levels_follow_real_response_times(
    make_monitor: MonitorFactory, server: DeviceServer, session: aiohttp.ClientSession
) -> None:
    monitor = await make_monitor()
    delays = {"fast": 0.0, "steady": 0.6, "slow": 1.6, "crawling": 3.1}
    devices = {
        key: monitor.track(key, key.title(), check=http_check(session, server.url(delay)), timeout=5)
        for key, delay in delays.items()
    }
    levels = await asyncio.gather(*(device.check_now() for device in devices.values()))

    assert levels == [HealthLevel.EXCELLENT, HealthLevel.GOOD, HealthLevel.FAIR, HealthLevel.POOR]
    for key, delay in delays.items():
        device = devices[key]
        assert device.connected
        assert device.response_time_ms is not None
        assert delay * 1000 <= device.response_time_ms < delay * 1000 + 450


async def test_timeout_is_offline(
    make_monitor: MonitorFactory, server: DeviceServer, session: aiohttp.ClientSession
) -> None:
    monitor = await make_monitor()
    device = monitor.track("nvr", "NVR", check=http_check(session, server.url(delay=2)), timeout=0.2)

    assert await device.check_now() is HealthLevel.OFFLINE
    assert device.connected is False
    assert device.last_error == "timeout after 0.2 s"
    assert device.response_time_ms is None
    assert device.consecutive_failures == 1


async def test_connection_refused_is_offline(make_monitor: MonitorFactory) -> None:
    monitor = await make_monitor()
    device = monitor.track("camera_gate", "Gate camera", check=tcp_check("127.0.0.1", free_port()))

    assert await device.check_now() is HealthLevel.OFFLINE
    assert device.last_error is not None
    assert device.last_error.startswith("ConnectionRefusedError")


async def test_check_returning_false_is_a_failure(make_monitor: MonitorFactory) -> None:
    async def check() -> bool:
        return False

    monitor = await make_monitor()
    device = monitor.track("relay", "Relay", check=check)

    assert await device.check_now() is HealthLevel.OFFLINE
    assert device.last_error == "check failed"


async def test_polls_every_interval_while_healthy(
    make_monitor: MonitorFactory, server: DeviceServer, session: aiohttp.ClientSession
) -> None:
    monitor = await make_monitor()
    device = monitor.track("door", "Door", check=http_check(session, server.url()), interval=0.1)

    await asyncio.sleep(0.35)

    assert device.level is HealthLevel.EXCELLENT
    assert 3 <= server.requests <= 5  # at once, then every 0.1 s


# -------------------------------------------------------------------------------------------------- back-off


def test_backoff_table_doubles_and_is_capped() -> None:
    backoff = Backoff(RECONNECT_DELAYS, cap=300.0)

    assert [backoff.failed() for _ in range(7)] == [10, 20, 40, 80, 160, 300, 300]
    backoff.reset()
    assert backoff.failed() == 10


async def test_default_backoff_retries_at_10_20_40_80_160_then_stops(make_monitor: MonitorFactory) -> None:
    clock = FakeClock()
    monitor = await make_monitor(clock=clock)
    device = monitor.track("camera_hall", "Hall camera", check=tcp_check("127.0.0.1", free_port()))

    waits = []
    for _ in range(6):
        await device.check_now()
        waits.append(None if device.next_retry_at is None else device.next_retry_at - clock.now)

    assert waits == [10, 20, 40, 80, 160, None]  # the first failure, then five retries, then no more
    assert device.retries_stopped is True
    assert device.consecutive_failures == 6


async def test_retries_follow_the_table_then_stop(make_monitor: MonitorFactory) -> None:
    loop = asyncio.get_running_loop()
    attempts: list[float] = []

    async def unreachable() -> None:
        attempts.append(loop.time())
        raise ConnectionRefusedError("device unplugged")

    monitor = await make_monitor(delays=FAST_DELAYS)
    device = monitor.track("turnstile", "Turnstile", check=unreachable, interval=60)

    await wait_for(lambda: device.retries_stopped, timeout=3)
    await asyncio.sleep(0.4)  # longer than the last delay: nothing else is tried

    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    assert len(attempts) == 6
    for gap, delay in zip(gaps, FAST_DELAYS, strict=True):
        assert delay <= gap < delay + 0.1
    assert device.next_retry_at is None
    assert device.consecutive_failures == 6


async def test_success_on_retry_returns_to_normal_interval(make_monitor: MonitorFactory) -> None:
    loop = asyncio.get_running_loop()
    attempts: list[float] = []

    async def flaky() -> None:
        attempts.append(loop.time())
        if len(attempts) <= 2:
            raise OSError("no route to host")

    monitor = await make_monitor(delays=FAST_DELAYS)
    device = monitor.track("intercom", "Intercom", check=flaky, interval=0.3)

    await wait_for(lambda: len(attempts) == 4, timeout=2)

    assert device.level is HealthLevel.EXCELLENT
    assert device.consecutive_failures == 0
    assert device.last_error is None
    assert device.backoff.failures == 0
    assert attempts[3] - attempts[2] >= 0.3


async def test_manual_reconnect_restarts_retries(
    make_monitor: MonitorFactory, server: DeviceServer, session: aiohttp.ClientSession
) -> None:
    monitor = await make_monitor(delays=FAST_DELAYS)
    await server.close()
    device = monitor.track("nvr", "NVR", check=http_check(session, server.url()), interval=60)
    await wait_for(lambda: device.retries_stopped, timeout=3)

    # Still down: a manual reconnect counts from scratch and starts the table again.
    assert await device.reconnect() is HealthLevel.OFFLINE
    assert device.consecutive_failures == 1
    assert device.retries_stopped is False
    assert device.next_retry_at is not None

    await wait_for(lambda: device.retries_stopped, timeout=3)
    await server.start()
    await asyncio.sleep(0.1)
    assert device.level is HealthLevel.OFFLINE  # given up: nobody tries until asked

    assert await device.reconnect() is HealthLevel.EXCELLENT
    assert device.consecutive_failures == 0
    assert device.retries_stopped is False
    assert device.next_retry_at is None


async def test_tracking_again_resets_backoff(make_monitor: MonitorFactory) -> None:
    monitor = await make_monitor(delays=FAST_DELAYS)
    port = free_port()
    old = monitor.track("camera_yard", "Yard camera", check=tcp_check("127.0.0.1", port))
    await wait_for(lambda: old.retries_stopped, timeout=3)

    listener = await asyncio.start_server(lambda _reader, writer: writer.close(), "127.0.0.1", port)
    try:
        new = monitor.track("camera_yard", "Yard camera", check=tcp_check("127.0.0.1", port))  # edited config
        await wait_for(lambda: new.level is HealthLevel.EXCELLENT)
    finally:
        listener.close()

    assert monitor.get("camera_yard") is new
    assert new.consecutive_failures == 0


# ---------------------------------------------------------------------------------------------- push devices


async def test_push_device_reports(make_monitor: MonitorFactory) -> None:
    monitor = await make_monitor()
    terminal = monitor.track("tm20_zx0006827500", "Front gate terminal", device_id="dev1")

    terminal.report_success(120.0)
    assert (terminal.level, terminal.connected, terminal.response_time_ms) == (HealthLevel.EXCELLENT, True, 120.0)

    terminal.report_failure("terminal closed its connection")
    assert terminal.level is HealthLevel.OFFLINE
    assert terminal.consecutive_failures == 1
    assert terminal.last_error == "terminal closed its connection"
    assert terminal.next_retry_at is None  # it connects to us: nothing to retry
    assert terminal.retries_stopped is False

    terminal.report_success()  # reconnected, no timing known
    assert terminal.level is HealthLevel.EXCELLENT
    assert terminal.consecutive_failures == 0


async def test_degraded_device_is_poor_with_its_reason_until_the_next_success(make_monitor: MonitorFactory) -> None:
    monitor = await make_monitor()
    camera = monitor.track("detection_gate", "Gate detection")
    camera.report_success(40.0)

    camera.report_degraded("media: the disk is full")
    assert (camera.level, camera.connected, camera.last_error) == (HealthLevel.POOR, True, "media: the disk is full")

    camera.report_success()  # media written again, no timing known
    assert (camera.level, camera.last_error) == (HealthLevel.EXCELLENT, None)


async def test_silent_push_device_goes_offline(make_monitor: MonitorFactory) -> None:
    monitor = await make_monitor()
    terminal = monitor.track("tm20_gate", "Gate terminal", stale_after=0.1)
    terminal.report_success(50.0)

    await wait_for(lambda: terminal.level is HealthLevel.OFFLINE, timeout=1)

    assert terminal.last_error == "no report for 0.1 s"


# -------------------------------------------------------------------------------------------- entities, events


async def test_entities_written_for_the_tenant(
    core: Hub, make_monitor: MonitorFactory, server: DeviceServer, session: aiohttp.ClientSession
) -> None:
    monitor = await make_monitor()
    device = monitor.track("front_door", "Front door", check=http_check(session, server.url()), tenant_id="acme")
    before = [core.states.get(entity_id) for entity_id in device.entity_ids]
    assert [state.state if state else None for state in before] == ["unknown"] * 4

    await device.check_now()

    health = core.states.get("sensor.front_door_health")
    connected = core.states.get("binary_sensor.front_door_connected")
    response = core.states.get("sensor.front_door_response_time")
    uptime = core.states.get("sensor.front_door_uptime")
    assert health is not None and connected is not None and response is not None and uptime is not None
    assert health.state == "excellent"
    assert health.attributes["friendly_name"] == "Front door health"
    assert health.attributes["consecutive_failures"] == 0
    assert health.attributes["retries_stopped"] is False
    assert (connected.state, connected.attributes["device_class"]) == ("on", "connectivity")
    assert float(response.state) == pytest.approx(device.response_time_ms, abs=0.05)
    assert response.attributes["unit_of_measurement"] == "ms"
    assert uptime.attributes["unit_of_measurement"] == "%"
    assert {state.tenant_id for state in (health, connected, response, uptime)} == {"acme"}
    assert {state.entity_id for state in core.states.all(tenant_id="acme")} == set(device.entity_ids)

    monitor.untrack("front_door")
    assert core.states.all(tenant_id="acme") == []
    assert monitor.get("front_door") is None


async def test_offline_entities_show_the_retry(core: Hub, make_monitor: MonitorFactory) -> None:
    clock = FakeClock()
    monitor = await make_monitor(clock=clock)
    device = monitor.track("camera_lobby", "Lobby camera", check=tcp_check("127.0.0.1", free_port()))

    await device.check_now()

    health = core.states.get("sensor.camera_lobby_health")
    assert health is not None and health.state == "offline"
    assert health.attributes["next_retry_at"] == NOON + 10
    assert health.attributes["last_error"].startswith("ConnectionRefusedError")
    assert core.states.get("binary_sensor.camera_lobby_connected").state == "off"  # type: ignore[union-attr]
    assert core.states.get("sensor.camera_lobby_response_time").state == "unknown"  # type: ignore[union-attr]


async def test_health_changed_fires_once_per_change(core: Hub, make_monitor: MonitorFactory) -> None:
    events = health_events(core)
    monitor = await make_monitor()
    device = monitor.track("tm20_lab", "Lab terminal", device_id="dev7", tenant_id="acme")

    device.report_success(100)
    device.report_success(120)  # same level: nothing to tell
    device.report_success(700)
    device.report_failure("socket reset")
    device.report_failure("socket reset")
    device.report_success(80)

    changes = [(event.data["old_level"], event.data["new_level"]) for event in events]
    assert changes == [(None, "excellent"), ("excellent", "good"), ("good", "offline"), ("offline", "excellent")]
    offline = events[2]
    assert offline.data == {
        "device_key": "tm20_lab",
        "device_id": "dev7",
        "old_level": "good",
        "new_level": "offline",
        "response_time_ms": None,
        "error": "socket reset",
    }
    assert {event.tenant_id for event in events} == {"acme"}


async def test_untrack_during_a_check_leaves_no_entities(
    core: Hub, make_monitor: MonitorFactory, server: DeviceServer, session: aiohttp.ClientSession
) -> None:
    monitor = await make_monitor()
    device = monitor.track("slow_nvr", "Slow NVR", check=http_check(session, server.url(delay=0.3)))
    await asyncio.sleep(0.05)  # the first check is under way

    monitor.untrack("slow_nvr")
    await core.block_till_done()

    assert [state for state in core.states.all() if state.entity_id in device.entity_ids] == []


# ---------------------------------------------------------------------------------------------------- uptime


async def test_uptime_counts_online_share_of_observed_time(core: Hub, make_monitor: MonitorFactory) -> None:
    clock = FakeClock()
    monitor = await make_monitor(clock=clock)
    terminal = monitor.track("tm20_dock", "Dock terminal")
    assert terminal.uptime_percent is None

    terminal.report_success(40)
    clock.now += 3600
    terminal.report_failure("unplugged")
    clock.now += 1800
    await monitor.flush()

    assert terminal.uptime_percent == pytest.approx(66.667, abs=0.001)
    assert core.states.get("sensor.tm20_dock_uptime").state == "66.7"  # type: ignore[union-attr]


def test_uptime_splits_at_utc_midnight_and_keeps_30_days() -> None:
    clock = FakeClock(dt.datetime(2025, 3, 10, 0, 30, tzinfo=dt.UTC).timestamp())
    book = UptimeBook(None, clock)

    book.add("cam", clock.now - 3600, clock.now, online=True)  # 23:30 to 00:30
    book.add("cam", clock.now - 31 * 86400, clock.now - 30 * 86400, online=False)  # outside the window

    assert book._pending["cam"]["2025-03-09"] == [1800, 1800]
    assert book._pending["cam"]["2025-03-10"] == [1800, 1800]
    assert book.totals("cam") == (3600, 3600)
    assert book.percent("cam") == 100.0


async def test_uptime_survives_a_restart(tmp_path: Path, database: Database) -> None:
    clock = FakeClock()
    first = Hub(tmp_path / "first")
    monitor = HealthMonitor(first, database, clock=clock)
    await monitor.start()
    terminal = monitor.track("tm20_gate", "Gate terminal")
    terminal.report_success(30)
    clock.now += 3600
    terminal.report_failure("power cut")
    clock.now += 1200
    await monitor.stop()
    await first.stop()

    second = Hub(tmp_path / "second")
    restarted = HealthMonitor(second, database, clock=clock)
    again = restarted.track("tm20_gate", "Gate terminal")
    await restarted.start()
    await second.block_till_done()

    assert again.uptime_percent == 75.0
    assert second.states.get("sensor.tm20_gate_uptime").state == "75.0"  # type: ignore[union-attr]

    # The second run adds to the same day's row.
    again.report_success(30)
    clock.now += 1200
    await restarted.stop()
    await second.stop()
    async with database.session() as session:
        rows = (await session.scalars(select(UptimeRow))).all()
    assert [(row.device_key, row.day, row.observed_seconds, row.online_seconds) for row in rows] == [
        ("tm20_gate", "2025-03-10", 6000.0, 4800.0)
    ]
    assert again.uptime_percent == 80.0


async def test_uptime_older_than_30_days_is_ignored_and_pruned(tmp_path: Path, database: Database) -> None:
    clock = FakeClock()
    async with database.session() as session:
        session.add(UptimeRow(device_key="cam", day="2025-02-01", observed_seconds=86400, online_seconds=0))
        session.add(UptimeRow(device_key="cam", day="2025-03-01", observed_seconds=1000, online_seconds=900))
        await session.commit()
    hub = Hub(tmp_path)
    monitor = HealthMonitor(hub, database, clock=clock)
    camera = monitor.track("cam", "Camera")
    await monitor.start()
    await hub.block_till_done()

    assert camera.uptime_percent == 90.0
    await monitor.stop()
    await hub.stop()
    async with database.session() as session:
        days = (await session.scalars(select(UptimeRow.day))).all()
    assert days == ["2025-03-01"]


# --------------------------------------------------------------------------------------------------- summary


async def test_summary_counts(make_monitor: MonitorFactory) -> None:
    clock = FakeClock()
    monitor = await make_monitor(clock=clock)
    gate = monitor.track("gate", "Gate", tenant_id="acme")
    hall = monitor.track("hall", "Hall", tenant_id="acme")
    lift = monitor.track("lift", "Lift", tenant_id="acme")
    monitor.track("dock", "Dock", tenant_id="acme")  # never heard from
    other = monitor.track("shop", "Shop", tenant_id="globex")
    gate.report_success(100)
    hall.report_success(2000)
    lift.report_failure("unplugged")
    other.report_success(600)
    clock.now += 600
    hall.report_failure("unplugged")

    assert monitor.summary(tenant_id="acme") == {
        "total": 4,
        "online": 1,
        "offline": 2,
        "levels": {"excellent": 1, "good": 0, "fair": 0, "poor": 0, "offline": 2, "auth_failed": 0},
        "average_uptime": 66.7,  # gate 100 %, hall 100 % (offline just now), lift 0 %; dock not observed yet
    }
    assert monitor.summary()["total"] == 5
    assert [device.key for device in monitor.all(tenant_id="globex")] == ["shop"]


# ------------------------------------------------------------------------------------------ the started hub


async def test_started_hub_has_a_health_monitor(hub: Hub, server: DeviceServer, session: aiohttp.ClientSession) -> None:
    device = hub.health.track("door_controller", "Door controller", check=http_check(session, server.url()))

    await wait_for(lambda: device.level is HealthLevel.EXCELLENT)

    assert hub.states.get("binary_sensor.door_controller_connected").state == "on"  # type: ignore[union-attr]
