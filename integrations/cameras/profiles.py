"""Manufacturer profiles: where each brand serves its main, sub and snapshot streams (REFERENCE.md §3).

Data, not code: one ``ManufacturerProfile`` per brand with its URL templates, default ports and notes. The
templates are educated guesses from public camera databases; auto-detect confirms them against the camera and
prefers ONVIF ``GetStreamUri`` whenever the camera speaks ONVIF. Placeholders in a template's ``path``:
``{channel}`` (1-based), ``{channel0}`` (0-based), ``{channel2}`` (1-based, two digits), ``{username}`` and
``{password}`` (for brands that take credentials in the query string; filled URL-quoted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .const import (
    STREAM_MAIN,
    STREAM_SUB,
    TYPE_HTTP_MJPEG,
    TYPE_HTTP_SNAPSHOT,
    TYPE_RTMP,
    TYPE_RTSP,
    TYPE_RTSPS,
)

STREAM_SNAPSHOT = "snapshot"
STREAM_MJPEG = "mjpeg"
TEMPLATE_STREAMS = (STREAM_MAIN, STREAM_SUB, STREAM_MJPEG, STREAM_SNAPSHOT)


@dataclass(frozen=True, slots=True)
class UrlTemplate:
    """One way a brand serves video: which stream, over which connection type, at which path (and port)."""

    stream: str
    connection_type: str
    path: str
    port: int | None = None  # None: the profile's default port for this connection type
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "connection_type": self.connection_type,
            "path": self.path,
            "port": self.port,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class ManufacturerProfile:
    """A brand: its URL templates (most likely first), default ports, and what a user should know."""

    key: str
    name: str
    templates: tuple[UrlTemplate, ...] = ()
    rtsp_port: int = 554
    http_port: int = 80
    onvif_port: int = 80
    onvif: bool = True
    cloud_only: bool = False
    notes: str = ""
    aliases: tuple[str, ...] = field(default=())

    def templates_for(self, stream: str, connection_type: str | None = None) -> list[UrlTemplate]:
        return [
            template
            for template in self.templates
            if template.stream == stream and (connection_type is None or template.connection_type == connection_type)
        ]

    def default_port(self, connection_type: str) -> int:
        if connection_type in (TYPE_HTTP_MJPEG, TYPE_HTTP_SNAPSHOT):
            return self.http_port
        if connection_type == TYPE_RTMP:
            return 1935
        if connection_type == TYPE_RTSPS:
            return 322
        return self.rtsp_port

    def as_dict(self, *, templates: bool = False) -> dict[str, Any]:
        described: dict[str, Any] = {
            "key": self.key,
            "name": self.name,
            "rtsp_port": self.rtsp_port,
            "http_port": self.http_port,
            "onvif_port": self.onvif_port,
            "onvif": self.onvif,
            "cloud_only": self.cloud_only,
            "local_streams": any(t.stream in (STREAM_MAIN, STREAM_SUB) for t in self.templates),
            "notes": self.notes,
            "aliases": list(self.aliases),
        }
        if templates:
            described["templates"] = [template.as_dict() for template in self.templates]
        return described


def _rtsp(stream: str, path: str, port: int | None = None, note: str = "") -> UrlTemplate:
    return UrlTemplate(stream, TYPE_RTSP, path, port, note)


def _snapshot(path: str, port: int | None = None, note: str = "") -> UrlTemplate:
    return UrlTemplate(STREAM_SNAPSHOT, TYPE_HTTP_SNAPSHOT, path, port, note)


def _mjpeg(path: str, port: int | None = None, note: str = "") -> UrlTemplate:
    return UrlTemplate(STREAM_MJPEG, TYPE_HTTP_MJPEG, path, port, note)


_DAHUA_TEMPLATES = (
    _rtsp(STREAM_MAIN, "/cam/realmonitor?channel={channel}&subtype=0"),
    _rtsp(STREAM_SUB, "/cam/realmonitor?channel={channel}&subtype=1"),
    _mjpeg("/cgi-bin/mjpg/video.cgi?channel={channel}&subtype=1"),
    _snapshot("/cgi-bin/snapshot.cgi?channel={channel}"),
)

PROFILES: tuple[ManufacturerProfile, ...] = (
    ManufacturerProfile(
        "hikvision",
        "Hikvision",
        (
            _rtsp(STREAM_MAIN, "/Streaming/Channels/{channel}01"),
            _rtsp(STREAM_SUB, "/Streaming/Channels/{channel}02"),
            _mjpeg("/ISAPI/Streaming/channels/{channel}02/httpPreview"),
            _snapshot("/ISAPI/Streaming/channels/{channel}01/picture"),
        ),
        notes="Also HiWatch, Annke and LTS (same firmware). NVR channel N is /Streaming/Channels/N01 (N02 sub).",
        aliases=("hiwatch", "annke", "lts"),
    ),
    ManufacturerProfile(
        "dahua",
        "Dahua",
        _DAHUA_TEMPLATES,
        notes="subtype=0 main, 1 sub, 2 third stream; NVR channels by channel=N. Basic, then Digest auth.",
    ),
    ManufacturerProfile(
        "amcrest",
        "Amcrest",
        _DAHUA_TEMPLATES,
        notes="Re-branded Dahua: same URLs and CGI API.",
    ),
    ManufacturerProfile(
        "axis",
        "Axis",
        (
            _rtsp(STREAM_MAIN, "/axis-media/media.amp?videocodec=h264&camera={channel}"),
            _rtsp(STREAM_SUB, "/axis-media/media.amp?videocodec=h264&resolution=640x360&camera={channel}"),
            _mjpeg("/axis-cgi/mjpg/video.cgi?camera={channel}"),
            _mjpeg("/mjpg/video.mjpg"),
            _snapshot("/axis-cgi/jpg/image.cgi?camera={channel}"),
        ),
        notes="VAPIX; Digest or Basic auth. The sub stream is the main one at a lower resolution.",
    ),
    ManufacturerProfile(
        "bosch",
        "Bosch",
        (
            _rtsp(STREAM_MAIN, "/rtsp_tunnel"),
            _rtsp(STREAM_SUB, "/rtsp_tunnel?inst=2", note="the inst= selector is not verified: prefer ONVIF"),
            _snapshot("/snap.jpg?JpegSize=XL"),
        ),
        notes="Prefer ONVIF (GetStreamUri) on Bosch: stream selectors vary by firmware.",
    ),
    ManufacturerProfile(
        "hanwha",
        "Hanwha (Samsung Wisenet)",
        (
            _rtsp(STREAM_MAIN, "/profile2/media.smp"),
            _rtsp(STREAM_MAIN, "/onvif/profile1/media.smp"),
            _rtsp(STREAM_SUB, "/profile3/media.smp"),
            _snapshot("/stw-cgi/video.cgi?msubmenu=snapshot&action=view"),
        ),
        notes="Profile numbering is per camera: prefer ONVIF GetStreamUri.",
        aliases=("samsung", "wisenet"),
    ),
    ManufacturerProfile(
        "avigilon",
        "Avigilon",
        (
            _rtsp(STREAM_MAIN, "/defaultPrimary?streamType=u"),
            _rtsp(STREAM_SUB, "/defaultSecondary?streamType=u", note="not in the public database: check with ONVIF"),
            _snapshot("/media/still.jpg"),
        ),
        notes="streamType=u is unicast, m multicast.",
    ),
    ManufacturerProfile(
        "foscam",
        "Foscam",
        (
            _rtsp(STREAM_MAIN, "/videoMain"),
            _rtsp(STREAM_MAIN, "/videoMain", port=88, note="some models serve RTSP on port 88"),
            _rtsp(STREAM_SUB, "/videoSub"),
            _snapshot("/cgi-bin/CGIProxy.fcgi?cmd=snapPicture2&usr={username}&pwd={password}"),
        ),
        http_port=88,
        onvif_port=888,
        notes="The HTTP API (port 88) takes credentials in the query string.",
    ),
    ManufacturerProfile(
        "tplink",
        "TP-Link (Tapo / VIGI)",
        (_rtsp(STREAM_MAIN, "/stream1"), _rtsp(STREAM_SUB, "/stream2")),
        onvif_port=2020,
        notes="Create a camera account in the Tapo app first; ONVIF on port 2020. No HTTP snapshot.",
        aliases=("tapo", "vigi", "tp-link"),
    ),
    ManufacturerProfile(
        "reolink",
        "Reolink",
        (
            _rtsp(STREAM_MAIN, "/h264Preview_{channel2}_main"),
            _rtsp(STREAM_MAIN, "/h265Preview_{channel2}_main", note="H.265 models"),
            _rtsp(STREAM_SUB, "/h264Preview_{channel2}_sub"),
            UrlTemplate(
                STREAM_MAIN,
                TYPE_RTMP,
                "/bcs/channel{channel0}_main.bcs?channel={channel0}&stream=0&user={username}&password={password}",
                note="RTMP is often steadier than RTSP on Reolink (H.264 models only)",
            ),
            UrlTemplate(
                STREAM_SUB,
                TYPE_RTMP,
                "/bcs/channel{channel0}_sub.bcs?channel={channel0}&stream=1&user={username}&password={password}",
            ),
            _snapshot("/cgi-bin/api.cgi?cmd=Snap&channel={channel0}&rs=gatehouse&user={username}&password={password}"),
        ),
        notes="Channel ids start at 0 for RTMP and the HTTP API, at 01 for RTSP. Enable RTSP/RTMP in the app.",
    ),
    ManufacturerProfile(
        "xiaomi",
        "Xiaomi (Mi Home)",
        (_rtsp(STREAM_MAIN, "/unicast", port=8554, note="community firmware only"),),
        onvif=False,
        notes="Stock firmware has no RTSP (cloud app only); community firmware serves rtsp://host:8554/unicast.",
        aliases=("mi", "dafang", "yi"),
    ),
    ManufacturerProfile(
        "vivotek",
        "Vivotek",
        (
            _rtsp(STREAM_MAIN, "/live.sdp"),
            _rtsp(STREAM_SUB, "/live2.sdp"),
            _snapshot("/cgi-bin/viewer/video.jpg"),
        ),
    ),
    ManufacturerProfile(
        "uniview",
        "Uniview (UNV)",
        (
            _rtsp(STREAM_MAIN, "/unicast/c{channel}/s0/live"),
            _rtsp(STREAM_MAIN, "/media/video1"),
            _rtsp(STREAM_SUB, "/unicast/c{channel}/s1/live"),
            _rtsp(STREAM_SUB, "/media/video2"),
        ),
        aliases=("unv",),
    ),
    ManufacturerProfile(
        "nest",
        "Google Nest",
        onvif=False,
        cloud_only=True,
        notes="Cloud only: the Smart Device Management API gives short-lived RTSPS or WebRTC streams (OAuth, "
        "Device Access registration). No local stream to configure here.",
        aliases=("google",),
    ),
    ManufacturerProfile(
        "ring",
        "Amazon Ring",
        onvif=False,
        cloud_only=True,
        notes="Cloud only: live view is WebRTC through Ring's unofficial API (refresh token). No local stream.",
    ),
    ManufacturerProfile(
        "arlo",
        "Arlo",
        onvif=False,
        cloud_only=True,
        notes="Cloud only: no local RTSP on most models; events through Arlo's cloud event stream.",
    ),
    ManufacturerProfile(
        "wyze",
        "Wyze",
        onvif=False,
        cloud_only=True,
        notes="Cloud only, unless a docker-wyze-bridge serves it: then add rtsp://BRIDGE:8554/CAMERA-NAME as a "
        "generic RTSP camera.",
    ),
    ManufacturerProfile(
        "sony",
        "Sony",
        (
            _rtsp(STREAM_MAIN, "/media/video1"),
            _rtsp(STREAM_SUB, "/media/video2"),
            _snapshot("/oneshotimage.jpg"),
        ),
    ),
    ManufacturerProfile(
        "panasonic",
        "Panasonic (i-PRO)",
        (
            _rtsp(STREAM_MAIN, "/MediaInput/h264"),
            _rtsp(STREAM_SUB, "/MediaInput/h264/stream_2"),
            _snapshot("/SnapshotJPEG?Resolution=640x480"),
        ),
        aliases=("i-pro",),
    ),
    ManufacturerProfile(
        "mobotix",
        "Mobotix",
        (
            _rtsp(STREAM_MAIN, "/mobotix.h264", note="newer firmware"),
            _mjpeg("/control/faststream.jpg?stream=full&needlength", note="MxPEG cameras also serve MJPEG here"),
            _snapshot("/record/current.jpg"),
        ),
    ),
    ManufacturerProfile(
        "unifi",
        "Ubiquiti UniFi",
        (
            _rtsp(STREAM_MAIN, "/s0", note="standalone camera (not adopted by Protect)"),
            _rtsp(STREAM_SUB, "/s1"),
            _snapshot("/snapshot.cgi"),
        ),
        onvif=False,
        notes="Adopted cameras stream through the Protect NVR: copy the RTSPS link from Protect (camera, "
        "Settings, Advanced) and add it as rtsps://NVR:7441/TOKEN, without ?enableSrtp.",
        aliases=("ubiquiti", "protect"),
    ),
    ManufacturerProfile(
        "eufy",
        "Eufy",
        (_rtsp(STREAM_MAIN, "/live0"), _rtsp(STREAM_SUB, "/live1")),
        onvif=False,
        notes="RTSP must be enabled per camera in the Eufy app (model-dependent).",
    ),
    ManufacturerProfile(
        "generic",
        "Generic",
        (
            _rtsp(STREAM_MAIN, "/live"),
            _rtsp(STREAM_MAIN, "/stream1"),
            _rtsp(STREAM_MAIN, "/h264"),
            _rtsp(STREAM_MAIN, "/live.sdp"),
            _rtsp(STREAM_MAIN, "/video1"),
            _rtsp(STREAM_MAIN, "/av_stream/ch0"),
            _rtsp(STREAM_SUB, "/stream2"),
            _mjpeg("/video.mjpg"),
            _mjpeg("/mjpg/video.mjpg"),
            _mjpeg("/videostream.cgi"),
            _snapshot("/snapshot.jpg"),
            _snapshot("/snapshot.cgi"),
            _snapshot("/image.jpg"),
        ),
        notes="Common paths of ONVIF-less and unbranded cameras; set the path yourself when none answers.",
        aliases=("onvif", "other"),
    ),
)

#: Profiles by key, and by alias (``tapo`` finds TP-Link).
_BY_KEY: dict[str, ManufacturerProfile] = {profile.key: profile for profile in PROFILES}
_BY_NAME: dict[str, ManufacturerProfile] = {
    **{alias: profile for profile in PROFILES for alias in profile.aliases},
    **{profile.name.lower(): profile for profile in PROFILES},
    **_BY_KEY,
}
GENERIC = _BY_KEY["generic"]


def profile_for(name: str | None) -> ManufacturerProfile | None:
    """The profile of a key, alias or display name, case-insensitively; None when unknown."""
    if not name:
        return None
    return _BY_NAME.get(name.strip().lower())


def manufacturer_keys() -> list[str]:
    return [profile.key for profile in PROFILES]
