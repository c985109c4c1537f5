"""The Body of each reply the simulated device sends, built from its configuration and state.

Element names and order follow the ONVIF WSDLs (devicemgmt, media, ptz, events) closely enough for zeep, the
client library every Python ONVIF user runs, to parse them like a real camera's replies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from .config import SimulatedProfile, SimulatorConfig
from .events import EventMessage
from .ptz import Preset, PtzHead
from .soap import NS, element, node, xml_time

PAN_TILT_SPACE = "http://www.onvif.org/ver10/tptz/PanTiltSpaces/PositionGenericSpace"
ZOOM_SPACE = "http://www.onvif.org/ver10/tptz/ZoomSpaces/PositionGenericSpace"
VELOCITY_SPACE = "http://www.onvif.org/ver10/tptz/PanTiltSpaces/VelocityGenericSpace"
ZOOM_VELOCITY_SPACE = "http://www.onvif.org/ver10/tptz/ZoomSpaces/VelocityGenericSpace"


def _version(major: int, minor: int) -> str:
    return node("tds:Version", element("tt:Major", major), element("tt:Minor", minor))


def _date_time(moment: dt.datetime) -> str:
    return node(
        "tt:Time", element("tt:Hour", moment.hour), element("tt:Minute", moment.minute),
        element("tt:Second", moment.second),
    ) + node("tt:Date", element("tt:Year", moment.year), element("tt:Month", moment.month),
             element("tt:Day", moment.day))  # fmt: skip


def system_date_and_time(now: dt.datetime) -> str:
    utc = now.astimezone(dt.UTC)
    return node(
        "tds:GetSystemDateAndTimeResponse",
        node(
            "tds:SystemDateAndTime",
            element("tt:DateTimeType", "Manual"),
            element("tt:DaylightSavings", False),
            node("tt:TimeZone", element("tt:TZ", "UTC0")),
            node("tt:UTCDateTime", _date_time(utc)),
            node("tt:LocalDateTime", _date_time(utc)),
        ),
    )


def device_information(config: SimulatorConfig) -> str:
    return node(
        "tds:GetDeviceInformationResponse",
        element("tds:Manufacturer", config.manufacturer),
        element("tds:Model", config.model),
        element("tds:FirmwareVersion", config.firmware_version),
        element("tds:SerialNumber", config.serial_number),
        element("tds:HardwareId", config.hardware_id),
    )


def services(xaddrs: Mapping[str, str]) -> str:
    """``xaddrs`` maps a service namespace to its address."""
    entries = (
        node("tds:Service", element("tds:Namespace", namespace), element("tds:XAddr", address), _version(2, 60))
        for namespace, address in xaddrs.items()
    )
    return node("tds:GetServicesResponse", *entries)


def capabilities(device: str, media: str, ptz: str | None, events: str | None) -> str:
    parts = [node("tt:Device", element("tt:XAddr", device))]
    if events:
        parts.append(
            node(
                "tt:Events",
                element("tt:XAddr", events),
                element("tt:WSSubscriptionPolicySupport", False),
                element("tt:WSPullPointSupport", True),
                element("tt:WSPausableSubscriptionManagerInterfaceSupport", False),
            )
        )
    parts.append(
        node(
            "tt:Media",
            element("tt:XAddr", media),
            node(
                "tt:StreamingCapabilities",
                element("tt:RTPMulticast", False),
                element("tt:RTP_TCP", True),
                element("tt:RTP_RTSP_TCP", True),
            ),
        )
    )
    if ptz:
        parts.append(node("tt:PTZ", element("tt:XAddr", ptz)))
    return node("tds:GetCapabilitiesResponse", node("tds:Capabilities", *parts))


def network_interfaces(config: SimulatorConfig) -> str:
    return node(
        "tds:GetNetworkInterfacesResponse",
        node(
            "tds:NetworkInterfaces",
            element("tt:Enabled", True),
            node("tt:Info", element("tt:Name", "eth0"), element("tt:HwAddress", config.mac), element("tt:MTU", 1500)),
            token="eth0",
        ),
    )


def _profile(profile: SimulatedProfile, ptz: bool) -> str:
    parts = [
        element("tt:Name", profile.name),
        node(
            "tt:VideoSourceConfiguration",
            element("tt:Name", "VideoSourceConfig"),
            element("tt:UseCount", 2),
            element("tt:SourceToken", "VideoSource_1"),
            element("tt:Bounds", x=0, y=0, width=profile.width, height=profile.height),
            token="VideoSourceConfig",
        ),
        node(
            "tt:VideoEncoderConfiguration",
            element("tt:Name", f"{profile.name} encoder"),
            element("tt:UseCount", 1),
            element("tt:Encoding", profile.encoding),
            node("tt:Resolution", element("tt:Width", profile.width), element("tt:Height", profile.height)),
            element("tt:Quality", 4.0),
            node(
                "tt:RateControl",
                element("tt:FrameRateLimit", profile.fps),
                element("tt:EncodingInterval", 1),
                element("tt:BitrateLimit", profile.bitrate_kbps),
            ),
            node("tt:H264", element("tt:GovLength", profile.fps * 2), element("tt:H264Profile", "Main"))
            if profile.encoding == "H264"
            else "",
            node(
                "tt:Multicast",
                node("tt:Address", element("tt:Type", "IPv4"), element("tt:IPv4Address", "0.0.0.0")),
                element("tt:Port", 0),
                element("tt:TTL", 1),
                element("tt:AutoStart", False),
            ),
            element("tt:SessionTimeout", "PT60S"),
            token=f"encoder_{profile.token}",
        ),
    ]
    if ptz and profile.ptz:
        parts.append(
            node(
                "tt:PTZConfiguration",
                element("tt:Name", "PTZ"),
                element("tt:UseCount", 1),
                element("tt:NodeToken", "PTZNode"),
                element("tt:DefaultContinuousPanTiltVelocitySpace", VELOCITY_SPACE),
                element("tt:DefaultContinuousZoomVelocitySpace", ZOOM_VELOCITY_SPACE),
                element("tt:DefaultPTZTimeout", "PT5S"),
                token="PTZConfig",
            )
        )
    return node("trt:Profiles", *parts, token=profile.token, fixed="true")


def profiles(config: SimulatorConfig) -> str:
    return node("trt:GetProfilesResponse", *(_profile(profile, config.ptz) for profile in config.media_profiles()))


def media_uri(operation: str, uri: str) -> str:
    return node(
        f"trt:{operation}Response",
        node(
            "trt:MediaUri",
            element("tt:Uri", uri),
            element("tt:InvalidAfterConnect", False),
            element("tt:InvalidAfterReboot", False),
            element("tt:Timeout", "PT0S"),
        ),
    )


def media_service_capabilities() -> str:
    return node(
        "trt:GetServiceCapabilitiesResponse",
        node(
            "trt:Capabilities",
            element("trt:ProfileCapabilities", MaximumNumberOfProfiles=4),
            element("trt:StreamingCapabilities", RTPMulticast="false", RTP_TCP="true", RTP_RTSP_TCP="true"),
            SnapshotUri="true",
            Rotation="false",
        ),
    )


def _position(pan: float, tilt: float, zoom: float, tag: str = "tt:Position") -> str:
    return node(
        tag,
        element("tt:PanTilt", x=f"{pan:.4f}", y=f"{tilt:.4f}", space=PAN_TILT_SPACE),
        element("tt:Zoom", x=f"{zoom:.4f}", space=ZOOM_SPACE),
    )


def presets(items: Iterable[Preset]) -> str:
    return node(
        "tptz:GetPresetsResponse",
        *(
            node(
                "tptz:Preset",
                element("tt:Name", preset.name),
                _position(preset.pan, preset.tilt, preset.zoom, "tt:PTZPosition"),
                token=preset.token,
            )
            for preset in items
        ),
    )


def ptz_status(head: PtzHead, now: dt.datetime) -> str:
    pan, tilt, zoom = head.position()
    moving = "MOVING" if head.moving else "IDLE"
    return node(
        "tptz:GetStatusResponse",
        node(
            "tptz:PTZStatus",
            _position(pan, tilt, zoom),
            node("tt:MoveStatus", element("tt:PanTilt", moving), element("tt:Zoom", moving)),
            element("tt:UtcTime", xml_time(now)),
        ),
    )


def set_preset(token: str) -> str:
    return node("tptz:SetPresetResponse", element("tptz:PresetToken", token))


def empty(operation: str, prefix: str) -> str:
    """``<tptz:StopResponse/>`` and the other replies that carry nothing."""
    return element(f"{prefix}:{operation}Response")


def subscription_created(address: str, now: dt.datetime, terminates_at: dt.datetime) -> str:
    return node(
        "tev:CreatePullPointSubscriptionResponse",
        node("tev:SubscriptionReference", element("wsa:Address", address)),
        element("wsnt:CurrentTime", xml_time(now)),
        element("wsnt:TerminationTime", xml_time(terminates_at)),
    )


def messages(now: dt.datetime, terminates_at: dt.datetime, items: Iterable[EventMessage]) -> str:
    return node(
        "tev:PullMessagesResponse",
        element("tev:CurrentTime", xml_time(now)),
        element("tev:TerminationTime", xml_time(terminates_at)),
        *(message.xml() for message in items),
    )


def renewed(now: dt.datetime, terminates_at: dt.datetime) -> str:
    return node(
        "wsnt:RenewResponse",
        element("wsnt:TerminationTime", xml_time(terminates_at)),
        element("wsnt:CurrentTime", xml_time(now)),
    )


SERVICE_NAMESPACES = {
    "device": "http://www.onvif.org/ver10/device/wsdl",
    "media": NS["trt"],
    "ptz": NS["tptz"],
    "events": NS["tev"],
}
