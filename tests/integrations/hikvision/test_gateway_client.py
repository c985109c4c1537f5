"""GatewayClient against the Hik Device Gateway simulator: device list, adding ISUP devices, passthrough by
devIndex, the subscribeDeviceMgmt stream and live-view URLs, over real loopback HTTP with Digest."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from hub.testing import wait_for
from integrations.hikvision.events import HikEvent
from integrations.hikvision.gateway_client import GatewayClient, GatewayDevice, parse_gateway_device
from integrations.hikvision.isapi_client import IsapiAuthError, IsapiConnectionError, IsapiDeviceError
from integrations.hikvision.simulator import GatewaySimulator, IsapiDeviceSimulator


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@contextlib.asynccontextmanager
async def site(
    heartbeat: float = 10.0, kinds: tuple[str, ...] = ("access",)
) -> AsyncIterator[tuple[GatewaySimulator, list[IsapiDeviceSimulator], list[str]]]:
    """A gateway with one simulated device per kind, registered as ISUP devices ``F0000000<n>``."""
    async with contextlib.AsyncExitStack() as stack:
        gateway = await stack.enter_async_context(GatewaySimulator(heartbeat_interval=heartbeat))
        sims: list[IsapiDeviceSimulator] = []
        indexes: list[str] = []
        for number, kind in enumerate(kinds, start=1):
            sim = await stack.enter_async_context(
                IsapiDeviceSimulator(f"DS-K1T0000{number}", kind=kind, keepalive_interval=30)  # type: ignore[arg-type]
            )
            sims.append(sim)
            indexes.append(gateway.add_simulated_device(sim, f"F0000000{number}", key="k3y"))
        yield gateway, sims, indexes


def gateway_client(session: aiohttp.ClientSession, gateway: GatewaySimulator, **options: Any) -> GatewayClient:
    return GatewayClient(session, gateway.url, gateway.username, options.get("password", gateway.password))


class Subscriber:
    def __init__(self, client: GatewayClient, **options: Any) -> None:
        self.events: list[HikEvent] = []
        self.error: BaseException | None = None
        self._task = asyncio.create_task(self._run(client, options))

    async def _run(self, client: GatewayClient, options: dict[str, Any]) -> None:
        try:
            async for event in client.subscribe(**options):
                self.events.append(event)
        except IsapiConnectionError as err:
            self.error = err

    def real(self) -> list[HikEvent]:
        return [event for event in self.events if not event.keepalive]

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def test_device_list_pages_and_reports_status(session: aiohttp.ClientSession) -> None:
    async with site(kinds=("access", "camera", "access")) as (gateway, _sims, indexes):
        gateway.set_online(indexes[2], False)
        client = gateway_client(session, gateway)
        devices = await client.device_list(page_size=2)
        assert [device.dev_index for device in devices] == indexes
        assert gateway.requests["/ISAPI/ContentMgmt/DeviceMgmt/deviceList"] == 3  # the login challenge, 2 pages
        first = devices[0]
        assert (first.ehome_id, first.protocol, first.dev_type, first.online) == (
            "F00000001",
            "ehomeV5",
            "AccessControl",
            True,
        )
        assert first.model == "DS-K1T671M"
        assert devices[1].dev_type == "encodingDev"
        assert not devices[2].online


async def test_add_and_delete_an_isup_device(session: aiohttp.ClientSession) -> None:
    async with site(kinds=()) as (gateway, _sims, _indexes):
        client = gateway_client(session, gateway)
        dev_index = await client.add_device("F16507415", "s3cretKey", "Staff door", "AccessControl")
        listed = {device.dev_index: device for device in await client.device_list()}
        assert listed[dev_index].ehome_id == "F16507415" and not listed[dev_index].online
        with pytest.raises(IsapiDeviceError, match="F16507415"):
            await client.add_device("F16507415", "s3cretKey", "Again")
        async with IsapiDeviceSimulator("DS-K1T341F16507415") as sim:
            assert gateway.add_simulated_device(sim, "F16507415", key="s3cretKey") == dev_index
            assert [device.online for device in await client.device_list()] == [True]
        await client.delete_devices([dev_index])
        await client.delete_devices([])
        assert await client.device_list() == []


async def test_passthrough_reaches_the_device_by_dev_index(session: aiohttp.ClientSession) -> None:
    async with site(kinds=("access", "camera")) as (gateway, sims, indexes):
        client = gateway_client(session, gateway)
        terminal = client.device(indexes[0])
        assert (await terminal.device_info()).serial_number == "DS-K1T00001"
        assert (await client.device(indexes[1]).device_info()).serial_number == "DS-K1T00002"
        assert gateway.requests["/ISAPI/System/deviceInfo"] == 3  # one challenge for the shared gateway login
        await terminal.door_control(1, "alwaysOpen")
        assert sims[0].access.doors[0].mode == "alwaysOpen"
        assert (await client.isapi.device_info()).device_type == "DeviceGateway"
        gateway.set_online(indexes[0], False)
        with pytest.raises(IsapiConnectionError, match="offline"):
            await terminal.door_control(1, "open")
        with pytest.raises(IsapiDeviceError):
            await client.device("00000000-0000-0000-0000-000000000000").device_info()


async def test_alert_stream_through_the_gateway_tags_the_dev_index(session: aiohttp.ClientSession) -> None:
    async with site(kinds=("camera",)) as (gateway, sims, indexes):
        client = gateway_client(session, gateway).device(indexes[0])
        events: list[HikEvent] = []

        async def follow() -> None:
            async for event in client.alert_stream():
                events.append(event)

        task = asyncio.create_task(follow())
        try:
            await wait_for(lambda: sims[0].stream_count == 1)
            sims[0].emit_event("fielddetection", channel=1)
            await wait_for(lambda: len(events) == 1)
            assert events[0].event_type == "fielddetection" and events[0].dev_index == indexes[0]
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, IsapiConnectionError):
                await task


async def test_subscription_carries_every_device_with_heartbeats(session: aiohttp.ClientSession) -> None:
    async with site(heartbeat=0.05, kinds=("access", "camera")) as (gateway, sims, indexes):
        subscriber = Subscriber(gateway_client(session, gateway))
        try:
            await wait_for(lambda: sum(event.keepalive for event in subscriber.events) >= 2)
            serial_no = sims[0].emit_access(5, 75, employee_no="4", name="Ada")
            sims[1].emit_event("vmd", channel=1)
            await wait_for(lambda: len(subscriber.real()) == 2)
            access, motion = subscriber.real()
            assert access.dev_index == indexes[0] and access.device_id == "F00000001"
            assert access.access is not None and access.access.serial_no == serial_no
            assert (motion.dev_index, motion.event_type) == (indexes[1], "vmd")
            heartbeat = next(event for event in subscriber.events if event.keepalive)
            assert heartbeat.event_type == "heartBeat" and heartbeat.dev_index is None
            gateway.disconnect_subscriptions()
            await wait_for(lambda: subscriber.error is not None)
        finally:
            await subscriber.close()


async def test_subscription_without_heartbeats_times_out(session: aiohttp.ClientSession) -> None:
    async with site(heartbeat=30) as (gateway, _sims, _indexes):
        subscriber = Subscriber(gateway_client(session, gateway), heartbeat_timeout=0.3)
        try:
            await wait_for(lambda: subscriber.error is not None)
            assert "no data for 0.3 s" in str(subscriber.error)
            assert [event.keepalive for event in subscriber.events] == [True]  # the opening heartbeat only
        finally:
            await subscriber.close()


async def test_stream_url_and_wrong_gateway_password(session: aiohttp.ClientSession) -> None:
    async with site(kinds=("camera",)) as (gateway, _sims, indexes):
        url = await gateway_client(session, gateway).stream_url(indexes[0], 101)
        assert url.startswith("rtsp://127.0.0.1:554/") and indexes[0] in url
        with pytest.raises(IsapiAuthError):
            await gateway_client(session, gateway, password="wrong").device_list()
        assert gateway.auth.failed_attempts == 1


def test_parse_gateway_device_reads_the_webhook_device_object() -> None:
    device = parse_gateway_device(
        {
            "EhomeParams": {"EhomeID": "J81551785"},
            "activeStatus": True,
            "devIndex": "38941127-49B5-44B3-84FC-219747AFF04E",
            "devMode": "AE-DI5042-G4",
            "devName": "DASHCAM",
            "devStatus": "online",
            "devType": "encodingDev",
            "protocolType": "ehomeV5",
            "devSerial": "AE-DI5042-G420230101AAWRJ81551785",
        }
    )
    assert device == GatewayDevice(
        dev_index="38941127-49B5-44B3-84FC-219747AFF04E",
        name="DASHCAM",
        model="AE-DI5042-G4",
        dev_type="encodingDev",
        protocol="ehomeV5",
        online=True,
        ehome_id="J81551785",
        serial="AE-DI5042-G420230101AAWRJ81551785",
    )
    with pytest.raises(ValueError, match="devIndex"):
        parse_gateway_device({"devName": "no index"})
