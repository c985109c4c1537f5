"""Hikvision event documents (EventNotificationAlert, XML or JSON) into ``HikEvent``.

One parser for every way an event arrives: a part of the alertStream, of the gateway's subscribeDeviceMgmt stream,
an httpHosts push (a bare body, or ``multipart/form-data`` with an ``event_log`` part and a picture), and the
AcsEvent search records used for backfill (``parse_acs_record``), so live and backfilled access events have one
shape. The hub follows hundreds of devices, so this is the hot path: ``json.loads`` for JSON, a hardened lxml
parser (no entities, no network, no DTD) for XML, and no work beyond building the two small dataclasses.
Malformed input raises ``EventParseError`` with a short reason; the caller logs it once and skips the part.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree

from .access_codes import AccessMeaning, describe
from .multipart import MultipartReader, Part, boundary_from
from .values import integer, text

XML_NAMESPACE = "http://www.hikvision.com/ver20/XMLSchema"
EVENT_TYPE_ACCESS = "AccessControllerEvent"
EVENT_TYPE_VIDEOLOSS = "videoloss"
EVENT_TYPE_HEARTBEAT = "heartBeat"
EVENT_LOG_PART = "event_log"
# Years before this are an unset device clock (1970) or a placeholder (0000-00-00): no time rather than a wrong one.
MIN_VALID_YEAR = 2000

_KEEPALIVE_TYPES = frozenset({"heartbeat"})
_ACK_KEYS = frozenset({"SubscribeDeviceMgmtRsp", "SubscribeEventResponse", "SubscribeDeviceMgmtResponse"})
_CHANNEL_KEYS = ("channelID", "dynChannelID", "inputIOPortID", "dynInputIOPortID")
_SHORT_OFFSET = re.compile(r"([+-])(\d):(\d\d)$")
_BOM = b"\xef\xbb\xbf"
_JPEG_MAGIC = b"\xff\xd8"


class EventParseError(ValueError):
    """A part that is not a usable event; ``reason`` is short, for one log line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class AccessRecord:
    """One credential or door event of an access terminal, live (AccessControllerEvent) or from AcsEvent search.

    ``serial_no`` is the device's monotonic event number: re-deliveries repeat it, so de-duplicate on it.
    """

    major: int
    minor: int
    serial_no: int | None
    employee_no: str | None
    name: str | None
    card_no: str | None
    door: int | None
    reader: int | None
    verify_mode: str | None
    attendance_status: str | None
    picture_url: str | None
    time: datetime | None

    @property
    def meaning(self) -> AccessMeaning:
        """Granted, denied, door, alarm...: the major/minor table applied."""
        return describe(self.major, self.minor)


