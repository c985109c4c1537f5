"""Turn tracks into detection events: ``start`` once an object is real, ``update`` when it changes, ``end`` when it
is gone, the way Frigate publishes them.

A track becomes an event after ``min_hits`` consecutive sightings (one-frame flicker makes none), only while it
stands where the camera's zones allow. Updates are throttled to one per ``update_every`` seconds and sent only when
the zones, the top confidence or the box changed. An event ends when its object was not seen, or not seen in an
allowed place, for ``end_after`` seconds; ``tick`` checks that on frames where detection did not run (motion
gating), so an object that stops being detected because the scene went still still ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from integrations.detection.boxes import Box, iou
from integrations.detection.event import END_LOST, EventChange, TrackedEvent
from integrations.detection.zones import Zone, allowed, zones_of

if TYPE_CHECKING:
    from hub.stream_frame import Frame

__all__ = ["EventLifecycle"]

#: A box that overlaps the last published one less than this has moved enough for an ``update``.
MOVED_IOU = 0.8
#: The top confidence must rise at least this much to count as a change.
CONFIDENCE_STEP = 0.01


@dataclass(slots=True)
class _Sighting:
    box: Box
    frame: Frame | None
    time: float
    zones: list[str]


@dataclass(slots=True)
class _Candidate:
    """A track seen in consecutive frames that has not yet become an event."""

    sightings: list[_Sighting] = field(default_factory=list)


@dataclass(slots=True)
class _Published:
    """What the last start/update said, to tell whether anything changed since."""

    time: float
    zones: list[str]
    top_confidence: float
    box: Box


def _better(box: Box, than: Box) -> bool:
    """The best sighting: highest confidence; on a tie the larger box (closer, more visible)."""
    return box.confidence > than.confidence or (box.confidence == than.confidence and box.area > than.area)


class EventLifecycle:
    """The detection events of one camera. Feed it every detected frame's tracks (``observe``), ``tick`` on the
    frames where detection was skipped, and ``end_all`` when the camera goes away."""

    def __init__(
        self,
        camera: str,
        tenant_id: str | None,
        zones: Sequence[Zone],
        *,
        end_after: float = 2.0,
        update_every: float = 1.0,
        min_hits: int = 2,
    ) -> None:
        self.camera = camera
        self.tenant_id = tenant_id
        self.zones = tuple(zones)
        self.end_after = end_after
        self.update_every = update_every
        self.min_hits = max(1, min_hits)
        self._candidates: dict[str, _Candidate] = {}
        self._events: dict[str, TrackedEvent] = {}
        self._published: dict[str, _Published] = {}

    @property
    def active(self) -> list[TrackedEvent]:
        """Events started and not yet ended, oldest first."""
        return list(self._events.values())

    def observe(self, tracks: Sequence[tuple[str, Box]], frame: Frame | None, time: float) -> list[EventChange]:
        """One detected frame's tracks (after label map and tracker): the changes it causes, ends included."""
        changes: list[EventChange] = []
        seen: set[str] = set()
        for track_id, box in tracks:
            if not allowed(self.zones, box):
                continue  # standing in an exclude zone or outside the include zones: as if not seen
            seen.add(track_id)
            sighting = _Sighting(box, frame, time, zones_of(self.zones, box))
            event = self._events.get(track_id)
            change = self._sighted(track_id, sighting) if event is None else self._followed(event, sighting)
            if change is not None:
                changes.append(change)
        for track_id in [track_id for track_id in self._candidates if track_id not in seen]:
            del self._candidates[track_id]  # not seen in consecutive frames: flicker, no event
        changes.extend(self.tick(time))
        return changes

    def tick(self, time: float) -> list[EventChange]:
        """End the events whose object was not seen for ``end_after`` seconds."""
        gone = [event for event in self._events.values() if time - event.last_seen >= self.end_after]
        return [self._end(event, END_LOST) for event in gone]

    def end_all(self, time: float, reason: str) -> list[EventChange]:
        """End every open event at ``time`` or its last sighting if earlier (the camera is gone, detection stops);
        forget unconfirmed tracks."""
        self._candidates.clear()
        return [self._end(event, reason, time) for event in list(self._events.values())]

    def _sighted(self, track_id: str, sighting: _Sighting) -> EventChange | None:
        candidate = self._candidates.setdefault(track_id, _Candidate())
        candidate.sightings.append(sighting)
        if len(candidate.sightings) < self.min_hits:
            return None
        del self._candidates[track_id]
        return self._start(track_id, candidate.sightings)

    def _start(self, track_id: str, sightings: list[_Sighting]) -> EventChange:
        first, latest = sightings[0], sightings[-1]
        best = first
        entered: list[str] = []
        for sighting in sightings:
            if _better(sighting.box, best.box):
                best = sighting
            entered.extend(zone for zone in sighting.zones if zone not in entered)
        event = TrackedEvent(
            event_id=uuid.uuid4().hex,
            camera=self.camera,
            tenant_id=self.tenant_id,
            label=latest.box.label,
            track_id=track_id,
            start=first.time,
            last_seen=latest.time,
            end=None,
            confidence=latest.box.confidence,
            top_confidence=max(sighting.box.confidence for sighting in sightings),
            box=latest.box,
            zones=list(latest.zones),
            entered_zones=entered,
            best_box=best.box,
            best_frame=best.frame,
            best_time=best.time,
        )
        self._events[track_id] = event
        self._published[track_id] = _Published(latest.time, list(event.zones), event.top_confidence, event.box)
        return EventChange("start", event.snapshot())

    def _followed(self, event: TrackedEvent, sighting: _Sighting) -> EventChange | None:
        box = sighting.box
        event.last_seen = sighting.time
        event.box = box
        event.confidence = box.confidence
        event.top_confidence = max(event.top_confidence, box.confidence)
        event.zones = list(sighting.zones)
        event.entered_zones.extend(zone for zone in sighting.zones if zone not in event.entered_zones)
        if _better(box, event.best_box):
            event.best_box, event.best_frame, event.best_time = box, sighting.frame, sighting.time
        published = self._published[event.track_id]
        if sighting.time - published.time < self.update_every:
            return None
        changed = (
            event.zones != published.zones
            or event.top_confidence >= published.top_confidence + CONFIDENCE_STEP
            or iou(box, published.box) < MOVED_IOU
        )
        if not changed:
            return None
        self._published[event.track_id] = _Published(sighting.time, list(event.zones), event.top_confidence, box)
        event.updates += 1
        return EventChange("update", event.snapshot())

    def _end(self, event: TrackedEvent, reason: str, time: float | None = None) -> EventChange:
        del self._events[event.track_id]
        del self._published[event.track_id]
        # The object was last there at its last sighting: that is the end, however late we notice.
        event.end = event.last_seen if time is None else min(time, event.last_seen)
        return EventChange("end", event.snapshot(), reason)
