"""The entities of one camera's detection: per label a count and a detected flag, and the pipeline's figures.

Entity ids follow the camera's object id: ``sensor.gate_person_count``, ``binary_sensor.gate_person_detected``,
``sensor.gate_camera_fps``, ``sensor.gate_detection_fps``, ``sensor.gate_skipped_fps``, ``sensor.gate_inference_ms``.
Unique ids hang on the camera entity id, so removing and re-adding the detection entry keeps the same ids. The
entities belong to the camera's device (and so to its tenant). Counts change per detected frame, but a state is
only written when it changes; the statistics are written every few seconds, never per frame.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from hub.entity import STATE_OFF, STATE_ON, Entity

from .const import DOMAIN

if TYPE_CHECKING:
    from hub.config_entries import ConfigEntry
    from hub.core import Hub
    from hub.device_registry import Device

__all__ = [
    "STAT_SENSORS",
    "CameraEntities",
    "CountSensor",
    "DetectedSensor",
    "DetectionEntity",
    "StatSensor",
    "camera_display_name",
]

#: The statistics sensors: key (entity id suffix), friendly suffix, unit, icon.
STAT_SENSORS: tuple[tuple[str, str, str, str], ...] = (
    ("camera_fps", "camera fps", "fps", "mdi:cctv"),
    ("detection_fps", "detection fps", "fps", "mdi:motion-sensor"),
    ("skipped_fps", "skipped fps", "fps", "mdi:debug-step-over"),
    ("inference_ms", "inference ms", "ms", "mdi:timer-outline"),
)


def camera_display_name(camera_entity_id: str, camera_name: str | None) -> str:
    """The camera's name when it slugs to its object id (so ids come out as ``<object id>_...``), else the id."""
    from hub.validation import slugify

    object_id = camera_entity_id.partition(".")[2]
    if camera_name and slugify(camera_name) == object_id:
        return camera_name
    return object_id


class DetectionEntity(Entity):
    def __init__(self, camera: str, display: str, key: str, label: str) -> None:
        self.camera = camera
        self.key = key
        self._attr_unique_id = f"{camera}_{key}"
        self._attr_name = f"{display} {label}"
        self._attr_extra_attributes = {"camera": camera}

    def _publish(self) -> None:
        if self.entity_id:
            self.write_state()


class CountSensor(DetectionEntity):
    """How many objects of ``label`` the camera sees now (after zones), from the latest detected frame."""

    def __init__(self, camera: str, display: str, label: str) -> None:
        super().__init__(camera, display, f"{label}_count", f"{label} count")
        self.label = label
        self._attr_state = 0
        self._attr_icon = "mdi:counter"
        self._attr_extra_attributes = {"camera": camera, "label": label, "state_class": "measurement"}

    def set_count(self, count: int) -> None:
        if count != self._attr_state:
            self._attr_state = count
            self._publish()


class DetectedSensor(DetectionEntity):
    """On while at least one detection event of ``label`` is open on the camera."""

    domain: ClassVar[str] = "binary_sensor"

    def __init__(self, camera: str, display: str, label: str) -> None:
        super().__init__(camera, display, f"{label}_detected", f"{label} detected")
        self.label = label
        self._attr_state = STATE_OFF
        self._attr_device_class = "occupancy" if label == "person" else "motion"
        self._attr_extra_attributes = {"camera": camera, "label": label, "events": 0}

    def set_events(self, open_events: int) -> None:
        state = STATE_ON if open_events else STATE_OFF
        if state != self._attr_state or (self._attr_extra_attributes or {}).get("events") != open_events:
            self._attr_state = state
            self._attr_extra_attributes = {"camera": self.camera, "label": self.label, "events": open_events}
            self._publish()


class StatSensor(DetectionEntity):
    """One of the pipeline's figures (``STAT_SENSORS``), refreshed every few seconds."""

    def __init__(self, camera: str, display: str, key: str, suffix: str, unit: str, icon: str) -> None:
        super().__init__(camera, display, key, suffix)
        self._attr_unit_of_measurement = unit
        self._attr_icon = icon
        self._attr_state = None
        self._attr_extra_attributes = {"camera": camera, "state_class": "measurement"}

    def set_value(self, value: float | None, attributes: Mapping[str, Any] | None = None) -> None:
        state = None if value is None else round(value, 1)
        extra = {"camera": self.camera, "state_class": "measurement", **(attributes or {})}
        if state != self._attr_state or extra != self._attr_extra_attributes:
            self._attr_state = state
            self._attr_extra_attributes = extra
            self._publish()

    def set_available(self, available: bool) -> None:
        if available != self._attr_available:
            self._attr_available = available
            self._publish()


class CameraEntities:
    """The entities of one camera's detection, added to the hub as they are needed.

    Labels named in the entry get their count and detected entities at set-up; with no labels configured (every
    label), an entity pair appears the first time its label is seen.
    """

    def __init__(self, hub: Hub, entry: ConfigEntry, camera: str, display: str, device: Device | None) -> None:
        self.hub = hub
        self.entry = entry
        self.camera = camera
        self.display = display
        self.device = device
        self.counts: dict[str, CountSensor] = {}
        self.detected: dict[str, DetectedSensor] = {}
        self.stats: dict[str, StatSensor] = {}

    async def add_stats(self) -> None:
        for key, suffix, unit, icon in STAT_SENSORS:
            sensor = StatSensor(self.camera, self.display, key, suffix, unit, icon)
            await self._add(sensor)
            self.stats[key] = sensor

    async def ensure(self, label: str) -> None:
        """The label's count and detected entities, added on first need."""
        if label in self.counts:
            return
        count, detected = (
            CountSensor(self.camera, self.display, label),
            DetectedSensor(self.camera, self.display, label),
        )
        self.counts[label] = count
        self.detected[label] = detected
        await self._add(count)
        await self._add(detected)

    def set_counts(self, counts: Mapping[str, int]) -> None:
        for label, sensor in self.counts.items():
            sensor.set_count(counts.get(label, 0))

    def set_open_events(self, open_events: Mapping[str, int]) -> None:
        for label, sensor in self.detected.items():
            sensor.set_events(open_events.get(label, 0))

    def set_stats(self, values: Mapping[str, float | None], attributes: Mapping[str, Mapping[str, Any]]) -> None:
        for key, sensor in self.stats.items():
            sensor.set_value(values.get(key), attributes.get(key))

    def set_available(self, available: bool) -> None:
        for sensor in self.stats.values():
            sensor.set_available(available)

    async def _add(self, entity: DetectionEntity) -> None:
        await self.hub.entities.add(entity, platform=DOMAIN, config_entry=self.entry, device=self.device)
