"""One tracked object's detection event, and the start/update/end changes the pipeline publishes for it.

The vocabulary shared by the lifecycle (which makes the changes), the pipeline (which fires them on the bus and
writes media) and the store (which persists them): one ``TrackedEvent`` lives from the object's first confirmed
sighting to its end, keeps the best sighting for the snapshot, and renders itself as a ``detection`` bus payload.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from hub.detection import DetectionType
    from hub.stream_frame import Frame
    from integrations.detection.boxes import Box

__all__ = [
    "END_CAMERA_GONE",
    "END_LOST",
    "END_STOPPED",
    "ChangeType",
    "EventChange",
    "TrackedEvent",
    "iso_time",
]

ChangeType = Literal["start", "update", "end"]

#: Why an event ended: the object was not seen for ``end_after`` seconds (or left the include zones).
END_LOST = "lost"
#: The camera disappeared or its stream failed for good.
END_CAMERA_GONE = "camera_gone"
#: Detection was stopped (entry unloaded, hub stopping).
END_STOPPED = "stopped"


def iso_time(timestamp: float) -> str:
    """Epoch seconds as ISO 8601 in UTC, the form every event payload uses."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat()


@dataclass(slots=True)
class TrackedEvent:
    """One object followed across frames, from its first confirmed sighting to its end."""

    #: uuid4 hex, the same in start, updates and end.
    event_id: str
    #: The camera entity id (``camera.gate``).
    camera: str
    tenant_id: str | None
    #: What was seen, after the camera's label map (``person``).
    label: str
    track_id: str
    #: Epoch seconds of the first sighting (its frame's time).
    start: float
    last_seen: float
    #: Set when the event ends.
    end: float | None
    #: Confidence of the latest sighting.
    confidence: float
    top_confidence: float
    #: The latest box, in the frame's pixels.
    box: Box
    #: The include zones the object is in now.
    zones: list[str]
    #: Every include zone the object has been in, in the order it entered them.
    entered_zones: list[str]
    #: The box of the best sighting (highest confidence; on a tie the larger box).
    best_box: Box
    #: The frame of the best sighting, for the snapshot; not persisted.
    best_frame: Frame | None
    best_time: float
    #: How many ``update`` changes were published.
    updates: int = 0

    @property
    def duration(self) -> float:
        """Seconds from the first sighting to the end (or to the latest sighting while it lasts)."""
        return (self.last_seen if self.end is None else self.end) - self.start

    def snapshot(self) -> TrackedEvent:
        """A copy of the event as it is now (lists copied, the frame shared): what one change reports."""
        return replace(self, zones=list(self.zones), entered_zones=list(self.entered_zones))

    def event_data(self, type: DetectionType) -> dict[str, Any]:
        """The ``detection`` bus payload: ``DetectionEventData``'s keys plus this detector's own."""
        return {
            "camera": self.camera,
            "label": self.label,
            "confidence": round(self.top_confidence if type == "end" else self.confidence, 4),
            "zones": list(self.zones),
            "type": type,
            "track_id": self.track_id,
            "event_id": self.event_id,
            "box": self.box.as_list(),
            "top_confidence": round(self.top_confidence, 4),
            "entered_zones": list(self.entered_zones),
            "start": iso_time(self.start),
            "end": None if self.end is None else iso_time(self.end),
            "duration": round(self.duration, 3),
        }


@dataclass(frozen=True, slots=True)
class EventChange:
    """What happened to an event on this frame. ``event`` is a snapshot taken at the change, so a change handled
    later (after awaits) still reports that moment; ``reason`` says why an ``end`` came (``lost``,
    ``camera_gone``, ``stopped``)."""

    type: ChangeType
    event: TrackedEvent
    reason: str = ""