@dataclass(slots=True)
class HikEvent:
    """One event notification. ``event_type`` keeps the device's spelling (``VMD``, ``linedetection``,
    ``AccessControllerEvent``): compare it case-insensitively. ``keepalive`` marks the idle ``videoloss`` and the
    gateway's heartbeats, which prove the stream is alive and are not events. ``time`` is None when the device sent
    a bogus one (``0000-00-00T00:00:00Z``, an unset clock)."""

    event_type: str
    active: bool
    channel: int | None
    time: datetime | None
    device_id: str | None
    serial: str | None
    mac: str | None
    ip: str | None
    description: str | None
    keepalive: bool
    access: AccessRecord | None
    dev_index: str | None
    raw: dict[str, Any]
    picture: bytes | None = None


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 device time, or None when it is missing or bogus (``0000-00-00``, year before 2000)."""
    if not isinstance(value, str):
        return None
    stamp = value.strip()
    if not stamp or stamp.startswith("0000"):
        return None
    try:
        parsed = datetime.fromisoformat(stamp)
    except ValueError:
        repaired = _SHORT_OFFSET.sub(r"\g<1>0\g<2>:\g<3>", stamp)  # "+8:00" from some firmware
        if repaired == stamp:
            return None
        try:
            parsed = datetime.fromisoformat(repaired)
        except ValueError:
            return None
    if parsed.year < MIN_VALID_YEAR:
        return None
    return parsed


# -- XML --------------------------------------------------------------------------------------------------------------

_parsers = threading.local()


def _xml_parser() -> etree.XMLParser:
    """A hardened parser per thread (lxml parsers are not thread-safe): no entity expansion, no DTD, no network."""
    parser: etree.XMLParser | None = getattr(_parsers, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
        )
        _parsers.parser = parser
    return parser


def parse_xml(body: bytes) -> tuple[str, dict[str, Any]]:
    """``(root local name, its children as a dict)``; repeated elements become lists, leaves their stripped text.

    Raises ``EventParseError`` for malformed XML."""
    try:
        root = etree.fromstring(body, _xml_parser())
    except etree.XMLSyntaxError as err:
        raise EventParseError(f"malformed XML: {err.msg}") from None
    if root is None:
        raise EventParseError("empty XML document")
    return _local(root.tag), _element_dict(root)


def _local(tag: Any) -> str:
    return str(tag).rpartition("}")[2]


def _element_dict(element: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):  # comments, processing instructions, unexpanded entities
            continue
        key = tag.rpartition("}")[2]
        value: Any = _element_dict(child) if len(child) else (child.text or "").strip()
        existing = out.get(key)
        if existing is None:
            out[key] = value
        elif isinstance(existing, list):
            existing.append(value)
        else:
            out[key] = [existing, value]
    return out


# -- JSON -------------------------------------------------------------------------------------------------------------


def _load_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as err:
        raise EventParseError(f"malformed JSON: {err}") from None


# -- events -----------------------------------------------------------------------------------------------------------


def parse_event(content_type: str, body: bytes) -> HikEvent | None:
    """One event part or body. None for parts that carry no event (a picture, an empty part, a subscription ack).

    The body is sniffed (``{`` JSON, ``<`` XML) because the Content-Type devices declare is not reliable."""
    if content_type[:6].lower() == "image/":
        return None
    data = body.strip()
    if data.startswith(_BOM):
        data = data[3:].lstrip()
    if not data:
        return None
    first = data[:1]
    if first == b"{":
        document = _load_json(data)
        if not isinstance(document, dict):
            raise EventParseError("JSON event is not an object")
        return _event_from_mapping(document)
    if first == b"<":
        head = data[:64].lower()
        if head.startswith((b"<!doctype html", b"<html")):
            raise EventParseError("an HTML page instead of an event")
        root, document = parse_xml(data)
        if root == "ResponseStatus":
            _raise_status(document)
            return None
        if root != "EventNotificationAlert":
            raise EventParseError(f"unexpected XML document <{root}>")
        return _event_from_mapping(document)
    if data.startswith(_JPEG_MAGIC):
        return None
    raise EventParseError("part is neither XML nor JSON")


def _raise_status(document: dict[str, Any]) -> None:
    code = integer(document.get("statusCode"))
    if code not in (None, 0, 1):
        message = text(document.get("errorMsg")) or text(document.get("statusString")) or "error"
        raise EventParseError(f"device reported status {code} ({message}) instead of an event")


def _event_from_mapping(document: dict[str, Any]) -> HikEvent | None:
    if "eventType" not in document:
        if len(document) == 1:
            key, inner = next(iter(document.items()))
            if key in _ACK_KEYS:
                return None
            if key == "ResponseStatus" and isinstance(inner, dict):
                _raise_status(inner)
                return None
            if isinstance(inner, dict) and "eventType" in inner:
                return _event_from_mapping(inner)
        if "statusCode" in document:
            _raise_status(document)
            return None
        raise EventParseError("event has no eventType")
    event_type = text(document.get("eventType"))
    if event_type is None:
        raise EventParseError("eventType is empty")
    state = text(document.get("eventState"))
    active = state is None or state.lower() == "active"
    lowered = event_type.lower()
    keepalive = (lowered == EVENT_TYPE_VIDEOLOSS and not active) or lowered in _KEEPALIVE_TYPES
    if lowered in _KEEPALIVE_TYPES:
        active = False
    time = parse_time(document.get("dateTime"))
    channel = None
    for key in _CHANNEL_KEYS:
        channel = integer(document.get(key))
        if channel is not None:
            break
    access = None
    block = document.get(EVENT_TYPE_ACCESS)
    if isinstance(block, dict):
        access = _access_from_event(block, time)
    elif lowered == EVENT_TYPE_ACCESS.lower():
        raise EventParseError("AccessControllerEvent without its AccessControllerEvent block")
    return HikEvent(
        event_type=event_type,
        active=active,
        channel=channel,
        time=time,
        device_id=text(document.get("deviceID")),
        serial=text(document.get("serialNumber")) or text(document.get("shortSerialNumber")),
        mac=text(document.get("macAddress")),
        ip=text(document.get("ipAddress")) or text(document.get("ipv6Address")),
        description=text(document.get("eventDescription")),
        keepalive=keepalive,
        access=access,
        dev_index=text(document.get("devIndex")),
        raw=document,
    )


def _access_from_event(block: dict[str, Any], time: datetime | None) -> AccessRecord:
    major = integer(block.get("majorEventType"))
    minor = integer(block.get("subEventType"))
    if major is None or minor is None:
        raise EventParseError("AccessControllerEvent without majorEventType/subEventType")
    return _access_record(block, major, minor, time)


def parse_acs_record(item: dict[str, Any]) -> AccessRecord:
    """One ``InfoList`` entry of an AcsEvent search (``major``/``minor``/``time`` keys)."""
    major = integer(item.get("major", item.get("majorEventType")))
    minor = integer(item.get("minor", item.get("subEventType")))
    if major is None or minor is None:
        raise EventParseError("AcsEvent record without major/minor")
    return _access_record(item, major, minor, parse_time(item.get("time")))


def _access_record(block: dict[str, Any], major: int, minor: int, time: datetime | None) -> AccessRecord:
    employee = text(block.get("employeeNoString")) or text(block.get("employeeNo"))
    return AccessRecord(
        major=major,
        minor=minor,
        serial_no=integer(block.get("serialNo")),
        employee_no=employee,
        name=text(block.get("name")),
        card_no=text(block.get("cardNo")),
        door=integer(block.get("doorNo")),
        reader=integer(block.get("cardReaderNo")),
        verify_mode=text(block.get("currentVerifyMode")),
        attendance_status=text(block.get("attendanceStatus")),
        picture_url=text(block.get("pictureURL")),
        time=time,
    )


# -- httpHosts pushes -------------------------------------------------------------------------------------------------


def parse_event_log(source: str | Sequence[Part], body: bytes = b"") -> HikEvent:
    """An event a device POSTed to its httpHosts URL.

    Either ``parse_event_log(content_type, raw_body)`` (a ``multipart/form-data`` body with an ``event_log`` part
    and maybe a picture, or a bare XML/JSON body) or ``parse_event_log(parts)`` with parts already split. The
    picture, when sent, is on ``HikEvent.picture``."""
    if isinstance(source, str):
        content_type = source
        if content_type.lower().startswith("multipart/"):
            boundary = boundary_from(content_type)
            if boundary is None:
                raise EventParseError("multipart body without a boundary")
            reader = MultipartReader(boundary, source="httpHosts push")
            parts = reader.feed(body) + reader.feed_eof()
            if not parts:
                raise EventParseError("multipart body has no part (wrong boundary?)")
            return _event_from_parts(parts)
        event = parse_event(content_type, body)
        if event is None:
            raise EventParseError("pushed body carries no event")
        return event
    return _event_from_parts(source)


def _event_from_parts(parts: Sequence[Part]) -> HikEvent:
    event_part = next((part for part in parts if (part.name or "").lower() == EVENT_LOG_PART), None)
    if event_part is None:  # cameras name the part after the event type, or send an XML file part
        event_part = next((part for part in parts if part.body.lstrip()[:1] in (b"{", b"<")), None)
    if event_part is None:
        raise EventParseError(f"no {EVENT_LOG_PART} part in the pushed form")
    event = parse_event(event_part.content_type, event_part.body)
    if event is None:
        raise EventParseError(f"the {EVENT_LOG_PART} part carries no event")
    for part in parts:
        if part is not event_part and (part.content_type.lower().startswith("image/") or _is_jpeg(part.body)):
            event.picture = part.body
            break
    return event


def _is_jpeg(body: bytes) -> bool:
    return body[:2] == _JPEG_MAGIC
