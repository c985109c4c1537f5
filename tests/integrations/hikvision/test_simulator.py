"""The Hikvision device and gateway simulators, spoken to over loopback by a real HTTP client doing real Digest
(aiohttp's ``DigestAuthMiddleware``), real multipart parsing (aiohttp's ``MultipartReader``) and real paging."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree

import aiohttp
import pytest
from aiohttp import DigestAuthMiddleware, web
from PIL import Image

from hub.cli import build_parser
from hub.plugins import PluginManager
from hub.testing import wait_for
from integrations.hikvision import cli as hikvision_cli
from integrations.hikvision.simulator import BOGUS_TIME, GatewaySimulator, IsapiDeviceSimulator
from integrations.hikvision.simulator.auth import parse_auth_params
from integrations.hikvision.webhook_signature import HEADER_SIGNATURE, HEADER_TIMESTAMP, SignatureError, verify

NS = "{http://www.hikvision.com/ver20/XMLSchema}"
SUBSCRIBE = "/ISAPI/Event/notification/subscribeDeviceMgmt"
PASSWORD = "Passw0rd!"


@pytest.fixture
async def terminal() -> AsyncIterator[IsapiDeviceSimulator]:
    async with IsapiDeviceSimulator("DS-K1T671M0001", kind="access", keepalive_interval=0.2) as sim:
        yield sim


@pytest.fixture
async def camera() -> AsyncIterator[IsapiDeviceSimulator]:
    async with IsapiDeviceSimulator("DS-2CD2143G20001", kind="camera", keepalive_interval=0.2) as sim:
        yield sim


def digest_session(username: str = "admin", password: str = PASSWORD, preemptive: bool = True) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(middlewares=(DigestAuthMiddleware(username, password, preemptive=preemptive),))


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with digest_session() as client:
        yield client


def xml(body: str) -> dict[str, str]:
    root = ElementTree.fromstring(body)
    return {child.tag.removeprefix(NS): (child.text or "") for child in root}


async def post_json(session: aiohttp.ClientSession, url: str, payload: Any, method: str = "POST") -> Any:
    async with session.request(method, url, json=payload) as reply:
        return reply.status, await reply.json(content_type=None)


def fields_of(kind: str, body: bytes) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(body) if kind.startswith("application/json") else xml(body.decode())
    return parsed


def is_keepalive(fields: dict[str, Any]) -> bool:
    kind = fields.get("eventType")
    return kind == "heartBeat" or (kind == "videoloss" and fields.get("eventState") == "inactive")


class Parts:
    """The parts of one multipart stream, read with aiohttp's own multipart parser."""

    def __init__(self, reply: aiohttp.ClientResponse) -> None:
        self._reader = aiohttp.MultipartReader.from_response(reply)

    async def next(self) -> tuple[str, bytes]:
        part = await self._reader.next()
        assert isinstance(part, aiohttp.BodyPartReader)
        return part.headers["Content-Type"], await part.read()

    async def raw(self, count: int) -> list[tuple[str, bytes]]:
        return [await self.next() for _ in range(count)]

    async def events(self, count: int) -> list[dict[str, Any]]:
        """The next ``count`` events, keep-alives skipped (they come whenever the stream idles)."""
        found: list[dict[str, Any]] = []
        while len(found) < count:
            fields = fields_of(*await self.next())
            if not is_keepalive(fields):
                found.append(fields)
        return found

    async def keepalive(self) -> tuple[str, dict[str, Any]]:
        while True:
            kind, body = await self.next()
            if is_keepalive(fields := fields_of(kind, body)):
                return kind, fields


# ------------------------------------------------------------------------------------------ login


async def test_device_info_over_digest_in_xml_and_json(terminal: IsapiDeviceSimulator, session: Any) -> None:
    async with session.get(terminal.url + "/ISAPI/System/deviceInfo") as reply:
        assert reply.status == 200 and reply.content_type == "application/xml"
        info = xml(await reply.text())
    assert (info["serialNumber"], info["model"], info["deviceType"]) == ("DS-K1T671M0001", "DS-K1T671M", "ACS")
    assert info["macAddress"] == terminal.mac_address and info["firmwareVersion"].startswith("V")
    status, body = await post_json(session, terminal.url + "/ISAPI/System/deviceInfo?format=json", None, "GET")
    assert status == 200 and body["DeviceInfo"]["serialNumber"] == "DS-K1T671M0001"
    assert terminal.failed_auth_attempts == 0
    assert terminal.requests["/ISAPI/System/deviceInfo"] >= 3  # the challenge, then the two authenticated requests


async def test_the_challenge_is_rfc7616_digest(terminal: IsapiDeviceSimulator) -> None:
    async with aiohttp.ClientSession() as anonymous, anonymous.get(terminal.url + "/ISAPI/System/deviceInfo") as reply:
        assert reply.status == 401
        scheme, _, rest = reply.headers["WWW-Authenticate"].partition(" ")
        assert "<retryLoginTime>5</retryLoginTime>" in await reply.text()
    challenge = parse_auth_params(rest)
    assert scheme == "Digest" and challenge["qop"] == "auth" and challenge["algorithm"] == "MD5"
    assert challenge["realm"] == terminal.auth.realm and challenge["stale"] == "FALSE" and challenge["nonce"]
    assert terminal.failed_auth_attempts == 0  # asking is not failing


