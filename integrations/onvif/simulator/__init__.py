"""A simulated ONVIF camera for tests, benchmarks and demos: ``gatehouse simulate onvif``.

It speaks the real protocol on real sockets: SOAP 1.2 with WS-Security digests (``server``), PullPoint events
(``events``), a PTZ head with presets (``ptz``), a JPEG snapshot URL behind HTTP Digest or Basic, and a
WS-Discovery responder (``discovery``). Its stream URI points at any RTSP URL, such as the ``rtsp_server`` fixture.

    async with OnvifSimulator(rtsp_url=rtsp_server.url, password="secret") as camera:
        camera.emit("tns1:RuleEngine/CellMotionDetector/Motion", {"IsMotion": "true"})
"""

from __future__ import annotations

from .config import SimulatedProfile, SimulatorConfig
from .discovery import DiscoveryResponder
from .server import OnvifSimulator, test_card

__all__ = ["DiscoveryResponder", "OnvifSimulator", "SimulatedProfile", "SimulatorConfig", "test_card"]
