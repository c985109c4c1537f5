"""Simulated Hikvision equipment for tests, benchmarks and the demo (``gatehouse simulate hikvision``).

``IsapiDeviceSimulator`` is a camera, NVR or access terminal speaking ISAPI (REFERENCE.md §2b) on a real aiohttp
server; ``GatewaySimulator`` is a Hik Device Gateway (§2a) holding such devices behind ``devIndex``.
"""

from __future__ import annotations

from .device import IsapiDeviceSimulator
from .events import BOGUS_TIME, BOUNDARY, REQUEST_FAULTS, STREAM_FAULTS
from .gateway import GatewaySimulator

__all__ = ["BOGUS_TIME", "BOUNDARY", "REQUEST_FAULTS", "STREAM_FAULTS", "GatewaySimulator", "IsapiDeviceSimulator"]
