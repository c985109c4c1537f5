"""The simulated camera on the wire: raw SOAP 1.2 requests, WS-Security digests checked, faults as devices send."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os

import pytest
from aiohttp import ClientSession
from lxml import etree

from integrations.onvif.simulator import OnvifSimulator
from integrations.onvif.simulator.ptz import PtzHead
from integrations.onvif.simulator.soap import NS, parse_duration

from .conftest import PASSWORD


def security(username: str, password: str, created: dt.datetime, nonce: bytes | None = None) -> str:
    nonce = nonce or os.urandom(16)
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = base64.b64encode(hashlib.sha1(nonce + stamp.encode() + password.encode()).digest()).decode()
    return (
        f'<wsse:Security xmlns:wsse="{NS["wsse"]}" xmlns:wsu="{NS["wsu"]}"><wsse:UsernameToken>'
        f"<wsse:Username>{username}</wsse:Username>"
        '<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0'
        f'#PasswordDigest">{digest}</wsse:Password>'
        f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce><wsu:Created>{stamp}</wsu:Created>"
        "</wsse:UsernameToken></wsse:Security>"
    )


def request(operation: str, header: str = "", namespace: str = NS["tds"]) -> bytes:
    return (
        f'<env:Envelope xmlns:env="{NS["env"]}"><env:Header>{header}</env:Header>'
        f'<env:Body><{operation} xmlns="{namespace}"/></env:Body></env:Envelope>'
    ).encode()


async def post(camera: OnvifSimulator, payload: bytes, path: str = "/onvif/device_service") -> tuple[int, bytes]:
    async with ClientSession() as session, session.post(camera.address(path), data=payload) as response:
        return response.status, await response.read()


def fault_subcode(body: bytes) -> str:
    root = etree.fromstring(body)
    return root.findtext("env:Body/env:Fault/env:Code/env:Subcode/env:Value", namespaces=NS) or ""


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def test_a_correct_digest_is_answered(camera: OnvifSimulator) -> None:
    status, body = await post(camera, request("GetDeviceInformation", security("admin", PASSWORD, now())))
    assert status == 200
    root = etree.fromstring(body)
    assert root.findtext(".//tds:SerialNumber", namespaces=NS) == "SIM-ONVIF-0001"


@pytest.mark.parametrize(
    ("username", "password", "skew"),
    [("admin", "wrong", 0), ("nobody", PASSWORD, 0), ("admin", PASSWORD, 60), ("admin", PASSWORD, -60)],
    ids=["wrong-password", "wrong-user", "created-ahead", "created-behind"],
)
async def test_bad_tokens_get_not_authorized(camera: OnvifSimulator, username: str, password: str, skew: int) -> None:
    created = now() + dt.timedelta(seconds=skew)
    status, body = await post(camera, request("GetDeviceInformation", security(username, password, created)))
    assert status == 400
    assert fault_subcode(body) == "ter:NotAuthorized"
    assert camera.auth_failures == 1


async def test_no_token_and_a_replayed_nonce_are_refused(camera: OnvifSimulator) -> None:
    status, body = await post(camera, request("GetDeviceInformation"))
    assert (status, fault_subcode(body)) == (400, "ter:NotAuthorized")
    header = security("admin", PASSWORD, now(), nonce=b"0123456789abcdef")
    first, _ = await post(camera, request("GetDeviceInformation", header))
    replayed, body = await post(camera, request("GetDeviceInformation", header))
    assert (first, replayed, fault_subcode(body)) == (200, 400, "ter:NotAuthorized")


async def test_pre_authentication_operations_need_no_token(camera: OnvifSimulator) -> None:
    status, body = await post(camera, request("GetSystemDateAndTime"))
    assert status == 200
    year = etree.fromstring(body).findtext(".//tt:UTCDateTime/tt:Date/tt:Year", namespaces=NS)
    assert year == str(now().year)


async def test_unknown_operations_and_bad_xml_get_faults(camera: OnvifSimulator) -> None:
    status, body = await post(camera, request("GetDot1XConfigurations", security("admin", PASSWORD, now())))
    assert (status, fault_subcode(body)) == (500, "ter:ActionNotSupported")
    status, body = await post(camera, b"<env:Envelope")
    assert (status, fault_subcode(body)) == (400, "ter:WellFormed")


async def test_broken_xml_option(camera: OnvifSimulator) -> None:
    camera.reconfigure(broken_xml=frozenset({"*"}))
    status, body = await post(camera, request("GetSystemDateAndTime"))
    assert status == 200
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(body)


async def test_snapshot_url_challenges_then_serves_a_jpeg(camera: OnvifSimulator) -> None:
    async with ClientSession() as session:
        async with session.get(camera.address("/onvif/snapshot.jpg")) as response:
            assert response.status == 401
            assert response.headers["WWW-Authenticate"].startswith("Digest ")
        async with session.get(camera.address("/onvif/snapshot.jpg"), headers={"Authorization": "Basic eDp5"}) as bad:
            assert bad.status == 401


def test_ptz_head_moves_with_velocity_stops_and_remembers_presets() -> None:
    clock = [100.0]
    head = PtzHead(speed=0.5, clock=lambda: clock[0])
    head.continuous_move(1.0, -0.5, 0.0)
    clock[0] += 1.0
    assert head.position() == pytest.approx((0.5, -0.25, 0.0))
    head.stop()
    clock[0] += 5.0
    assert head.position() == pytest.approx((0.5, -0.25, 0.0)) and not head.moving
    door = head.set_preset("door")
    head.continuous_move(0.0, 0.0, 1.0, timeout=0.5)  # stops by itself after 0.5 s
    clock[0] += 10.0
    assert head.position()[2] == pytest.approx(0.25) and not head.moving
    head.goto(door.token)
    assert head.position() == pytest.approx((0.5, -0.25, 0.0))


def test_durations() -> None:
    assert parse_duration("PT600S") == 600
    assert parse_duration("PT1M30S") == 90
    assert parse_duration("PT0.5S") == 0.5
    assert parse_duration("P1DT1H") == 90000