def _authorization(sim: IsapiDeviceSimulator, nonce: str, uri: str, nc: str, password: str = PASSWORD) -> str:
    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    realm, cnonce = sim.auth.realm, "0a4f113b"
    response = md5(f"{md5(f'admin:{realm}:{password}')}:{nonce}:{nc}:{cnonce}:auth:{md5(f'GET:{uri}')}")
    return (
        f'Digest username="admin", realm="{realm}", nonce="{nonce}", uri="{uri}", qop=auth, nc={nc}, '
        f'cnonce="{cnonce}", response="{response}", opaque="{sim.auth._opaque}", algorithm=MD5'
    )


async def test_expired_and_replayed_nonces_are_stale_not_failures(terminal: IsapiDeviceSimulator) -> None:
    uri = "/ISAPI/System/deviceInfo?format=json"
    nonce = terminal.auth.new_nonce()
    async with aiohttp.ClientSession() as client:
        headers = {"Authorization": _authorization(terminal, nonce, uri, "00000001")}
        async with client.get(terminal.url + uri, headers=headers) as reply:
            assert reply.status == 200
        async with client.get(terminal.url + uri, headers=headers) as reply:  # the same nc again: a replay
            assert reply.status == 401 and 'stale="TRUE"' in reply.headers["WWW-Authenticate"]
        terminal.auth.nonce_lifetime = 0.0
        await asyncio.sleep(0.01)
        headers = {"Authorization": _authorization(terminal, nonce, uri, "00000002")}
        async with client.get(terminal.url + uri, headers=headers) as reply:
            assert reply.status == 401 and 'stale="TRUE"' in reply.headers["WWW-Authenticate"]
        headers = {"Authorization": _authorization(terminal, nonce, "/ISAPI/other", "00000003")}
        async with client.get(terminal.url + uri, headers=headers) as reply:
            assert reply.status == 400 and "uri" in await reply.text()
    assert terminal.failed_auth_attempts == 0


async def test_aiohttp_recovers_from_a_stale_nonce(terminal: IsapiDeviceSimulator, session: Any) -> None:
    terminal.auth.nonce_lifetime = 0.3
    for _ in range(3):
        async with session.get(terminal.url + "/ISAPI/System/deviceInfo") as reply:
            assert reply.status == 200
        await asyncio.sleep(0.31)
    assert terminal.failed_auth_attempts == 0


async def test_wrong_passwords_lock_the_account_until_unlocked(terminal: IsapiDeviceSimulator) -> None:
    url = terminal.url + "/ISAPI/System/deviceInfo"
    # not preemptive: each request is one challenge and one wrong answer (preemptive clients spend two)
    async with digest_session(password="wrong", preemptive=False) as bad, digest_session() as good:
        for attempt in range(4):
            async with bad.get(url) as reply:
                assert reply.status == 401
                assert f"<retryLoginTime>{4 - attempt}</retryLoginTime>" in await reply.text()
        async with bad.get(url) as reply:
            assert reply.status == 403 and "<lockStatus>lock</lockStatus>" in await reply.text()
        assert terminal.locked and terminal.failed_auth_attempts == 5
        async with good.get(url) as reply:  # the right password does not help while locked
            assert reply.status == 403
        terminal.unlock()
        async with good.get(url) as reply:
            assert reply.status == 200


async def test_a_changed_password_refuses_the_old_one(terminal: IsapiDeviceSimulator) -> None:
    terminal.set_password("N3w-secret")
    async with digest_session() as old, old.get(terminal.url + "/ISAPI/System/deviceInfo") as reply:
        assert reply.status == 401
    async with digest_session(password="N3w-secret") as new, new.get(terminal.url + "/ISAPI/System/deviceInfo") as r:
        assert r.status == 200
    assert terminal.failed_auth_attempts == 1


async def test_basic_auth_devices() -> None:
    async with IsapiDeviceSimulator("DS-2CD0000000001", kind="camera", auth="basic") as sim:
        async with aiohttp.ClientSession() as client:
            async with client.get(sim.url + "/ISAPI/System/deviceInfo") as reply:
                assert reply.status == 401 and reply.headers["WWW-Authenticate"].startswith("Basic realm=")
            good = {"Authorization": aiohttp.encode_basic_auth("admin", PASSWORD)}
            async with client.get(sim.url + "/ISAPI/System/deviceInfo", headers=good) as reply:
                assert reply.status == 200 and xml(await reply.text())["deviceType"] == "IPCamera"
            bad = {"Authorization": aiohttp.encode_basic_auth("admin", "x")}
            async with client.get(sim.url + "/ISAPI/System/deviceInfo", headers=bad) as reply:
                assert reply.status == 401
        assert sim.failed_auth_attempts == 1


async def test_unknown_paths_answer_a_response_status(terminal: IsapiDeviceSimulator, session: Any) -> None:
    async with session.get(terminal.url + "/ISAPI/Nothing/here") as reply:
        assert reply.status == 404
        fields = xml(await reply.text())
    assert (fields["statusCode"], fields["subStatusCode"]) == ("4", "notSupport")


# ------------------------------------------------------------------------------------------ alertStream


