"""The camera entity: what every camera integration (RTSP, ONVIF, Hikvision, files...) exposes to the hub.

A camera says where its video is (``stream_source``: a URL or path PyAV opens, with ``stream_options`` and
``stream_format``) and how to get a still (``async_camera_image``). The hub's stream manager (``hub.streams``)
opens one decoder per camera on demand and shares it between snapshots, MJPEG, HLS and detection; it sets the
state (``streaming`` while a decoder is open, ``idle`` otherwise) and reports stream failures to the camera's
device health.

    camera = Camera(name="Gate", unique_id="gate-cam", source="rtsp://user:pass@192.0.2.10/stream1",
                    options={"rtsp_transport": "tcp"})
    await hub.entities.add(camera, platform="cameras", config_entry=entry)
    jpeg = await camera.async_camera_image(width=640)

Integrations subclass it and override ``stream_source`` (a URL found at run time, e.g. ONVIF GetStreamUri) or
``async_camera_image`` (a vendor snapshot URL). A subclass overriding ``async_removed`` calls ``super()``, which
closes the camera's decoder.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from hub.entity import Entity

if TYPE_CHECKING:
    from hub.device_health import DeviceHealth

DOMAIN = "camera"

STATE_STREAMING = "streaming"
STATE_IDLE = "idle"

ATTR_SUPPORTS_PTZ = "supports_ptz"
ATTR_ENTITY_PICTURE = "entity_picture"
ATTR_FRONTEND_STREAM_TYPE = "frontend_stream_type"

#: The stream type the dashboard's live view plays (HLS fMP4 through Media Source Extensions).
STREAM_TYPE_HLS = "hls"

_NO_OPTIONS: Mapping[str, str] = MappingProxyType({})


class Camera(Entity):
    """A camera. ``source`` and ``options`` are for cameras whose stream URL is known up front.

    ``health`` is the camera's tracked device health (``hub.health.track``) when its integration has one: the
    stream manager reports open failures, stalls and recoveries to it. Without one, the camera only goes
    ``unavailable`` while its stream cannot be opened.
    """

    domain: ClassVar[str] = DOMAIN

    _attr_state: Any = STATE_IDLE
    _attr_icon: str | None = "mdi:cctv"
    _attr_stream_source: str | None = None

    #: PyAV/FFmpeg options for opening the stream (``{"rtsp_transport": "tcp"}``).
    stream_options: Mapping[str, str] = _NO_OPTIONS
    #: PyAV container format when the source does not say (``"v4l2"`` for /dev/video0, ``"mpjpeg"``).
    stream_format: str | None = None
    #: The live page shows PTZ buttons calling ``<platform>.ptz_*`` services when True.
    supports_ptz: bool = False
    #: What the live page plays: ``"hls"``, or None for snapshot-only cameras (the page refreshes stills).
    frontend_stream_type: str | None = STREAM_TYPE_HLS
    #: The device health the stream manager reports to (set by the integration after ``hub.health.track``).
    health: DeviceHealth | None = None

    def __init__(
        self,
        *,
        name: str | None = None,
        unique_id: str | None = None,
        source: str | None = None,
        options: Mapping[str, str] | None = None,
        stream_format: str | None = None,
        supports_ptz: bool = False,
    ) -> None:
        if name is not None:
            self._attr_name = name
        if unique_id is not None:
            self._attr_unique_id = unique_id
        if source is not None:
            self._attr_stream_source = source
        if options is not None:
            self.stream_options = MappingProxyType(dict(options))
        if stream_format is not None:
            self.stream_format = stream_format
        if supports_ptz:
            self.supports_ptz = True

    async def stream_source(self) -> str | None:
        """A URL or path PyAV can open (credentials included), or None for a snapshot-only camera."""
        return self._attr_stream_source

    async def async_camera_image(self, width: int | None = None) -> bytes | None:
        """A JPEG of what the camera sees now, scaled to ``width`` pixels when given.

        The default takes the latest frame of the shared decoder (opening the stream if nobody watches);
        snapshot-only and vendor cameras override it. Raises ``hub.streams.StreamError`` when the stream fails.
        """
        if await self.stream_source() is None:
            return None
        return await self.hub.streams.snapshot(self, width=width)

    @property
    def is_streaming(self) -> bool:
        return self._attr_state == STATE_STREAMING

    def set_stream_state(self, *, streaming: bool, available: bool | None = None) -> None:
        """The stream manager's report: a decoder opened or closed; the stream could (not) be opened."""
        state = STATE_STREAMING if streaming else STATE_IDLE
        changed = state != self._attr_state
        self._attr_state = state
        if available is not None and available != self._attr_available:
            self._attr_available = available
            changed = True
        if changed and self.entity_id:
            self.write_state()

    def state_attributes(self) -> dict[str, Any]:
        attributes = super().state_attributes()
        attributes[ATTR_SUPPORTS_PTZ] = self.supports_ptz
        if self.entity_id:
            attributes[ATTR_ENTITY_PICTURE] = f"/api/camera_proxy/{self.entity_id}"
        attributes[ATTR_FRONTEND_STREAM_TYPE] = self.frontend_stream_type
        return attributes

    async def async_removed(self) -> None:
        """Close this camera's decoder: nobody can reach it through the hub any more."""
        streams = getattr(self.hub, "streams", None)
        if streams is not None and self.entity_id:
            await streams.async_close(self.entity_id)
