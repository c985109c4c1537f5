"""The camera entity of one config entry: the core's ``Camera`` with the entry's source, snapshot and health.

Video comes from the source's URL through the hub's shared stream manager (``hub.streams``); stills from the
camera's own snapshot URL when it has one (snapshot-only cameras, or a ``snapshot_url`` in the entry), else from
the stream. The camera is unavailable while its health is offline or its credentials are refused, and carries
its stream statistics (fps received and decoded, frames dropped, resolution) as attributes, refreshed with
every health check.
"""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from hub.camera import STREAM_TYPE_HLS, Camera
from hub.config_entries import ConfigEntry
from hub.core import Event
from hub.device_health import EVENT_DEVICE_HEALTH_CHANGED, HealthLevel

from .camera_http import fetch_image
from .const import CONF_CHANNEL, CONF_MANUFACTURER, CONF_STREAM
from .runtime import CamerasRuntime
from .schema import camera_name
from .source import CameraSource

_LOGGER = logging.getLogger(__name__)

#: Stream statistics published as attributes, with the ``stream_`` prefix.
STATS_KEYS = ("fps_received", "fps_decoded", "frames_dropped", "width", "height", "codec", "last_error", "open")
UNAVAILABLE_LEVELS = frozenset({HealthLevel.OFFLINE.value, "auth_failed"})


def health_key(entry_id: str) -> str:
    """The camera's key in the health monitor (entities ``sensor.camera_<id>_health`` ...)."""
    return f"camera_{entry_id[:12].lower()}"


class ConfiguredCamera(Camera):
    """A camera configured by connection type, host and path (or a file, a device, an ONVIF address)."""

    def __init__(self, entry: ConfigEntry, source: CameraSource, runtime: CamerasRuntime) -> None:
        super().__init__(name=camera_name(entry.title, entry.data), unique_id=entry.entry_id)
        self.entry = entry
        self.source = source
        self.runtime = runtime
        self.stream_options = MappingProxyType(dict(source.stream_options))
        self.stream_format = source.stream_format
        self.frontend_stream_type = STREAM_TYPE_HLS if source.stream_url is not None else None
        self._stats: dict[str, Any] = {}
        self._unlisten: Any = None

    async def stream_source(self) -> str | None:
        return self.source.stream_url

    async def async_camera_image(self, width: int | None = None) -> bytes | None:
        """The camera's snapshot URL when it has one (scaled here when asked), else the shared stream's frame."""
        if self.source.snapshot_url is None:
            return await super().async_camera_image(width)
        image = await fetch_image(
            self.runtime.session,
            self.source.snapshot_url,
            username=self.source.username,
            password=self.source.password,
            verify_tls=self.source.verify_tls,
        )
        if width is None:
            return image
        return await self.hub.run_in_executor(scale_jpeg, image, width)

    @property
    def extra_attributes(self) -> Mapping[str, Any]:
        data = self.entry.data
        attributes: dict[str, Any] = {
            **self.source.describe(),
            "manufacturer": data.get(CONF_MANUFACTURER),
            "stream": data.get(CONF_STREAM),
            "channel": data.get(CONF_CHANNEL),
            "config_entry_id": self.entry.entry_id,
        }
        attributes.update({f"stream_{key}": value for key, value in self._stats.items()})
        return attributes

    def refresh_stats(self) -> None:
        """Copy the stream manager's statistics into the attributes (written when they changed)."""
        streams = getattr(self.hub, "streams", None)
        if streams is None or not self.entity_id:
            return
        try:
            stats = streams.stats(self.entity_id)
        except (KeyError, LookupError):
            stats = None
        values = _stats_dict(stats)
        if values != self._stats:
            self._stats = values
            self.write_state()

    async def async_added(self) -> None:
        if self.health is not None:
            key = self.health.key
            mine = lambda event: event.data["device_key"] == key  # noqa: E731
            self._unlisten = self.hub.bus.listen(EVENT_DEVICE_HEALTH_CHANGED, self._health_changed, mine)

    def _health_changed(self, event: Event[Any]) -> None:
        available = event.data["new_level"] not in UNAVAILABLE_LEVELS
        if available != self._attr_available:
            self._attr_available = available
            self.write_state()

    async def async_removed(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        await super().async_removed()


def _stats_dict(stats: Any) -> dict[str, Any]:
    if stats is None:
        return {}
    values = stats.as_dict() if hasattr(stats, "as_dict") else dataclasses.asdict(stats)
    return {key: values[key] for key in STATS_KEYS if key in values}


def scale_jpeg(image: bytes, width: int) -> bytes:
    """Blocking: ``image`` scaled down to ``width`` pixels wide (never up), as JPEG."""
    from PIL import Image

    with Image.open(io.BytesIO(image)) as picture:
        if picture.width <= width:
            return image
        height = max(1, round(picture.height * width / picture.width))
        scaled = picture.convert("RGB").resize((width, height))
        output = io.BytesIO()
        scaled.save(output, format="JPEG", quality=85)
        return output.getvalue()
