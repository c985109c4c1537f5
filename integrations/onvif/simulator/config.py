"""What the simulated device is: its identity, account, media profiles, clock and misbehaviours."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SimulatedProfile:
    """One media profile: the stream it points at and the encoder settings it reports."""

    token: str
    name: str
    rtsp_url: str
    width: int = 1280
    height: int = 720
    fps: int = 25
    encoding: str = "H264"
    bitrate_kbps: int = 2048
    ptz: bool = True


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """``clock_offset``: seconds the device's clock is ahead of ours (negative: behind); ``time_tolerance``: how
    far a WS-Security ``Created`` may be from the device's clock; ``broken_xml``: operations answered with
    malformed XML (``{"*"}`` for all); ``snapshot``: whether it has a snapshot URI; ``snapshot_auth``: ``digest``,
    ``basic`` or ``none``."""

    username: str = "admin"
    password: str = "admin"
    manufacturer: str = "Gatehouse"
    model: str = "SimCam ONVIF"
    firmware_version: str = "1.0.0"
    serial_number: str = "SIM-ONVIF-0001"
    hardware_id: str = "GH-SIM-1"
    mac: str = "02:00:00:00:6f:01"
    name: str = "Simulated camera"
    location: str = "lab"
    endpoint: str = "urn:uuid:6f6e7669-6600-4000-8000-000000000001"
    rtsp_url: str = "rtsp://127.0.0.1:8554/live"
    sub_rtsp_url: str | None = None
    profiles: tuple[SimulatedProfile, ...] = ()
    ptz: bool = True
    events: bool = True
    snapshot: bool = True
    clock_offset: float = 0.0
    time_tolerance: float = 5.0
    snapshot_auth: str = "digest"
    broken_xml: frozenset[str] = field(default_factory=frozenset)
    max_subscriptions: int = 10

    def media_profiles(self) -> tuple[SimulatedProfile, ...]:
        """The configured profiles, or a main stream (and a sub stream when ``sub_rtsp_url`` is set)."""
        if self.profiles:
            return self.profiles
        main = SimulatedProfile("main", "mainStream", self.rtsp_url, ptz=self.ptz)
        if self.sub_rtsp_url is None:
            return (main,)
        return (main, SimulatedProfile("sub", "subStream", self.sub_rtsp_url, 640, 360, 10, bitrate_kbps=512))
