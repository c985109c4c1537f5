"""Event documents into HikEvent: cameras' XML, terminals' JSON, pushes, backfill records, the access table."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from integrations.hikvision.access_codes import AccessMeaning, describe, is_access
from integrations.hikvision.events import (
    EventParseError,
    HikEvent,
    parse_acs_record,
    parse_event,
    parse_event_log,
    parse_time,
)
from integrations.hikvision.multipart import Part

CAMERA_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<EventNotificationAlert version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">
<ipAddress>192.0.2.64</ipAddress>
<portNo>80</portNo>
<protocol>HTTP</protocol>
<macAddress>44:19:b6:00:00:01</macAddress>
<channelID>2</channelID>
<dateTime>2024-03-01T08:15:00+07:00</dateTime>
<activePostCount>1</activePostCount>
<eventType>linedetection</eventType>
<eventState>active</eventState>
<eventDescription>linedetection alarm</eventDescription>
<DetectionRegionList>
<DetectionRegionEntry><regionID>1</regionID><detectionTarget>human</detectionTarget></DetectionRegionEntry>
<DetectionRegionEntry><regionID>2</regionID><detectionTarget>vehicle</detectionTarget></DetectionRegionEntry>
</DetectionRegionList>
</EventNotificationAlert>"""

VIDEOLOSS_XML = b"""<EventNotificationAlert version="1.0">
<ipAddress>192.0.2.64</ipAddress><channelID>1</channelID><dateTime>0000-00-00T00:00:00Z</dateTime>
<activePostCount>0</activePostCount><eventType>videoloss</eventType><eventState>inactive</eventState>
<eventDescription>videoloss alarm</eventDescription></EventNotificationAlert>"""


def access_json(**overrides: object) -> dict[str, object]:
    block: dict[str, object] = {
        "deviceName": "Staff door",
        "majorEventType": 5,
        "subEventType": 75,
        "name": "Ada Lovelace",
        "cardNo": "",
        "cardType": 1,
        "employeeNoString": "1001",
        "cardReaderNo": 1,
        "doorNo": 1,
        "serialNo": 4321,
        "currentVerifyMode": "cardOrFace",
        "attendanceStatus": "checkIn",
        "pictureURL": "http://192.0.2.70/LOCALS/pic/acsLinkCap/1.jpeg",
    }
    block.update(overrides)
    return {
        "ipAddress": "192.0.2.70",
        "portNo": 80,
        "protocol": "HTTP",
        "macAddress": "a4:d5:c2:00:00:02",
        "channelID": 1,
        "dateTime": "2024-03-01T08:15:00+07:00",
        "activePostCount": 1,
        "eventType": "AccessControllerEvent",
        "eventState": "active",
        "eventDescription": "Access Controller Event",
        "shortSerialNumber": "F16507415",
        "AccessControllerEvent": block,
    }


def test_camera_xml_event_with_namespace() -> None:
    event = parse_event("application/xml; charset=UTF-8", CAMERA_XML)
    assert isinstance(event, HikEvent)
    assert (event.event_type, event.active, event.channel, event.keepalive) == ("linedetection", True, 2, False)
    assert event.time == datetime(2024, 3, 1, 8, 15, tzinfo=timezone(timedelta(hours=7)))
    assert (event.ip, event.mac, event.description) == ("192.0.2.64", "44:19:b6:00:00:01", "linedetection alarm")
    assert event.access is None and event.dev_index is None
    regions = event.raw["DetectionRegionList"]["DetectionRegionEntry"]
    assert [r["detectionTarget"] for r in regions] == ["human", "vehicle"]


def test_xml_without_namespace_and_idle_videoloss_is_a_keepalive_with_no_time() -> None:
    event = parse_event("application/xml", VIDEOLOSS_XML)
    assert event is not None
    assert event.keepalive and not event.active
    assert event.time is None  # 0000-00-00T00:00:00Z


def test_active_videoloss_is_a_real_event() -> None:
    event = parse_event("", VIDEOLOSS_XML.replace(b"inactive", b"active"))
    assert event is not None and event.active and not event.keepalive


def test_access_controller_event_json() -> None:
    event = parse_event("application/json", json.dumps(access_json()).encode())
    assert event is not None and event.access is not None
    record = event.access
    assert (record.major, record.minor, record.serial_no) == (5, 75, 4321)
    assert (record.employee_no, record.name, record.card_no) == ("1001", "Ada Lovelace", None)
    assert (record.door, record.reader, record.verify_mode) == (1, 1, "cardOrFace")
    assert record.attendance_status == "checkIn"
    assert record.picture_url and record.picture_url.endswith("1.jpeg")
    assert record.time == event.time
    assert record.meaning == AccessMeaning("granted", "face", "face authentication passed")
    assert event.serial == "F16507415"


