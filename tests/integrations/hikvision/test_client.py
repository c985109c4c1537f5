"""IsapiClient against the ISAPI device simulator over real loopback HTTP: auth, calls, paging, video, streams."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from PIL import Image

from hub.testing import free_port, wait_for
from integrations.hikvision.client_auth import ClientAuth, SentAuth, parse_challenges
from integrations.hikvision.events import HikEvent, parse_event_log
from integrations.hikvision.isapi_client import (
    IsapiAuthError,
    IsapiClient,
    IsapiConnectionError,
    IsapiDeviceError,
    StreamingChannel,
)
from integrations.hikvision.simulator import IsapiDeviceSimulator

SERIAL = "DS-K1T671M0120240101"
USER_PATH = "/ISAPI/AccessControl/UserInfo/Search"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@contextlib.asynccontextmanager
async def device(**options: Any) -> AsyncIterator[IsapiDeviceSimulator]:
    options.setdefault("keepalive_interval", 10.0)
    async with IsapiDeviceSimulator(options.pop("serial", SERIAL), **options) as sim:
        yield sim


def client_for(session: aiohttp.ClientSession, sim: IsapiDeviceSimulator, **options: Any) -> IsapiClient:
    return IsapiClient(session, sim.url, options.pop("username", sim.username), options.pop("password", sim.password))


class EventCollector:
    """Follows ``client.alert_stream()`` in a task; events land in ``events``, the end in ``error``."""

    def __init__(self, client: IsapiClient, **options: Any) -> None:
        self.events: list[HikEvent] = []
        self.error: BaseException | None = None
        self._task = asyncio.create_task(self._run(client, options))

    async def _run(self, client: IsapiClient, options: dict[str, Any]) -> None:
        try:
            async for event in client.alert_stream(**options):
                self.events.append(event)
        except IsapiConnectionError as err:
            self.error = err

    def real(self) -> list[HikEvent]:
        return [event for event in self.events if not event.keepalive]

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def jpeg(size: tuple[int, int] = (64, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (120, 90, 60)).save(buffer, format="JPEG")
    return buffer.getvalue()


# -- authentication ---------------------------------------------------------------------------------------------------


async def test_digest_login_reads_device_info_and_reuses_the_nonce(session: aiohttp.ClientSession) -> None:
    async with device(kind="access") as sim:
        client = client_for(session, sim)
        info = await client.device_info()
        assert info.serial_number == SERIAL
        assert (info.model, info.device_type, info.mac_address) == (sim.model, "ACS", sim.mac_address)
        assert info.firmware_version and info.name == sim.name and info.device_id == sim.device_id
        assert sim.requests["/ISAPI/System/deviceInfo"] == 2  # one 401 challenge, then the real call
        for _ in range(3):
            await client.device_info()
        assert sim.requests["/ISAPI/System/deviceInfo"] == 5  # nonce reused with nc counting: no more 401s
        assert sim.failed_auth_attempts == 0


async def test_basic_when_the_device_asks_for_it(session: aiohttp.ClientSession) -> None:
    async with device(auth="basic", kind="camera") as sim:
        client = client_for(session, sim)
        assert (await client.device_info()).device_type == "IPCamera"
        await client.device_info()
        assert sim.requests["/ISAPI/System/deviceInfo"] == 3


async def test_wrong_password_costs_exactly_one_attempt(session: aiohttp.ClientSession) -> None:
    async with device() as sim:
        client = client_for(session, sim, password="wrong")
        with pytest.raises(IsapiAuthError) as caught:
            await client.device_info()
        assert sim.failed_auth_attempts == 1
        assert not caught.value.locked
        assert caught.value.attempts_left == 4
        assert caught.value.http_status == 401
        assert "refused" in str(caught.value)


async def test_locked_account_is_reported_as_locked(session: aiohttp.ClientSession) -> None:
    async with device(lock_after_failures=2) as sim:
        wrong = client_for(session, sim, password="wrong")
        for _ in range(2):
            with pytest.raises(IsapiAuthError):
                await wrong.device_info()
        assert sim.locked
        right = client_for(session, sim)
        with pytest.raises(IsapiAuthError) as caught:
            await right.device_info()
        assert caught.value.locked and caught.value.http_status == 403
        assert "locked" in str(caught.value)
        sim.unlock()
        assert (await right.device_info()).serial_number == SERIAL


async def test_expired_nonce_is_renewed_without_a_failed_attempt(session: aiohttp.ClientSession) -> None:
    async with device(nonce_lifetime=0.2) as sim:
        client = client_for(session, sim)
        await client.device_info()
        await asyncio.sleep(0.3)  # let the device expire its nonce: it answers stale=true
        await client.device_info()
        assert sim.failed_auth_attempts == 0
        assert sim.requests["/ISAPI/System/deviceInfo"] == 4


async def test_password_changed_on_the_device_stops_after_one_renewal(session: aiohttp.ClientSession) -> None:
    async with device() as sim:
        client = client_for(session, sim)
        await client.device_info()
        sim.set_password("n3w-Passw0rd")
        with pytest.raises(IsapiAuthError):
            await client.device_info()
        # the nonce that worked was refused: tried once more with the fresh nonce (it may have expired), then stop
        assert sim.failed_auth_attempts == 2
        with pytest.raises(IsapiAuthError):
            await client.device_info()
        assert sim.failed_auth_attempts == 3


def test_challenge_parsing_handles_several_schemes_in_one_header() -> None:
    challenges = parse_challenges(
        ['Digest realm="DS-2CD(12345)", nonce="abc,def", qop="auth,auth-int", stale=FALSE, Basic realm="x"']
    )
    assert [c.scheme for c in challenges] == ["digest", "basic"]
    assert challenges[0].params["nonce"] == "abc,def"
    assert challenges[0].params["stale"] == "FALSE"


def test_a_proven_nonce_replaced_without_stale_is_retried_but_a_fresh_one_is_not() -> None:
    auth = ClientAuth("admin", "pw")
    assert auth.challenged(['Digest realm="r", nonce="n1", qop="auth"'], SentAuth("none"))
    header, sent = auth.authorization("GET", "/ISAPI/System/deviceInfo")
    assert header is not None and 'nonce="n1"' in header and "nc=00000001" in header
    auth.accepted(sent)
    _, sent = auth.authorization("GET", "/ISAPI/System/deviceInfo")
    # n1 worked before, the device replaced it silently (no stale flag): the password is not the problem
    assert auth.challenged(['Digest realm="r", nonce="n2", qop="auth"'], sent)
    header, sent = auth.authorization("GET", "/x")
    assert header is not None and 'nonce="n2"' in header and "nc=00000001" in header
    # n2 never worked: a 401 for it is the password
    assert not auth.challenged(['Digest realm="r", nonce="n3", qop="auth"'], sent)


def test_unsupported_challenges_are_named() -> None:
    from integrations.hikvision.client_auth import UnsupportedAuthError

    auth = ClientAuth("admin", "pw")
    with pytest.raises(UnsupportedAuthError, match="bearer"):
        auth.challenged(['Bearer realm="x"'], SentAuth("none"))
    with pytest.raises(UnsupportedAuthError, match="SHA-512"):
        auth.challenged(['Digest realm="r", nonce="n", algorithm=SHA-512'], SentAuth("none"))


async def test_unreachable_device_is_a_connection_error(session: aiohttp.ClientSession) -> None:
    client = IsapiClient(session, f"http://127.0.0.1:{free_port()}", "admin", "x", timeout=2)
    with pytest.raises(IsapiConnectionError, match="deviceInfo"):
        await client.device_info()


async def test_html_error_page_is_a_connection_error(session: aiohttp.ClientSession) -> None:
    async with device() as sim:
        client = client_for(session, sim)
        await client.device_info()
        sim.inject("html_error")
        with pytest.raises(IsapiConnectionError, match="HTML") as caught:
            await client.device_info()
        assert caught.value.http_status == 500
        assert (await client.device_info()).serial_number == SERIAL


def test_bad_base_url_is_refused() -> None:
    with pytest.raises(ValueError, match="base_url"):
        IsapiClient(None, "192.0.2.1", "admin", "x")  # type: ignore[arg-type]


# -- doors ------------------------------------------------------------------------------------------------------------


async def test_door_commands_and_status(session: aiohttp.ClientSession) -> None:
    async with device(doors=2) as sim:
        client = client_for(session, sim)
        await client.door_control(2, "alwaysOpen")
        status = await client.door_status()
        assert status["doorStatus"] == [4, 2]
        assert status["doorLockStatus"] == [0, 1]
        await client.door_control(2, "alwaysClose")
        assert (await client.door_status())["doorStatus"] == [4, 3]
        with pytest.raises(IsapiDeviceError) as caught:
            await client.door_control(5, "open")
        assert caught.value.status_code == 6 and caught.value.sub_status_code == "badParameters"
        assert "door 5" in caught.value.error_msg
        with pytest.raises(ValueError, match="cmd"):
            await client.door_control(1, "unlock")  # type: ignore[arg-type]


# -- users, cards, faces ----------------------------------------------------------------------------------------------


def person(number: int) -> dict[str, Any]:
    return {
        "employeeNo": str(number),
        "name": f"Person {number}",
        "userType": "normal",
        "Valid": {"enable": True, "beginTime": "2024-01-01T00:00:00", "endTime": "2037-12-31T23:59:59"},
        "doorRight": "1",
        "RightPlan": [{"doorNo": 1, "planTemplateNo": "1"}],
    }


async def test_users_are_added_paged_modified_and_deleted(session: aiohttp.ClientSession) -> None:
    async with device() as sim:
        client = client_for(session, sim)
        await client.add_users([person(n) for n in range(1, 66)])
        assert await client.count_users() == 65
        users = [user async for user in client.search_users()]
        assert sorted(int(user["employeeNo"]) for user in users) == list(range(1, 66))
        assert sim.requests[USER_PATH] == 3  # 30 + 30 + 5 with one searchID
        picked = [user["name"] async for user in client.search_users(["7", "9"])]
        assert sorted(picked) == ["Person 7", "Person 9"]
        await client.modify_user({**person(7), "name": "Renamed"})
        assert [user["name"] async for user in client.search_users(["7"])] == ["Renamed"]
        with pytest.raises(IsapiDeviceError) as caught:
            await client.add_users([person(7)])
        assert caught.value.sub_status_code == "employeeNoAlreadyExist"
        await client.delete_users(["7", "404"])  # 404 never existed: still a success
        await client.delete_users([])
        assert await client.count_users() == 64


async def test_cards_and_faces(session: aiohttp.ClientSession) -> None:
    async with device() as sim:
        client = client_for(session, sim)
        await client.add_users([person(1), person(2)])
        await client.add_cards(
            [{"employeeNo": "1", "cardNo": "1000001", "cardType": "normalCard"}, {"employeeNo": "2", "cardNo": "7"}]
        )
        cards = [card async for card in client.search_cards()]
        assert sorted(card["cardNo"] for card in cards) == ["1000001", "7"]
        assert [card["cardNo"] async for card in client.search_cards(["2"])] == ["7"]
        await client.delete_cards(["7"])
        assert [card["cardNo"] async for card in client.search_cards()] == ["1000001"]

        await client.add_face("1", jpeg())
        faces = [face async for face in client.search_faces()]
        assert [face["FPID"] for face in faces] == ["1"]
        assert [face["FPID"] async for face in client.search_faces(fpid="2")] == []
        with pytest.raises(IsapiDeviceError):
            await client.add_face("99", jpeg())  # nobody has employee number 99
        await client.delete_faces(["1"])
        assert [face async for face in client.search_faces()] == []


# -- access history ---------------------------------------------------------------------------------------------------


async def test_acs_events_page_through_the_history(session: aiohttp.ClientSession) -> None:
    async with device() as sim:
        start = datetime.now(UTC) - timedelta(hours=1)
        serials = [sim.record_offline_access(5, 75, employee_no=str(n % 5 + 1)) for n in range(70)]
        sim.record_offline_access(5, 76, employee_no="3", when=start - timedelta(days=1))  # outside the window
        client = client_for(session, sim)
        records = [r async for r in client.acs_events(start, datetime.now(UTC) + timedelta(minutes=1), pace=0.01)]
        assert [r.serial_no for r in records] == serials
        assert sim.requests["/ISAPI/AccessControl/AcsEvent"] == 4  # the login challenge, then 30 + 30 + 10
        assert all(r.meaning.kind == "granted" and r.time is not None for r in records)
        assert records[0].employee_no == "1"
        nothing = [r async for r in client.acs_events(start - timedelta(days=9), start - timedelta(days=8))]
        assert nothing == []


# -- video ------------------------------------------------------------------------------------------------------------


async def test_camera_snapshot_channels_and_rtsp(session: aiohttp.ClientSession) -> None:
    async with device(kind="camera", channels=2, rtsp_port=8554, password="p@ss:w/rd") as sim:
        client = client_for(session, sim)
        picture = await client.snapshot(201)
        assert picture[:2] == b"\xff\xd8"
        assert Image.open(io.BytesIO(picture)).size == (1920, 1080)
        channels = await client.streaming_channels()
        assert [c.id for c in channels] == [101, 102, 201, 202]
        assert channels[0] == StreamingChannel(101, "Camera 01", (1920, 1080), "H.264")
        assert (channels[1].channel, channels[1].stream, channels[1].resolution) == (1, "sub", (640, 360))
        assert await client.rtsp_port() == 8554
        assert client.rtsp_url(2, "sub", 8554) == "rtsp://admin:p%40ss%3Aw%2Frd@127.0.0.1:8554/Streaming/Channels/202"
        with pytest.raises(IsapiDeviceError) as caught:
            await client.snapshot(901)
        assert caught.value.http_status == 404


async def test_nvr_snapshot_falls_back_to_the_streaming_proxy(session: aiohttp.ClientSession) -> None:
    async with device(kind="nvr", channels=4) as sim:
        client = client_for(session, sim)
        assert (await client.snapshot(301))[:2] == b"\xff\xd8"
        assert sim.requests["/ISAPI/ContentMgmt/StreamingProxy/channels/301/picture"] == 1


async def test_busy_device_is_asked_again_for_a_snapshot(session: aiohttp.ClientSession) -> None:
    async with device(kind="camera") as sim:
        client = client_for(session, sim)
        await client.device_info()
        sim.inject("device_busy", count=2)
        assert (await client.snapshot(101, busy_delay=0.01))[:2] == b"\xff\xd8"
        assert sim.requests["/ISAPI/Streaming/channels/101/picture"] == 3
        sim.inject("device_busy", count=3)
        with pytest.raises(IsapiDeviceError) as caught:
            await client.snapshot(101, busy_delay=0.01)
        assert caught.value.status_code == 3


# -- push mode --------------------------------------------------------------------------------------------------------


async def test_http_host_makes_the_device_push_events_we_can_parse(session: aiohttp.ClientSession) -> None:
    received: asyncio.Queue[HikEvent] = asyncio.Queue()

    async def receive(request: web.Request) -> web.Response:
        received.put_nowait(parse_event_log(request.headers["Content-Type"], await request.read()))
        return web.Response(text="OK")

    app = web.Application()
    app.router.add_post("/api/hikvision/push/token123", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with device(kind="access") as sim:
            client = client_for(session, sim)
            await client.set_http_host("/api/hikvision/push/token123", "127.0.0.1", port)
            assert sim.pusher.target == f"http://127.0.0.1:{port}/api/hikvision/push/token123"
            serial_no = sim.emit_access(5, 76, employee_no="3", picture=True)
            event = await asyncio.wait_for(received.get(), 5)
            assert event.access is not None and event.access.serial_no == serial_no
            assert event.access.meaning.kind == "denied"
            assert event.picture is not None and event.picture[:2] == b"\xff\xd8"
        async with device(kind="camera") as cam:
            await client_for(session, cam).set_http_host("push/token123", "localhost", port, "XML")
            assert cam.pusher.target == f"http://localhost:{port}/push/token123"
    finally:
        await runner.cleanup()


# -- the alert stream -------------------------------------------------------------------------------------------------


async def test_camera_stream_yields_xml_events_and_keepalives(session: aiohttp.ClientSession) -> None:
    async with device(kind="camera", channels=2, keepalive_interval=0.05) as sim:
        collector = EventCollector(client_for(session, sim))
        try:
            await wait_for(lambda: any(event.keepalive for event in collector.events))
            sim.emit_event("linedetection", channel=2)
            sim.emit_event("io", channel=1, active=False)
            await wait_for(lambda: len(collector.real()) == 2)
            line, io_event = collector.real()
            assert (line.event_type, line.channel, line.active) == ("linedetection", 2, True)
            assert line.raw["DetectionRegionList"]["DetectionRegionEntry"]["detectionTarget"] == "human"
            assert line.ip == "127.0.0.1" and line.time is not None
            assert (io_event.event_type, io_event.channel, io_event.active) == ("io", 1, False)
            keepalive = next(event for event in collector.events if event.keepalive)
            assert keepalive.event_type == "videoloss" and not keepalive.active
        finally:
            await collector.close()
        await wait_for(lambda: sim.stream_count == 0)


async def test_access_terminal_stream_yields_access_records(session: aiohttp.ClientSession) -> None:
    async with device(kind="access") as sim:
        collector = EventCollector(client_for(session, sim))
        try:
            await wait_for(lambda: sim.stream_count == 1)
            await client_for(session, sim).door_control(1, "open")
            serial_no = sim.emit_access(5, 1, employee_no="8", name="Grace", card_no="12345678")
            await wait_for(lambda: len(collector.real()) == 2)
            door, scan = collector.real()
            assert door.access is not None and door.access.meaning.text == "remote door open"
            assert scan.access is not None
            assert (scan.access.serial_no, scan.access.employee_no, scan.access.name) == (serial_no, "8", "Grace")
            assert (scan.access.card_no, scan.access.meaning.method) == ("12345678", "card")
            assert scan.serial == SERIAL
        finally:
            await collector.close()


async def test_bad_parts_are_skipped_and_the_stream_goes_on(
    session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    async with device(kind="camera") as sim:
        client = client_for(session, sim)
        collector = EventCollector(client)
        try:
            await wait_for(lambda: sim.stream_count == 1)
            for fault in ("malformed_xml", "wrong_boundary", "bogus_time"):
                sim.inject(fault)
                sim.emit_event("vmd")
            sim.emit_event("tamperdetection")
            await wait_for(lambda: len(collector.real()) == 2)
            bogus, tamper = collector.real()
            assert bogus.event_type == "vmd" and bogus.time is None
            assert tamper.event_type == "tamperdetection" and tamper.time is not None
            assert client.skipped_parts == 1
            assert len([r for r in caplog.records if "skipped a part" in r.getMessage()]) == 1
            assert len([r for r in caplog.records if "outside any part" in r.getMessage()]) == 1
            assert collector.error is None
        finally:
            await collector.close()


async def test_json_terminal_with_malformed_json_part(session: aiohttp.ClientSession) -> None:
    async with device(kind="access") as sim:
        client = client_for(session, sim)
        collector = EventCollector(client)
        try:
            await wait_for(lambda: sim.stream_count == 1)
            sim.inject("malformed_json")
            sim.emit_access()
            good = sim.emit_access()
            await wait_for(lambda: len(collector.real()) == 1)
            record = collector.real()[0].access
            assert record is not None and record.serial_no == good
            assert client.skipped_parts == 1
        finally:
            await collector.close()


@pytest.mark.parametrize("cut", ["truncate", "disconnect"])
async def test_a_broken_stream_raises_for_the_caller_to_reconnect(session: aiohttp.ClientSession, cut: str) -> None:
    async with device(kind="camera") as sim:
        collector = EventCollector(client_for(session, sim))
        try:
            await wait_for(lambda: sim.stream_count == 1)
            sim.emit_event("vmd")
            await wait_for(lambda: len(collector.real()) == 1)
            if cut == "truncate":
                sim.inject("truncate")
                sim.emit_event("vmd")
            else:
                sim.disconnect_streams()
            await wait_for(lambda: collector.error is not None)
            assert "alertStream" in str(collector.error)
            assert len(collector.real()) == 1
        finally:
            await collector.close()


async def test_a_silent_stream_times_out(session: aiohttp.ClientSession) -> None:
    async with device(kind="camera", keepalive_interval=30) as sim:
        collector = EventCollector(client_for(session, sim), idle_timeout=0.3)
        try:
            await wait_for(lambda: collector.error is not None)
            assert "no data for 0.3 s" in str(collector.error)
        finally:
            await collector.close()


async def test_stream_refused_by_an_html_page(session: aiohttp.ClientSession) -> None:
    async with device(kind="camera") as sim:
        client = client_for(session, sim)
        await client.device_info()
        sim.inject("html_error")
        with pytest.raises(IsapiConnectionError, match="HTML"):
            async for _ in client.alert_stream():
                pass


async def test_stream_with_wrong_password_is_an_auth_error(session: aiohttp.ClientSession) -> None:
    async with device(kind="camera") as sim:
        with pytest.raises(IsapiAuthError):
            async for _ in client_for(session, sim, password="nope").alert_stream():
                pass
        assert sim.failed_auth_attempts == 1


# -- quirks the simulator does not produce: a few raw aiohttp handlers ----------------------------------------------


@contextlib.asynccontextmanager
async def raw_device(handler: Any) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


XML_EVENT = (
    b"<EventNotificationAlert><eventType>VMD</eventType><eventState>active</eventState>"
    b"<channelID>3</channelID></EventNotificationAlert>"
)


async def _stream(request: web.Request, content_type: str, body: bytes) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": content_type})
    await response.prepare(request)
    await response.write(body)
    while request.transport is not None and not request.transport.is_closing():
        await asyncio.sleep(0.02)  # stays open like a device stream until the client leaves
    return response


async def test_stream_without_a_declared_boundary_takes_it_from_the_first_part(
    session: aiohttp.ClientSession,
) -> None:
    part = b"--myboundary\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n\r\n%s\r\n"

    async def handler(request: web.Request) -> web.StreamResponse:
        return await _stream(request, "multipart/mixed", part % (len(XML_EVENT), XML_EVENT))

    async with raw_device(handler) as url:
        stream = IsapiClient(session, url, "admin", "x").alert_stream()
        async with contextlib.aclosing(stream):
            event = await anext(stream)
        assert (event.event_type, event.channel) == ("VMD", 3)


async def test_stream_with_only_another_boundary_is_given_up(session: aiohttp.ClientSession) -> None:
    part = b"--other\r\nContent-Type: application/xml\r\n\r\n" + XML_EVENT + b"\r\n"

    async def handler(request: web.Request) -> web.StreamResponse:
        return await _stream(request, "multipart/mixed; boundary=expected", part * 200)

    async with raw_device(handler) as url:
        with pytest.raises(IsapiConnectionError, match="without the declared boundary"):
            async for _ in IsapiClient(session, url, "admin", "x").alert_stream():
                pass


async def test_answers_that_are_not_what_was_asked(session: aiohttp.ClientSession) -> None:
    answers: dict[str, tuple[int, str, bytes]] = {
        "/ISAPI/System/deviceInfo": (200, "text/html", b"<html><body>Login</body></html>"),
        "/ISAPI/AccessControl/AcsWorkStatus": (
            200,
            "application/json",
            b'{"ResponseStatus":{"statusCode":4,"statusString":"Invalid Operation","subStatusCode":"notSupport"}}',
        ),
        "/ISAPI/AccessControl/UserInfo/Count": (
            200,
            "application/xml",
            b"<ResponseStatus><statusCode>6</statusCode><subStatusCode>badXmlContent</subStatusCode></ResponseStatus>",
        ),
        "/ISAPI/Security/adminAccesses": (404, "text/html", b"<html>404 Not Found</html>"),
        "/ISAPI/Event/notification/alertStream": (200, "application/xml", XML_EVENT),
        "/ISAPI/Streaming/channels/101/picture": (200, "application/xml", XML_EVENT),
    }

    async def handler(request: web.Request) -> web.Response:
        status, content_type, body = answers.get(request.path, (502, "text/html", b"<!DOCTYPE html><html></html>"))
        return web.Response(status=status, body=body, headers={"Content-Type": content_type})

    async with raw_device(handler) as url:
        client = IsapiClient(session, url, "admin", "x")
        with pytest.raises(IsapiConnectionError, match="HTML page"):
            await client.device_info()
        with pytest.raises(IsapiDeviceError) as caught:
            await client.door_status()
        assert (caught.value.status_code, caught.value.sub_status_code) == (4, "notSupport")
        with pytest.raises(IsapiDeviceError, match="badXmlContent"):
            await client.count_users()
        assert await client.rtsp_port() == 554  # no adminAccesses: the default
        with pytest.raises(IsapiConnectionError, match="not a multipart stream"):
            async for _ in client.alert_stream():
                pass
        with pytest.raises(IsapiConnectionError, match="expected a JPEG"):
            await client.snapshot()
        with pytest.raises(IsapiConnectionError, match="HTTP 502 with an HTML error page"):
            await client.door_control(1, "open")
