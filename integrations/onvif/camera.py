"""The ONVIF camera entity: the stream found through GetStreamUri, stills from GetSnapshotUri.

A still comes from the device's snapshot URL (HTTP Digest or Basic) when it has one, and from the hub's shared
decoder otherwise or when that fails; ``width`` scales it (off the event loop).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from hub.camera import Camera

from .errors import OnvifError

if TYPE_CHECKING:
    from .device import OnvifDevice

_LOGGER = logging.getLogger(__name__)


def scale_jpeg(jpeg: bytes, width: int) -> bytes:
    """The JPEG scaled to ``width`` pixels wide (aspect kept); returned as is when it is not wider."""
    from PIL import Image

    with Image.open(io.BytesIO(jpeg)) as image:
        if image.width <= width:
            return jpeg
        height = max(1, round(image.height * width / image.width))
        scaled = image.convert("RGB").resize((width, height))
    buffer = io.BytesIO()
    scaled.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


class OnvifCamera(Camera):
    def __init__(self, device: OnvifDevice) -> None:
        super().__init__(
            name=device.name,
            unique_id=f"{device.serial}_{device.profile.token}",
            options={"rtsp_transport": device.rtsp_transport},
            supports_ptz=device.supports_ptz,
        )
        self.device = device
        self._snapshot_failed: str | None = None

    async def stream_source(self) -> str | None:
        return self.device.stream_url

    @property
    def extra_attributes(self) -> Mapping[str, Any] | None:
        device = self.device
        profile = device.profile
        return MappingProxyType(
            {
                "manufacturer": device.info.manufacturer,
                "model": device.info.model,
                "firmware_version": device.info.firmware_version,
                "profile": profile.token,
                "codec": profile.codec,
                "resolution": f"{profile.width}x{profile.height}" if profile.width and profile.height else None,
                "fps": profile.fps,
                "clock_offset_s": round(device.client.clock_offset, 1),
                "presets": [preset.as_dict() for preset in device.presets],
            }
        )

    async def async_camera_image(self, width: int | None = None) -> bytes | None:
        jpeg = await self._device_snapshot()
        if jpeg is None:
            return await super().async_camera_image(width)
        if width is not None:
            return await self.hub.run_in_executor(scale_jpeg, jpeg, width)
        return jpeg

    async def _device_snapshot(self) -> bytes | None:
        try:
            jpeg = await self.device.snapshot()
        except OnvifError as err:
            if str(err) != self._snapshot_failed:  # once per distinct failure, then the decoder's frames
                _LOGGER.warning("%s: snapshot URL failed, using the stream instead: %s", self.name, err)
            self._snapshot_failed = str(err)
            return None
        self._snapshot_failed = None
        return jpeg

    def set_available(self, available: bool) -> None:
        if available != self._attr_available:
            self._attr_available = available
            self.write_state()
