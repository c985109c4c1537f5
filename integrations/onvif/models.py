"""What the client reads from a device, as plain frozen values (no zeep objects leak out of client.py)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """GetDeviceInformation, plus the MAC address from GetNetworkInterfaces when the device gives it."""

    manufacturer: str
    model: str
    firmware_version: str
    serial_number: str
    hardware_id: str
    mac: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class MediaProfile:
    """One media profile and its video encoder configuration (codec, resolution, frame rate)."""

    token: str
    name: str
    codec: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    bitrate_kbps: int | None = None
    ptz: bool = False

    @property
    def pixels(self) -> int:
        return (self.width or 0) * (self.height or 0)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Preset:
    token: str
    name: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