async def test_alert_stream_of_an_access_terminal(terminal: IsapiDeviceSimulator, session: Any) -> None:
    terminal.people.users["7"] = {"employeeNo": "7", "name": "Ada"}
    async with session.get(terminal.url + "/ISAPI/Event/notification/alertStream") as reply:
        assert reply.headers["Content-Type"] == "multipart/mixed; boundary=MIME_boundary"
        parts = Parts(reply)
        kind, keepalive = await parts.keepalive()  # idle: an inactive videoloss
        assert kind.startswith("application/json") and keepalive["eventType"] == "videoloss"
        serial = terminal.emit_access(5, 75, employee_no="7", card_no="12345")
        [event] = await parts.events(1)
    block = event["AccessControllerEvent"]
    assert event["eventType"] == "AccessControllerEvent" and event["eventState"] == "active"
    assert (block["majorEventType"], block["subEventType"], block["serialNo"]) == (5, 75, serial)
    assert (block["employeeNoString"], block["name"], block["cardNo"], block["doorNo"]) == ("7", "Ada", "12345", 1)
    assert datetime.fromisoformat(event["dateTime"]).tzinfo is not None
    assert serial in terminal.write_times and terminal.access.last_serial_no == serial


async def test_alert_stream_of_a_camera_is_xml(camera: IsapiDeviceSimulator, session: Any) -> None:
    async with session.get(camera.url + "/ISAPI/Event/notification/alertStream") as reply:
        await wait_for(lambda: camera.stream_count == 1)
        seq = camera.emit_event("linedetection", channel=1)
        camera.emit_event("io", channel=2, active=False)
        events = await Parts(reply).events(2)
    assert events[0]["eventType"] == "linedetection" and events[0]["eventState"] == "active"
    assert events[0]["activePostCount"] == str(seq) and seq in camera.write_times
    assert "DetectionRegionList" in events[0]  # with its detectionTarget
    assert (
        events[1]["eventType"] == "io" and events[1]["inputIOPortID"] == "2" and events[1]["eventState"] == "inactive"
    )


async def test_stream_faults(terminal: IsapiDeviceSimulator, session: Any) -> None:
    terminal.keepalive_interval = 30
    async with session.get(terminal.url + "/ISAPI/Event/notification/alertStream") as reply:
        await wait_for(lambda: terminal.stream_count == 1)
        for fault in ("malformed_json", "malformed_xml", "bogus_time"):
            terminal.inject(fault)
            terminal.emit_access()
        terminal.emit_access()
        parts = await Parts(reply).raw(4)
        with pytest.raises(json.JSONDecodeError):
            json.loads(parts[0][1])
        with pytest.raises(ElementTree.ParseError):
            ElementTree.fromstring(parts[1][1])
        assert json.loads(parts[2][1])["dateTime"] == BOGUS_TIME
        assert json.loads(parts[3][1])["AccessControllerEvent"]["serialNo"] == 4
        terminal.inject("wrong_boundary")
        terminal.emit_access()
        raw = await reply.content.readuntil(b"\r\n\r\n")
        assert raw.startswith(b"--WRONG_boundary\r\n")
        terminal.inject("truncate")
        terminal.emit_access()
        with pytest.raises(aiohttp.ClientPayloadError):
            await reply.content.read()
    assert terminal.access.last_serial_no == 6  # faults hit the stream, never the device's own history


async def test_request_faults(terminal: IsapiDeviceSimulator, session: Any) -> None:
    terminal.inject("html_error")
    terminal.inject("device_busy")
    async with session.get(terminal.url + "/ISAPI/System/deviceInfo") as reply:
        assert reply.status == 500 and reply.content_type == "text/html" and "<html>" in await reply.text()
    async with session.get(terminal.url + "/ISAPI/System/deviceInfo") as reply:
        assert reply.status == 503 and xml(await reply.text())["statusCode"] == "3"
    async with session.get(terminal.url + "/ISAPI/System/deviceInfo") as reply:
        assert reply.status == 200
    with pytest.raises(ValueError, match="unknown fault"):
        terminal.inject("gremlins")


async def test_disconnect_streams_and_reconnect(terminal: IsapiDeviceSimulator, session: Any) -> None:
    async with session.get(terminal.url + "/ISAPI/Event/notification/alertStream") as reply:
        await wait_for(lambda: terminal.stream_count == 1)
        terminal.disconnect_streams()
        with pytest.raises(aiohttp.ClientPayloadError):
            await reply.content.read()
    await wait_for(lambda: terminal.stream_count == 0)
    async with session.get(terminal.url + "/ISAPI/Event/notification/alertStream") as reply:
        await wait_for(lambda: terminal.stream_count == 1)
        serial = terminal.emit_access()
        [event] = await Parts(reply).events(1)
        assert event["AccessControllerEvent"]["serialNo"] == serial


async def test_background_emitter(camera: IsapiDeviceSimulator, session: Any) -> None:
    async with session.get(camera.url + "/ISAPI/Event/notification/alertStream") as reply:
        await wait_for(lambda: camera.stream_count == 1)
        camera.events_per_second = 100
        motions = await Parts(reply).events(10)
        camera.events_per_second = 0
    assert {event["eventType"] for event in motions} == {"VMD"}
    assert [event["eventState"] for event in motions[:2]] == ["active", "inactive"]
    assert len(camera.write_times) >= 10


# ------------------------------------------------------------------------------------------ httpHosts push