def test_access_event_numbers_as_strings_and_xml_form() -> None:
    xml = (
        b"<EventNotificationAlert><eventType>AccessControllerEvent</eventType><eventState>active</eventState>"
        b"<dateTime>2024-03-01T08:15:00Z</dateTime><AccessControllerEvent><majorEventType>5</majorEventType>"
        b"<subEventType>9</subEventType><cardNo>00112233</cardNo><serialNo>77</serialNo><doorNo>2</doorNo>"
        b"</AccessControllerEvent></EventNotificationAlert>"
    )
    event = parse_event("text/xml", xml)
    assert event is not None and event.access is not None
    assert (event.access.minor, event.access.card_no, event.access.serial_no, event.access.door) == (
        9,
        "00112233",
        77,
        2,
    )
    assert event.access.meaning.kind == "denied"
    assert event.time == datetime(2024, 3, 1, 8, 15, tzinfo=UTC)


def test_gateway_event_wrapped_with_dev_index_and_heartbeat() -> None:
    wrapped = {"EventNotificationAlert": {**access_json(), "devIndex": "2cd6716d-767f-4756-ac55-50276a5e3b4a"}}
    event = parse_event("application/json", json.dumps(wrapped).encode())
    assert event is not None
    assert event.dev_index == "2cd6716d-767f-4756-ac55-50276a5e3b4a"
    assert event.access is not None
    heartbeat = parse_event("application/json", b'{"eventType":"heartBeat","dateTime":"2024-03-01T08:15:00Z"}')
    assert heartbeat is not None and heartbeat.keepalive and not heartbeat.active


def test_parts_without_an_event_give_none() -> None:
    assert parse_event("image/jpeg", b"\xff\xd8\xff\xe0") is None
    assert parse_event("application/octet-stream", b"\xff\xd8\xff\xe0") is None
    assert parse_event("application/xml", b"  \r\n") is None
    assert parse_event("application/json", b'{"SubscribeDeviceMgmtRsp":{"id":"1"}}') is None
    ok = b'<ResponseStatus xmlns="http://www.isapi.org/ver20/XMLSchema"><statusCode>1</statusCode></ResponseStatus>'
    assert parse_event("application/xml", ok) is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<EventNotificationAlert><eventType>VMD</eventType>", "malformed XML"),
        (b'{"eventType": "AccessControllerEvent", ', "malformed JSON"),
        (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "HTML page"),
        (b"<html><head><title>Error</title></head></html>", "HTML page"),
        (b"<EventNotificationAlert><channelID>1</channelID></EventNotificationAlert>", "no eventType"),
        (b'{"ipAddress": "192.0.2.1"}', "no eventType"),
        (b"[1, 2]", "neither XML nor JSON"),
        (b'["a"]'[1:], "neither XML nor JSON"),
        (b"<Other><a>1</a></Other>", "unexpected XML document <Other>"),
        (b'{"eventType":"AccessControllerEvent","eventState":"active"}', "without its AccessControllerEvent"),
        (b'{"eventType":"AccessControllerEvent","AccessControllerEvent":{"name":"x"}}', "majorEventType"),
        (b'{"statusCode": 4, "statusString": "Invalid Operation"}', "status 4"),
    ],
)
def test_malformed_parts_raise_a_short_reason(body: bytes, reason: str) -> None:
    with pytest.raises(EventParseError, match=reason):
        parse_event("application/json", body)


def test_entities_are_never_expanded() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<EventNotificationAlert><eventType>VMD</eventType><eventDescription>&lol2;&xxe;</eventDescription>"
        b"</EventNotificationAlert>"
    )
    event = parse_event("application/xml", bomb)
    assert event is not None and event.event_type == "VMD"
    assert "lol" not in (event.description or "") and "root" not in (event.description or "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01T08:15:00+07:00", datetime(2024, 3, 1, 8, 15, tzinfo=timezone(timedelta(hours=7)))),
        ("2024-03-01T08:15:00+7:00", datetime(2024, 3, 1, 8, 15, tzinfo=timezone(timedelta(hours=7)))),
        ("2024-03-01T08:15:00Z", datetime(2024, 3, 1, 8, 15, tzinfo=UTC)),
        ("2024-03-01 08:15:00", datetime(2024, 3, 1, 8, 15)),
        ("0000-00-00T00:00:00Z", None),
        ("1970-01-01T00:00:05+00:00", None),
        ("2024-13-45T99:00:00Z", None),
        ("", None),
        (None, None),
        (12345, None),
    ],
)
def test_parse_time(text: object, expected: datetime | None) -> None:
    assert parse_time(text) == expected


