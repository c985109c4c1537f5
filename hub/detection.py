"""The ``detection`` event: one shape for every detector (camera analytics, an integration's object detection).

A detector saw something on a camera: it fires ``start`` when the object appears, ``update`` while it moves or
its confidence changes, ``end`` when it is gone. The ``detection`` automation trigger, the events page and the
recorder read every detector alike; a detector may add its own keys (``track_id``, ``box``) next to these.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

from hub.core import EventType

DetectionType = Literal["start", "update", "end"]


class DetectionEventData(TypedDict):
    #: The camera entity id (``camera.gate``).
    camera: str
    #: What was seen, lower case: ``person``, ``car``, ``face``, ``bicycle``...
    label: str
    #: How sure the detector is, from 0 to 1.
    confidence: float
    #: The camera's named zones the object is in (empty when the camera has none).
    zones: list[str]
    type: DetectionType
    #: The detector's id for this object across start, updates and end.
    track_id: NotRequired[str | None]


#: Fired per detection start/update/end, tenant-scoped to the camera's tenant.
EVENT_DETECTION: EventType[DetectionEventData] = EventType("detection")
