"""Detection events from tracks: one event per object with start, throttled updates and end, Frigate-style."""

from __future__ import annotations

from collections.abc import Sequence

import av
import numpy as np
import pytest

from hub.detection import DetectionEventData
from hub.stream_frame import Frame
from integrations.detection.boxes import Box
from integrations.detection.event import EventChange, iso_time
from integrations.detection.lifecycle import EventLifecycle
from integrations.detection.tracker import ObjectTracker
from integrations.detection.zones import Zone, parse_zones

FPS = 5.0
STEP = 1 / FPS
T0 = 1_763_000_000.0  # epoch seconds of the first frame
DRIVE = {"name": "drive", "polygon": [[0, 300], [640, 300], [640, 720], [0, 720]]}
DOOR = {"name": "door", "polygon": [[640, 300], [1280, 300], [1280, 720], [640, 720]]}
STREET = {"name": "street", "polygon": [[0, 0], [1280, 0], [1280, 300], [0, 300]], "kind": "exclude"}
_PICTURE = np.zeros((72, 128, 3), dtype=np.uint8)


def make_frame(index: int) -> Frame:
    return Frame(av.VideoFrame.from_ndarray(_PICTURE, format="bgr24"), T0 + index * STEP, index)


def person(x: float, confidence: float = 0.8, *, y: float = 400, size: float = 100) -> Box:
    """A person ``size`` wide whose box starts at ``x``, 2.5 times as tall, feet no lower than y=700."""
    return Box(x, y, x + size, min(y + 2.5 * size, 700), "person", confidence)


class Camera:
    """The pipeline's tail in miniature: tracker then lifecycle, one call per frame, with frame times."""

    def __init__(self, zones: Sequence[Zone] = (), *, end_after: float = 2.0, min_hits: int = 2) -> None:
        self.tracker = ObjectTracker(fps=FPS)
        self.lifecycle = EventLifecycle("camera.gate", "tenant-1", zones, end_after=end_after, min_hits=min_hits)
        self.changes: list[EventChange] = []
        self.frames: dict[int, Frame] = {}

    def detected(self, index: int, boxes: Sequence[Box]) -> list[EventChange]:
        frame = self.frames[index] = make_frame(index)
        tracks = self.tracker.update(boxes, frame.time)
        changes = self.lifecycle.observe(tracks, frame, frame.time)
        self.changes.extend(changes)
        return changes

    def idle(self, index: int) -> list[EventChange]:
        """A frame where motion gating skipped detection."""
        changes = self.lifecycle.tick(T0 + index * STEP)
        self.changes.extend(changes)
        return changes

    def types(self) -> list[str]:
        return [change.type for change in self.changes]


def test_person_walking_across_two_zones_is_one_event_with_start_updates_and_end() -> None:
    camera = Camera(parse_zones([DRIVE, DOOR, STREET]))
    confidences = [0.55, 0.6, 0.7, 0.92, 0.8] + [0.75] * 25
    for index, confidence in enumerate(confidences):  # 6 s from x=0 to x=1160
        camera.detected(index, [person(index * 40, confidence)])
    last_index = len(confidences) - 1
    for index in range(last_index + 1, last_index + 16):  # the scene goes still: no detection, ticks only
        camera.idle(index)

    types = camera.types()
    assert types[0] == "start"
    assert types[-1] == "end"
    assert set(types[1:-1]) == {"update"}
    assert len({change.event.event_id for change in camera.changes}) == 1
    start, updates, end = camera.changes[0], camera.changes[1:-1], camera.changes[-1]
    event = end.event

    # Start after the second consecutive sighting, dated from the first.
    assert event.start == T0
    assert start.event.track_id == event.track_id
    # Updates: throttled to one a second, and the walk keeps changing something.
    assert 3 <= len(updates) <= 6
    assert event.updates == len(updates)
    # End: 2 s after the last sighting, dated at the last sighting, because it was lost.
    assert end.reason == "lost"
    assert event.end == event.last_seen == T0 + last_index * STEP
    assert event.duration == pytest.approx(last_index * STEP)
    assert camera.changes.index(end) == len(camera.changes) - 1
    # Zones: both, in the order walked; now only the door.
    assert event.entered_zones == ["drive", "door"]
    assert event.zones == ["door"]
    # Best sighting: the most confident one, with its frame for the snapshot.
    assert event.top_confidence == 0.92
    assert event.best_box == person(3 * 40, 0.92)
    assert event.best_frame is camera.frames[3]
    assert event.best_time == T0 + 3 * STEP
    assert camera.lifecycle.active == []


def test_event_data_is_the_detection_event_shape_plus_our_keys() -> None:
    camera = Camera(parse_zones([DRIVE, DOOR]))
    camera.detected(0, [person(100, 0.6)])
    (start,) = camera.detected(1, [person(110, 0.9)])
    camera.detected(2, [person(120, 0.7)])
    (end,) = camera.idle(20)

    started = start.event.event_data("start")
    ended = end.event.event_data("end")

    assert set(DetectionEventData.__annotations__) <= set(started)
    assert started["confidence"] == 0.9  # the latest sighting at the start: a change keeps its moment
    assert ended == {
        "camera": "camera.gate",
        "label": "person",
        "confidence": 0.9,  # the top confidence, at the end
        "zones": ["drive"],
        "type": "end",
        "track_id": end.event.track_id,
        "event_id": end.event.event_id,
        "box": [120.0, 400.0, 220.0, 650.0],
        "top_confidence": 0.9,
        "entered_zones": ["drive"],
        "start": iso_time(T0),
        "end": iso_time(T0 + 2 * STEP),
        "duration": 0.4,
    }
    assert iso_time(T0) == "2025-11-13T02:13:20+00:00"
    assert end.event.tenant_id == "tenant-1"