class Receiver:
    """A hub-side listener on loopback that keeps every POST."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, bytes, dict[str, bytes]]] = []

    async def handle(self, request: web.Request) -> web.Response:
        forms: dict[str, bytes] = {}
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                assert isinstance(part, aiohttp.BodyPartReader)
                forms[part.name or ""] = await part.read()
            self.posts.append((request.headers["Content-Type"], b"", forms))
        else:
            self.posts.append((request.headers["Content-Type"], await request.read(), forms))
        return web.Response(text="OK")


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, int]]:
    sink = Receiver()
    app = web.Application()
    app.router.add_post("/hik/{token}", sink.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield sink, port
    await runner.cleanup()


async def test_http_hosts_push_from_a_camera_in_xml(camera: IsapiDeviceSimulator, session: Any, receiver: Any) -> None:
    sink, port = receiver
    body = (
        '<HttpHostNotificationList version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema"><HttpHostNotification>'
        "<id>1</id><url>/hik/abc</url><protocolType>HTTP</protocolType><parameterFormatType>XML</parameterFormatType>"
        f"<addressingFormatType>ipaddress</addressingFormatType><ipAddress>127.0.0.1</ipAddress><portNo>{port}</portNo>"
        "<httpAuthenticationMethod>none</httpAuthenticationMethod></HttpHostNotification></HttpHostNotificationList>"
    )
    async with session.put(camera.url + "/ISAPI/Event/notification/httpHosts", data=body) as reply:
        assert reply.status == 200 and xml(await reply.text())["statusCode"] == "1"
    async with session.get(camera.url + "/ISAPI/Event/notification/httpHosts") as reply:
        assert f"<portNo>{port}</portNo>" in await reply.text()
    seq = camera.emit_event("fielddetection")
    await wait_for(lambda: len(sink.posts) == 1)
    content_type, payload, _ = sink.posts[0]
    assert content_type.startswith("application/xml")
    assert xml(payload.decode())["eventType"] == "fielddetection" and seq in camera.write_times


async def test_http_hosts_push_from_a_terminal_as_event_log_form(
    terminal: IsapiDeviceSimulator, session: Any, receiver: Any
) -> None:
    sink, port = receiver
    host = {"id": "1", "url": "/hik/xyz", "protocolType": "HTTP", "parameterFormatType": "JSON",
            "addressingFormatType": "ipaddress", "ipAddress": "127.0.0.1", "portNo": port}  # fmt: skip
    url = terminal.url + "/ISAPI/Event/notification/httpHosts?format=json"
    status, answer = await post_json(
        session, url, {"HttpHostNotificationList": [{"HttpHostNotification": host}]}, "PUT"
    )
    assert status == 200 and answer["statusCode"] == 1
    status, listed = await post_json(session, url, None, "GET")
    assert listed["HttpHostNotificationList"][0]["HttpHostNotification"]["url"] == "/hik/xyz"
    serial = terminal.emit_access(5, 76, employee_no="3", picture=True)
    await wait_for(lambda: len(sink.posts) == 1)
    content_type, _, forms = sink.posts[0]
    assert content_type.startswith("multipart/form-data")
    event_log = json.loads(forms["event_log"])
    assert event_log["AccessControllerEvent"]["serialNo"] == serial
    assert event_log["AccessControllerEvent"]["subEventType"] == 76
    assert Image.open(io.BytesIO(forms["Picture"])).format == "JPEG"
    assert terminal.pusher.pushed == 1 and terminal.pusher.failures == 0
    status, refused = await post_json(session, url, {"HttpHostNotification": {**host, "portNo": 70000}}, "PUT")
    assert status == 400 and "portNo" in refused["errorMsg"]


# ------------------------------------------------------------------------------------------ AcsEvent history


async def test_acs_event_paging(terminal: IsapiDeviceSimulator, session: Any) -> None:
    start = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    for minute in range(75):
        terminal.record_offline_access(5, 75, employee_no=str(minute % 5 + 1), when=start + timedelta(minutes=minute))
    terminal.emit_access(5, 76)  # now: outside the window below
    url = terminal.url + "/ISAPI/AccessControl/AcsEvent?format=json"
    day = {"startTime": "2024-05-01T00:00:00+00:00", "endTime": "2024-05-01T23:59:59+00:00"}
    cond: dict[str, Any] = {"searchID": "abc", "searchResultPosition": 0, "maxResults": 50, "major": 5, **day}
    pages, serials = [], []
    while True:
        status, body = await post_json(session, url, {"AcsEventCond": cond})
        assert status == 200
        page = body["AcsEvent"]
        pages.append((page["responseStatusStrg"], page["numOfMatches"], page["totalMatches"]))
        serials += [record["serialNo"] for record in page.get("InfoList", [])]
        if page["responseStatusStrg"] != "MORE":
            break
        cond["searchResultPosition"] += page["numOfMatches"]
    assert pages == [("MORE", 30, 75), ("MORE", 30, 75), ("OK", 15, 75)]
    assert serials == list(range(1, 76))
    status, body = await post_json(session, url, {"AcsEventCond": {**cond, "searchResultPosition": 0, "minor": 76}})
    assert body["AcsEvent"]["responseStatusStrg"] == "NO MATCH" and "InfoList" not in body["AcsEvent"]
    since = {"searchID": "s2", "searchResultPosition": 0, "maxResults": 30, "major": 0, "minor": 0, "beginSerialNo": 70}
    status, body = await post_json(session, url, {"AcsEventCond": since})
    assert [record["serialNo"] for record in body["AcsEvent"]["InfoList"]] == list(range(70, 77))
    status, body = await post_json(session, url, {"AcsEventCond": {**cond, "startTime": "yesterday"}})
    assert status == 400 and "startTime" in body["errorMsg"]
    status, body = await post_json(session, url, {"AcsEventCond": {**cond, "searchID": ""}})
    assert status == 400 and "searchID" in body["errorMsg"]


# ------------------------------------------------------------------------------------------ people


async def test_users_cards_and_counts(terminal: IsapiDeviceSimulator, session: Any) -> None:
    base = terminal.url + "/ISAPI/AccessControl/"
    people = [{"employeeNo": str(number), "name": f"Person {number}", "userType": "normal"} for number in range(1, 36)]
    status, body = await post_json(session, base + "UserInfo/Record?format=json", {"UserInfo": people})
    assert status == 200 and body["statusCode"] == 1
    status, body = await post_json(session, base + "UserInfo/Record?format=json", {"UserInfo": people[0]})
    assert status == 400 and body["subStatusCode"] == "employeeNoAlreadyExist"
    status, body = await post_json(session, base + "UserInfo/Record?format=json", {"UserInfo": {"name": "x"}})
    assert status == 400 and "employeeNo" in body["errorMsg"]
    status, body = await post_json(session, base + "UserInfo/Count?format=json", None, "GET")
    assert body["UserInfoCount"]["userNumber"] == 35
    cond = {"searchID": "u1", "searchResultPosition": 0, "maxResults": 30}
    status, first = await post_json(session, base + "UserInfo/Search?format=json", {"UserInfoSearchCond": cond})
    cond["searchResultPosition"] = 30
    status, second = await post_json(session, base + "UserInfo/Search?format=json", {"UserInfoSearchCond": cond})
    assert (first["UserInfoSearch"]["responseStatusStrg"], second["UserInfoSearch"]["responseStatusStrg"]) == (
        "MORE",
        "OK",
    )
    assert len(first["UserInfoSearch"]["UserInfo"]) + len(second["UserInfoSearch"]["UserInfo"]) == 35
    modified = {"UserInfo": {"employeeNo": "2", "name": "Grace"}}
    status, _ = await post_json(session, base + "UserInfo/Modify?format=json", modified, "PUT")
    card = {"CardInfo": {"employeeNo": "2", "cardNo": "998877", "cardType": "normalCard"}}
    status, body = await post_json(session, base + "CardInfo/Record?format=json", card)
    assert status == 200
    status, body = await post_json(session, base + "CardInfo/Record?format=json", card)
    assert body["subStatusCode"] == "cardNoAlreadyExist"
    one = {"searchID": "u2", "searchResultPosition": 0, "maxResults": 10, "EmployeeNoList": [{"employeeNo": "2"}]}
    status, body = await post_json(session, base + "UserInfo/Search?format=json", {"UserInfoSearchCond": one})
    [grace] = body["UserInfoSearch"]["UserInfo"]
    assert (grace["name"], grace["numOfCard"]) == ("Grace", 1)
    status, body = await post_json(session, base + "CardInfo/Search?format=json", {"CardInfoSearchCond": one})
    assert body["CardInfoSearch"]["CardInfo"] == [card["CardInfo"]]
    delete = {"UserInfoDelCond": {"EmployeeNoList": [{"employeeNo": "2"}, {"employeeNo": "99"}]}}
    status, body = await post_json(session, base + "UserInfo/Delete?format=json", delete, "PUT")
    assert status == 400 and body["subStatusCode"] == "employeeNotExist" and "99" in body["errorMsg"]
    assert "2" not in terminal.people.users and terminal.people.cards == {}  # the card went with the person
    status, body = await post_json(session, base + "CardInfo/Count?format=json", None, "GET")
    assert body["CardInfoCount"]["cardNumber"] == 0


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (120, 80, 40)).save(buffer, format="JPEG")
    return buffer.getvalue()


async def test_faces_in_the_fdlib(terminal: IsapiDeviceSimulator, session: Any) -> None:
    terminal.people.users["5"] = {"employeeNo": "5", "name": "Lin"}
    url = terminal.url + "/ISAPI/Intelligent/FDLib/"

    def form(fpid: str, picture: bytes) -> aiohttp.FormData:
        data = aiohttp.FormData()
        record = json.dumps({"faceLibType": "blackFD", "FDID": "1", "FPID": fpid})
        data.add_field("FaceDataRecord", record, content_type="application/json")
        data.add_field("img", picture, filename="face.jpg", content_type="image/jpeg")
        return data

    async with session.post(url + "FaceDataRecord?format=json", data=form("5", _jpeg())) as reply:
        assert reply.status == 200 and (await reply.json())["FPID"] == "5"
    async with session.post(url + "FaceDataRecord?format=json", data=form("5", _jpeg())) as reply:
        assert (await reply.json())["subStatusCode"] == "deviceUserAlreadyExistFace"
    async with session.post(url + "FaceDataRecord?format=json", data=form("6", _jpeg())) as reply:
        assert (await reply.json())["subStatusCode"] == "employeeNotExist"
    async with session.post(url + "FaceDataRecord?format=json", data=form("5", b"not a jpeg")) as reply:
        assert reply.status == 400 and "JPEG" in (await reply.json())["errorMsg"]
    search = {"searchResultPosition": 0, "maxResults": 30, "faceLibType": "blackFD", "FDID": "1"}
    status, body = await post_json(session, url + "FDSearch?format=json", search)
    [match] = body["MatchList"]
    assert (body["responseStatusStrg"], match["FPID"]) == ("OK", "5")
    async with session.get(match["faceURL"]) as reply:
        assert Image.open(io.BytesIO(await reply.read())).size == (64, 64)
    status, body = await post_json(
        session, url + "FDSearch/Delete?format=json&FDID=1&faceLibType=blackFD", {"FPID": [{"value": "5"}]}, "PUT"
    )
    assert status == 200 and terminal.people.faces == {}


# ------------------------------------------------------------------------------------------ doors


async def test_remote_door_control_in_xml_and_json(terminal: IsapiDeviceSimulator, session: Any) -> None:
    terminal.access.open_seconds = 0.5
    door = terminal.url + "/ISAPI/AccessControl/RemoteControl/door/1"
    body = '<RemoteControlDoor version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema"><cmd>open</cmd></RemoteControlDoor>'
    async with session.put(door, data=body) as reply:
        assert reply.status == 200 and xml(await reply.text())["statusCode"] == "1"
    status, work = await post_json(
        session, terminal.url + "/ISAPI/AccessControl/AcsWorkStatus?format=json", None, "GET"
    )
    assert work["AcsWorkStatus"]["doorLockStatus"] == [1]
    await wait_for(lambda: terminal.access.work_status()["doorLockStatus"] == [0])  # relocked by itself
    status, _ = await post_json(session, door + "?format=json", {"RemoteControlDoor": {"cmd": "alwaysOpen"}}, "PUT")
    status, work = await post_json(
        session, terminal.url + "/ISAPI/AccessControl/AcsWorkStatus?format=json", None, "GET"
    )
    assert (work["AcsWorkStatus"]["doorLockStatus"], work["AcsWorkStatus"]["doorStatus"]) == ([1], [2])
    assert [(record["major"], record["minor"]) for _, record in terminal.access.history] == [(3, 1024), (3, 1026)]
    status, body = await post_json(session, door + "?format=json", {"RemoteControlDoor": {"cmd": "explode"}}, "PUT")
    assert status == 400 and "cmd" in body["errorMsg"]
    status, body = await post_json(
        session,
        terminal.url + "/ISAPI/AccessControl/RemoteControl/door/9?format=json",
        {"RemoteControlDoor": {}},
        "PUT",
    )
    assert status == 400 and "door 9" in body["errorMsg"]


# ------------------------------------------------------------------------------------------ video


async def test_channels_snapshot_and_rtsp_port(camera: IsapiDeviceSimulator, session: Any) -> None:
    async with session.get(camera.url + "/ISAPI/Streaming/channels") as reply:
        channels = ElementTree.fromstring(await reply.text())
    assert [element.findtext(f"{NS}id") for element in channels] == ["101", "102"]
    async with session.get(camera.url + "/ISAPI/Streaming/channels/101/picture") as reply:
        assert reply.content_type == "image/jpeg"
        assert Image.open(io.BytesIO(await reply.read())).size == (1920, 1080)
    async with session.get(camera.url + "/ISAPI/ContentMgmt/StreamingProxy/channels/101/picture") as reply:
        assert reply.status == 404
    async with session.get(camera.url + "/ISAPI/Security/adminAccesses") as reply:
        text = await reply.text()
    assert "<protocol>RTSP</protocol><portNo>554</portNo>" in text


async def test_an_nvr_serves_pictures_through_the_streaming_proxy(session: Any) -> None:
    async with IsapiDeviceSimulator("DS-7608NI0001", kind="nvr", channels=4) as nvr:
        async with session.get(nvr.url + "/ISAPI/Streaming/channels/301/picture") as reply:
            assert reply.status == 400 and xml(await reply.text())["statusCode"] == "6"
        url = nvr.url + "/ISAPI/ContentMgmt/StreamingProxy/channels/302/picture?videoResolutionWidth=320"
        async with session.get(url + "&videoResolutionHeight=180") as reply:
            assert Image.open(io.BytesIO(await reply.read())).size == (320, 180)


# ------------------------------------------------------------------------------------------ gateway


@pytest.fixture
async def gateway() -> AsyncIterator[GatewaySimulator]:
    async with GatewaySimulator(heartbeat_interval=0.2) as simulated:
        yield simulated


async def test_gateway_device_list_add_and_key_check(
    gateway: GatewaySimulator, terminal: IsapiDeviceSimulator, camera: IsapiDeviceSimulator, session: Any
) -> None:
    url = gateway.url + "/ISAPI/ContentMgmt/DeviceMgmt/"
    add = {"DeviceInList": [{"Device": {"protocolType": "ehomeV5", "devName": "Gate", "devType": "AccessControl",
                                        "EhomeParams": {"EhomeID": "FN2090414", "EhomeKey": "hik12345"}}}]}  # fmt: skip
    status, body = await post_json(session, url + "addDevice?format=json", add)
    [added] = body["DeviceOutList"]
    assert added["Device"]["status"] == "success" and added["Device"]["EhomeParams"]["EhomeID"] == "FN2090414"
    status, again = await post_json(session, url + "addDevice?format=json", add)
    assert again["DeviceOutList"][0]["Device"]["status"] == "failed"
    assert gateway.add_simulated_device(terminal, "FN2090414", key="wrong-key") == added["Device"]["devIndex"]
    camera_index = gateway.add_simulated_device(camera, "CAM000001")
    listing = {"SearchDescription": {"position": 0, "maxResult": 100}}
    status, body = await post_json(session, url + "deviceList?format=json", listing)
    devices = {
        match["Device"]["EhomeParams"]["EhomeID"]: match["Device"] for match in body["SearchResult"]["MatchList"]
    }
    assert devices["FN2090414"]["devStatus"] == "offline"  # ISUP key mismatch: it never comes online
    assert devices["CAM000001"]["devStatus"] == "online" and devices["CAM000001"]["devIndex"] == camera_index
    gateway.add_simulated_device(terminal, "FN2090414", key="hik12345")
    online = {"SearchDescription": {"position": 0, "maxResult": 1, "Filter": {"devStatus": ["online"]}}}
    status, body = await post_json(session, url + "deviceList?format=json", online)
    assert (body["SearchResult"]["numOfMatches"], body["SearchResult"]["totalMatches"]) == (1, 2)
    filtered = {"SearchDescription": {"position": 0, "maxResult": 10, "Filter": {"key": "fn209"}}}
    status, body = await post_json(session, url + "deviceList?format=json", filtered)
    assert [m["Device"]["devName"] for m in body["SearchResult"]["MatchList"]] == ["Gate"]
    modify = {"DeviceInfo": {"devIndex": camera_index, "devName": "Lobby"}}
    status, _ = await post_json(session, url + "modDevice?format=json", modify, "PUT")
    assert gateway.devices[camera_index].name == "Lobby"
    status, _ = await post_json(session, url + "delDevice?format=json", {"DevIndexList": [camera_index]})
    assert status == 200 and camera_index not in gateway.devices
    status, body = await post_json(session, url + "addDevice?format=json", {"DeviceInList": [{"Device": {}}]})
    assert status == 400 and "protocolType" in body["errorMsg"]


async def test_gateway_passthrough_by_dev_index(
    gateway: GatewaySimulator, terminal: IsapiDeviceSimulator, session: Any
) -> None:
    dev_index = gateway.add_simulated_device(terminal, terminal.serial)
    status, info = await post_json(
        session, f"{gateway.url}/ISAPI/System/deviceInfo?format=json&devIndex={dev_index}", None, "GET"
    )
    assert status == 200 and info["DeviceInfo"]["serialNumber"] == terminal.serial
    status, own = await post_json(session, gateway.url + "/ISAPI/System/deviceInfo?format=json", None, "GET")
    assert own["DeviceInfo"]["model"] == "HikDeviceGateway"
    door = f"{gateway.url}/ISAPI/AccessControl/RemoteControl/door/1?format=json&devIndex={dev_index}"
    status, body = await post_json(session, door, {"RemoteControlDoor": {"cmd": "open"}}, "PUT")
    assert status == 200 and terminal.access.work_status()["doorLockStatus"] == [1]
    media = f"{gateway.url}/ISAPI/System/streamMedia?format=json&devIndex={dev_index}"
    status, body = await post_json(session, media, {"StreamInfo": {"id": "101"}})
    assert body["streamUrl"].startswith("rtsp://127.0.0.1:554/") and dev_index in body["streamUrl"]
    status, body = await post_json(session, media, {"StreamInfo": {"id": "1", "streamType": "sub"}})
    assert body["streamUrl"].endswith("/channels/102")
    gateway.set_online(dev_index, False)
    status, body = await post_json(session, door, {"RemoteControlDoor": {"cmd": "open"}}, "PUT")
    assert status == 503 and body["subStatusCode"] == "deviceOffline"
    status, body = await post_json(
        session, gateway.url + "/ISAPI/System/deviceInfo?format=json&devIndex=nope", None, "GET"
    )
    assert status == 404 and "nope" in body["errorMsg"]
    assert terminal.failed_auth_attempts == 0


async def test_gateway_subscription_tags_events_with_dev_index(
    gateway: GatewaySimulator, terminal: IsapiDeviceSimulator, camera: IsapiDeviceSimulator, session: Any
) -> None:
    terminal_index = gateway.add_simulated_device(terminal, "FN2090414")
    camera_index = gateway.add_simulated_device(camera, "CAM000001")
    async with session.post(
        gateway.url + "/ISAPI/Event/notification/subscribeDeviceMgmt?format=json", json={}
    ) as reply:
        assert reply.headers["Content-Type"] == "multipart/mixed; boundary=MIME_boundary"
        parts = Parts(reply)
        heartbeat = fields_of(*await parts.next())  # the first part says the subscription is live
        assert heartbeat["eventType"] == "heartBeat" and gateway.subscription_count == 1
        serial = terminal.emit_access(5, 75)
        camera.emit_event("vmd")
        gateway.set_online(camera_index, False)
        camera.emit_event("vmd")  # offline devices' events do not reach the subscription
        events = await parts.events(2)
        _, idle = await parts.keepalive()  # heartbeats keep coming while idle
        assert idle["subscribeID"] == heartbeat["subscribeID"]
        query_url = f"{gateway.url}{SUBSCRIBE}/{heartbeat['subscribeID']}/queryStatus"
        _, query = await post_json(session, query_url, None, "GET")
        assert query["SubscribeDeviceMgmtStatus"]["status"] == "subscribed"
    assert [(event["eventType"], event["devIndex"]) for event in events] == [
        ("AccessControllerEvent", terminal_index),
        ("vmd", camera_index),
    ]
    assert events[0]["AccessControllerEvent"]["serialNo"] == serial and events[0]["deviceID"] == "FN2090414"


async def test_gateway_webhooks_are_signed(receiver: Any, terminal: IsapiDeviceSimulator) -> None:
    sink, port = receiver
    secret = "s3cret"
    async with GatewaySimulator(webhook_url=f"http://127.0.0.1:{port}/hik/webhook", webhook_secret=secret) as gateway:
        dev_index = gateway.add_simulated_device(terminal, "FN2090414")
        await wait_for(lambda: len(sink.posts) == 1)  # the device came online: a status webhook
        assert await gateway.send_webhook({"hello": "hub"}, timestamp=int(time.time()) - 3600) == 200
    status_post = sink.posts[0]
    assert json.loads(status_post[1])["Device"]["devIndex"] == dev_index
    assert gateway.webhook_statuses == [200, 200]


async def test_webhook_signature_headers(terminal: IsapiDeviceSimulator) -> None:
    seen: list[tuple[dict[str, str], bytes]] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append((dict(request.headers), await request.read()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/webhook", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with GatewaySimulator(webhook_url=f"http://127.0.0.1:{port}/webhook", webhook_secret="k") as gateway:
            await gateway.send_webhook({"devIndex": "X"})
            await gateway.send_webhook({"devIndex": "X"}, timestamp=int(time.time()) - 301)
            await gateway.send_webhook({"devIndex": "X"}, secret="forged")
    finally:
        await runner.cleanup()
    (good_headers, good_body), (stale_headers, stale_body), (forged_headers, forged_body) = seen
    verify("k", good_headers[HEADER_TIMESTAMP], good_headers[HEADER_SIGNATURE], good_body, now=time.time())
    with pytest.raises(SignatureError):
        verify("k", stale_headers[HEADER_TIMESTAMP], stale_headers[HEADER_SIGNATURE], stale_body, now=time.time())
    with pytest.raises(SignatureError, match="bad signature"):
        verify("k", forged_headers[HEADER_TIMESTAMP], forged_headers[HEADER_SIGNATURE], forged_body, now=time.time())


# ------------------------------------------------------------------------------------------ the CLI


def test_cli_serials_count_up() -> None:
    assert hikvision_cli.serials("DS-K1T671M0009", 3) == ["DS-K1T671M0009", "DS-K1T671M0010", "DS-K1T671M0011"]
    assert hikvision_cli.serials("GATE", 2) == ["GATE", "GATE-2"]


def test_cli_adds_hikvision_under_simulate() -> None:
    plugins = PluginManager()
    plugins.register(hikvision_cli, name="hikvision_cli_test")
    parser = build_parser(plugins)
    args = parser.parse_args(["simulate", "hikvision", "device", "--kind", "camera", "--count", "2", "--port", "0"])
    assert (args.kind, args.count, args.port, args.events_per_second, args.push_to) == ("camera", 2, 0, 0.0, None)
    args = parser.parse_args(["simulate", "hikvision", "gateway", "--devices", "4"])
    assert (args.port, args.devices, args.heartbeat) == (8082, 4, 10.0)
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert "hikvision" in commands.choices["simulate"]._actions[-1].choices


def test_the_package_exposes_the_hook_beside_tm20() -> None:
    plugins = PluginManager()
    plugins.load_all(entry_points=False)
    parser = build_parser(plugins)
    args = parser.parse_args(["simulate", "hikvision", "gateway"])
    assert args.func is not None and args.devices == 3
    assert parser.parse_args(["simulate", "tm20"]).count == 1


async def test_cli_device_pushes_to_a_receiver(receiver: Any, capsys: pytest.CaptureFixture[str]) -> None:
    sink, port = receiver
    plugins = PluginManager()
    plugins.register(hikvision_cli, name="hikvision_cli_test")
    args = build_parser(plugins).parse_args(
        ["simulate", "hikvision", "device", "--port", "0", "--count", "2", "--events-per-second", "20",
         "--push-to", f"http://127.0.0.1:{port}/hik/cli", "--duration", "0.5"]
    )  # fmt: skip
    assert await asyncio.to_thread(args.func, args) == 0
    out = capsys.readouterr().out
    assert "device DS-K1T671M0001 (access" in out and "device DS-K1T671M0002" in out and "user admin" in out
    assert len(sink.posts) >= 4 and all(forms.get("event_log") for _, _, forms in sink.posts)


async def test_cli_gateway_runs(capsys: pytest.CaptureFixture[str]) -> None:
    plugins = PluginManager()
    plugins.register(hikvision_cli, name="hikvision_cli_test")
    args = build_parser(plugins).parse_args(
        ["simulate", "hikvision", "gateway", "--port", "0", "--devices", "2", "--duration", "0.3"]
    )
    assert await asyncio.to_thread(args.func, args) == 0
    out = capsys.readouterr().out
    assert "gateway at http://127.0.0.1:" in out and out.count("devIndex") == 2
    assert "gateway devices 2 (2 online)" in out
