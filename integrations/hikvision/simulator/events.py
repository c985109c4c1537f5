"""What a simulated device says when something happens: ``EventNotificationAlert`` in XML or JSON, as a multipart
part of the alertStream, and the stream faults firmware is known for.

An event is rendered at most once per format (cached on the event) however many streams and push targets
receive it: the benchmark runs hundreds of devices in one process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal
from xml.sax.saxutils import escape

from .documents import XMLNS

BOUNDARY = "MIME_boundary"
WRONG_BOUNDARY = "WRONG_boundary"
BOGUS_TIME = "0000-00-00T00:00:00Z"

EventFormat = Literal["xml", "json"]
StreamFault = Literal["malformed_xml", "malformed_json", "wrong_boundary", "truncate", "bogus_time"]
RequestFault = Literal["html_error", "device_busy"]
STREAM_FAULTS: frozenset[str] = frozenset(
    {"malformed_xml", "malformed_json", "wrong_boundary", "truncate", "bogus_time"}
)
REQUEST_FAULTS: frozenset[str] = frozenset({"html_error", "device_busy"})

DESCRIPTIONS = {
    "vmd": "Motion alarm",
    "videoloss": "videoloss alarm",
    "linedetection": "Line crossing alarm",
    "fielddetection": "Intrusion alarm",
    "regionentrance": "Region entrance alarm",
    "regionexiting": "Region exiting alarm",
    "tamperdetection": "Video tampering alarm",
    "shelteralarm": "Video tampering alarm",
    "io": "IO alarm",
    "AccessControllerEvent": "Access Controller Event",
}
_HUMAN_TARGET = frozenset({"linedetection", "fielddetection", "regionentrance", "regionexiting"})


@dataclass(slots=True)
class DeviceIdentity:
    """The fields every event repeats about the device that sent it."""

    ip_address: str
    port: int
    mac_address: str
    serial: str
    device_name: str


@dataclass(slots=True)
class SimEvent:
    """One event as the device holds it; ``seq`` keys ``write_times`` (and is the serialNo of access events)."""

    seq: int
    event_type: str
    active: bool
    channel: int | None
    date_time: str
    access: dict[str, Any] | None = None  # the AccessControllerEvent block
    keepalive: bool = False
    fault: str | None = None  # a StreamFault applied when this event is written
    picture: bytes | None = None  # sent with an httpHosts push (access terminals)
    rendered: dict[str, bytes] = field(default_factory=dict)

    @property
    def shown_time(self) -> str:
        return BOGUS_TIME if self.fault == "bogus_time" else self.date_time


def event_json(identity: DeviceIdentity, event: SimEvent) -> dict[str, Any]:
    """The JSON form (access terminals, ``?format=json``, the gateway's subscription)."""
    payload: dict[str, Any] = {
        "ipAddress": identity.ip_address,
        "portNo": identity.port,
        "protocol": "HTTP",
        "macAddress": identity.mac_address,
        "channelID": event.channel if event.channel is not None else 1,
        "dateTime": event.shown_time,
        "activePostCount": event.seq,
        "eventType": event.event_type,
        "eventState": "active" if event.active else "inactive",
        "eventDescription": DESCRIPTIONS.get(event.event_type, event.event_type),
        "shortSerialNumber": identity.serial,
    }
    if event.event_type.lower() == "io":
        payload["inputIOPortID"] = payload.pop("channelID")
    if event.access is not None:
        payload["AccessControllerEvent"] = event.access
    return payload


def event_xml(identity: DeviceIdentity, event: SimEvent) -> bytes:
    """The XML form cameras and NVRs send (namespace ``http://www.hikvision.com/ver20/XMLSchema``)."""
    channel_tag = "inputIOPortID" if event.event_type.lower() == "io" else "channelID"
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<EventNotificationAlert version="2.0" xmlns="{XMLNS}">',
        f"<ipAddress>{escape(identity.ip_address)}</ipAddress>",
        f"<portNo>{identity.port}</portNo>",
        "<protocol>HTTP</protocol>",
        f"<macAddress>{identity.mac_address}</macAddress>",
        f"<{channel_tag}>{event.channel if event.channel is not None else 1}</{channel_tag}>",
        f"<dateTime>{event.shown_time}</dateTime>",
        f"<activePostCount>{event.seq}</activePostCount>",
        f"<eventType>{escape(event.event_type)}</eventType>",
        f"<eventState>{'active' if event.active else 'inactive'}</eventState>",
        f"<eventDescription>{escape(DESCRIPTIONS.get(event.event_type, event.event_type))}</eventDescription>",
    ]
    if event.event_type in _HUMAN_TARGET:
        lines.append(
            "<DetectionRegionList><DetectionRegionEntry><regionID>1</regionID><sensitivityLevel>50</sensitivityLevel>"
            "<detectionTarget>human</detectionTarget></DetectionRegionEntry></DetectionRegionList>"
        )
    if event.access is not None:
        lines.append("<AccessControllerEvent>")
        lines.extend(f"<{key}>{escape(str(value))}</{key}>" for key, value in event.access.items())
        lines.append("</AccessControllerEvent>")
    lines.append("</EventNotificationAlert>")
    return "\n".join(lines).encode()


def event_body(identity: DeviceIdentity, event: SimEvent, fmt: EventFormat) -> tuple[str, bytes]:
    """(content type, body) of ``event`` in ``fmt``, with a malformed-body fault applied."""
    if event.fault == "malformed_xml":
        whole = event_xml(identity, event)
        return "application/xml", whole[: len(whole) // 2]  # cut mid-element: not well-formed
    if event.fault == "malformed_json":
        whole = json.dumps(event_json(identity, event)).encode()
        return "application/json", whole[: len(whole) // 2]
    if fmt == "json":
        return "application/json", json.dumps(event_json(identity, event), separators=(",", ":")).encode()
    return "application/xml", event_xml(identity, event)


def stream_part(identity: DeviceIdentity, event: SimEvent, fmt: EventFormat) -> bytes:
    """``event`` as one part of a ``multipart/mixed; boundary=MIME_boundary`` stream (cached per format)."""
    key = "part-" + fmt
    cached = event.rendered.get(key)
    if cached is None:
        content_type, body = event_body(identity, event, fmt)
        boundary = WRONG_BOUNDARY if event.fault == "wrong_boundary" else BOUNDARY
        cached = multipart_part(boundary, content_type, body)
        event.rendered[key] = cached
    return cached


def multipart_part(boundary: str, content_type: str, body: bytes, extra_headers: str = "") -> bytes:
    head = f'--{boundary}\r\nContent-Type: {content_type}; charset="UTF-8"\r\n{extra_headers}'
    return head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body + b"\r\n"