def test_one_frame_flicker_makes_no_event() -> None:
    camera = Camera()
    camera.detected(0, [person(100)])
    for index in range(1, 6):
        camera.detected(index, [])
    # Seen every other frame: never two frames running either.
    for index in range(6, 20):
        camera.detected(index, [person(500)] if index % 2 else [])
    for index in range(20, 40):
        camera.idle(index)

    assert camera.changes == []


def test_two_people_are_two_events_with_distinct_track_ids() -> None:
    camera = Camera()
    for index in range(10):
        camera.detected(index, [person(100 + index * 20), person(900 - index * 20, 0.7)])
    for index in range(10, 30):
        camera.idle(index)

    starts = [change.event for change in camera.changes if change.type == "start"]
    ends = [change.event for change in camera.changes if change.type == "end"]
    assert len(starts) == len(ends) == 2
    assert len({event.track_id for event in starts}) == 2
    assert len({event.event_id for event in starts}) == 2
    assert {event.event_id for event in starts} == {event.event_id for event in ends}


def test_exclude_zone_suppresses_events_until_the_object_leaves_it() -> None:
    # The street is the top of the picture: a person whose feet are above y=300 stands in it.
    camera = Camera(parse_zones([STREET]))
    for index in range(10):
        camera.detected(index, [person(100 + index * 10, y=0)])
    assert camera.changes == []

    for index in range(10, 14):  # they step into the yard
        camera.detected(index, [person(200, y=400)])
    (start,) = [change for change in camera.changes if change.type == "start"]
    assert start.event.start == T0 + 10 * STEP
    assert start.event.zones == []


def test_object_that_leaves_the_include_zones_ends_like_a_lost_one() -> None:
    camera = Camera(parse_zones([DRIVE]))
    for index in range(5):
        camera.detected(index, [person(100 + index * 20)])
    # Still detected, but now standing outside the only include zone (x > 640).
    for index in range(5, 25):
        camera.detected(index, [person(800 + index * 5)])

    assert camera.types() == ["start", "end"]
    end = camera.changes[-1]
    assert end.reason == "lost"
    assert end.event.end == T0 + 4 * STEP
    # It ended once its 2 s outside were up, on the first detected frame after that.
    assert camera.lifecycle.active == []


def test_still_object_gets_no_updates_until_it_changes() -> None:
    camera = Camera()
    for index in range(30):  # 6 s standing still at the same confidence
        camera.detected(index, [person(300)])
    assert camera.types() == ["start"]

    camera.detected(30, [person(300, 0.95)])  # more confident: a change
    camera.detected(31, [person(300, 0.95)])
    assert camera.types() == ["start", "update"]
    assert camera.changes[-1].event.top_confidence == 0.95

    camera.detected(32, [person(340, 0.95)])  # moved, but within a second of the last update
    camera.detected(36, [person(380, 0.95)])  # a second later, moved again
    assert camera.types() == ["start", "update", "update"]


def test_camera_gone_ends_every_open_event() -> None:
    camera = Camera()
    for index in range(5):
        camera.detected(index, [person(100), person(700)])
    camera.detected(5, [person(100), person(700), person(1100)])  # a third, not yet confirmed

    ended = camera.lifecycle.end_all(T0 + 5.5 * STEP, "camera_gone")

    assert [change.type for change in ended] == ["end", "end"]
    assert {change.reason for change in ended} == {"camera_gone"}
    assert all(change.event.end == T0 + 5 * STEP for change in ended)
    assert camera.lifecycle.active == []
    # The unconfirmed third person does not start an event from before the camera went away.
    camera.detected(6, [person(1100)])
    assert camera.lifecycle.active == []


def test_event_survives_a_missed_frame_and_ends_only_after_end_after() -> None:
    camera = Camera(end_after=1.0)
    for index in range(5):
        camera.detected(index, [person(100)])
    camera.detected(5, [])
    camera.detected(6, [])  # 0.4 s unseen: still on
    camera.detected(7, [person(100)])
    assert camera.types() == ["start"]

    camera.idle(11)  # 0.8 s since the last sighting
    assert camera.types() == ["start"]
    camera.idle(12)  # 1.0 s
    assert camera.types() == ["start", "end"]
    assert camera.changes[-1].event.end == T0 + 7 * STEP


def test_min_hits_one_starts_on_the_first_sighting() -> None:
    camera = Camera(min_hits=1)

    (start,) = camera.detected(0, [person(100, 0.6)])

    assert start.type == "start"
    assert start.event.best_frame is camera.frames[0]
    assert start.event.event_data("start")["end"] is None