def test_event_log_form_with_picture() -> None:
    picture = b"\xff\xd8\xff\xe0" + b"\x01" * 100
    body = (
        b'--Boundary\r\nContent-Disposition: form-data; name="event_log"\r\nContent-Type: application/json\r\n'
        b"\r\n" + json.dumps(access_json()).encode() + b"\r\n"
        b'--Boundary\r\nContent-Disposition: form-data; name="Picture"; filename="Picture.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + picture + b"\r\n--Boundary--\r\n"
    )
    event = parse_event_log("multipart/form-data; boundary=Boundary", body)
    assert event.access is not None and event.access.serial_no == 4321
    assert event.picture == picture


def test_event_log_from_split_parts_and_bare_bodies() -> None:
    parts = [Part({"content-disposition": 'form-data; name="linedetection"; filename="linedetection.xml"'}, CAMERA_XML)]
    assert parse_event_log(parts).event_type == "linedetection"
    assert parse_event_log("application/xml", CAMERA_XML).channel == 2
    assert parse_event_log("application/json", json.dumps(access_json()).encode()).access is not None


@pytest.mark.parametrize(
    ("content_type", "body", "reason"),
    [
        ("multipart/form-data", b"--x\r\n\r\n{}\r\n--x--", "without a boundary"),
        ("multipart/form-data; boundary=y", b"--x\r\n\r\n{}\r\n--x--", "no part"),
        (
            "multipart/form-data; boundary=x",
            b"--x\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\r\n--x--",
            "no event_log",
        ),
        ("application/json", b"", "carries no event"),
    ],
)
def test_event_log_errors(content_type: str, body: bytes, reason: str) -> None:
    with pytest.raises(EventParseError, match=reason):
        parse_event_log(content_type, body)


def test_acs_search_record() -> None:
    record = parse_acs_record(
        {
            "major": 5,
            "minor": 1,
            "time": "2024-03-01T07:00:00+07:00",
            "cardNo": "998877",
            "name": "Grace",
            "employeeNoString": "7",
            "doorNo": 1,
            "serialNo": 12,
            "cardReaderNo": 2,
        }
    )
    assert (record.major, record.minor, record.serial_no, record.card_no, record.reader) == (5, 1, 12, "998877", 2)
    assert record.meaning.kind == "granted" and record.meaning.method == "card"
    with pytest.raises(EventParseError):
        parse_acs_record({"time": "2024-03-01T07:00:00Z"})


@pytest.mark.parametrize(
    ("major", "minor", "kind", "method"),
    [
        (5, 75, "granted", "face"),
        (5, 76, "denied", "face"),
        (5, 1, "granted", "card"),
        (5, 9, "denied", "card"),
        (5, 6, "denied", "card"),
        (5, 38, "granted", "fingerprint"),
        (5, 153, "granted", "multi"),
        (5, 156, "granted", "qr"),
        (5, 150, "denied", "password"),
        (5, 25, "door", None),
        (5, 27, "door", None),
        (5, 29, "alarm", None),
        (3, 1024, "operation", "remote"),
        (1, 1028, "alarm", None),
        (2, 39, "exception", None),
        (2, 9999, "exception", None),
        (5, 9999, "other", None),
        (9, 1, "other", None),
    ],
)
def test_access_codes(major: int, minor: int, kind: str, method: str | None) -> None:
    meaning = describe(major, minor)
    assert (meaning.kind, meaning.method) == (kind, method)
    assert meaning.text
    assert is_access(major, minor) == (kind in ("granted", "denied"))


def test_every_passed_minor_is_a_grant_and_every_failed_one_a_denial() -> None:
    for minor in range(1, 200):
        meaning = describe(5, minor)
        if "passed" in meaning.text or ("matched" in meaning.text and "not" not in meaning.text):
            assert meaning.kind == "granted", minor
        if any(word in meaning.text for word in ("failed", "no permission", "expired", "invalid", "not matched")):
            assert meaning.kind == "denied", minor
