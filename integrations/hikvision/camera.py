"""Hikvision channels as the hub's camera entities (``hub.camera.Camera``).

The stream is the channel's RTSP main stream (``/Streaming/Channels/<c>01``; the sub stream ``<c>02`` is there
for consumers that want less: ``sub_stream_source()``); a still comes from ISAPI's picture endpoint, with the
NVR proxy fallback inside the client, rather than from decoding the stream.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from typing import Literal

from hub.camera import Camera
from hub.device_registry import Device

StreamKind = Literal["main", "sub"]
SourceOf = Callable[[int, StreamKind], Awaitable[str | None]]
SnapshotOf = Callable[[int], Awaitable[bytes]]


class HikvisionCamera(Camera):
    """Channel ``channel`` of a camera, NVR or face terminal; ``source_of``/``snapshot_of`` reach the device
    directly or through the gateway, whichever way the device is connected."""

    def __init__(self, device: Device, channel: int, source_of: SourceOf, snapshot_of: SnapshotOf) -> None:
        super().__init__(
            name=f"{device.name} camera {channel}",
            unique_id=f"{device.serial_number}_camera_{channel}",
            options={"rtsp_transport": "tcp"},  # Hikvision streams are reliable over TCP, lossy over UDP
        )
        self.serial = device.serial_number
        self.channel = channel
        self._source_of = source_of
        self._snapshot_of = snapshot_of
        self._attr_extra_attributes = {
            "channel": channel,
            "main_stream": f"{channel}01",
            "sub_stream": f"{channel}02",
        }

    async def stream_source(self) -> str | None:
        return await self._source_of(self.channel, "main")

    async def sub_stream_source(self) -> str | None:
        """The channel's sub stream (lower resolution): what a detector or a grid of many cameras should open."""
        return await self._source_of(self.channel, "sub")

    async def async_camera_image(self, width: int | None = None) -> bytes | None:
        jpeg = await self._snapshot_of(self.channel * 100 + 1)
        if width is None or not jpeg:
            return jpeg
        return await self.hub.run_in_executor(_scaled, jpeg, width)

    def set_available(self, available: bool) -> None:
        if available != self._attr_available:
            self._attr_available = available
            if self.entity_id:
                self.write_state()


def _scaled(jpeg: bytes, width: int) -> bytes:
    """The picture ``width`` pixels wide (never enlarged), as JPEG."""
    from PIL import Image

    with Image.open(io.BytesIO(jpeg)) as image:
        if image.width <= width:
            return jpeg
        height = max(1, round(image.height * width / image.width))
        resized = image.convert("RGB").resize((width, height))
        out = io.BytesIO()
        resized.save(out, "JPEG", quality=85)
        return out.getvalue()
