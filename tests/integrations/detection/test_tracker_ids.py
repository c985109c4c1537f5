"""The tracker keeps one id per object while it moves smoothly or is missed for a frame or two."""

from __future__ import annotations

import pytest

from integrations.detection.boxes import Box
from integrations.detection.tracker import ObjectTracker

FPS = 5.0
STEP = 1 / FPS


def walker(frame: int, *, x: float = 0, y: float = 300, speed: float = 30, label: str = "person") -> Box:
    """A 100x250 person moving ``speed`` pixels to the right per frame."""
    left = x + frame * speed
    return Box(left, y, left + 100, y + 250, label, 0.8)


def test_smoothly_moving_object_keeps_its_id() -> None:
    tracker = ObjectTracker(fps=FPS)

    ids = {tracker.update([walker(frame)], frame * STEP)[0][0] for frame in range(40)}

    assert len(ids) == 1


def test_fast_object_that_jumps_past_its_own_box_keeps_its_id() -> None:
    """80 px per frame for a 100 px wide box: little overlap between frames; the velocity prediction bridges it."""
    tracker = ObjectTracker(fps=FPS)

    ids = [tracker.update([walker(frame, speed=80)], frame * STEP)[0][0] for frame in range(12)]

    assert len(set(ids)) == 1


def test_missed_frames_within_lost_after_keep_the_id() -> None:
    tracker = ObjectTracker(fps=FPS, lost_after=2.0)
    ids: list[str] = []
    for frame in range(20):
        boxes = [] if frame in (5, 6, 12) else [walker(frame)]
        ids.extend(track_id for track_id, _ in tracker.update(boxes, frame * STEP))

    assert len(ids) == 17
    assert len(set(ids)) == 1


def test_object_lost_longer_than_lost_after_comes_back_as_a_new_track() -> None:
    tracker = ObjectTracker(fps=FPS, lost_after=1.0)
    (first, _), = tracker.update([walker(0)], 0.0)  # fmt: skip
    assert tracker.update([], 0.2) == []

    (second, _), = tracker.update([walker(0)], 1.5)  # fmt: skip

    assert second != first
    assert tracker.track_count == 1


def test_two_people_get_distinct_ids_that_stay_with_each_one() -> None:
    tracker = ObjectTracker(fps=FPS)
    left_ids, right_ids = set(), set()
    for frame in range(15):
        left, right = walker(frame, x=0, speed=20), walker(frame, x=900, speed=-20)
        # The detector lists them in any order.
        boxes = [right, left] if frame % 2 else [left, right]
        tracks = {box: track_id for track_id, box in tracker.update(boxes, frame * STEP)}
        left_ids.add(tracks[left])
        right_ids.add(tracks[right])

    assert len(left_ids) == 1
    assert len(right_ids) == 1
    assert left_ids != right_ids


def test_people_crossing_each_other_keep_their_ids() -> None:
    """Two people walk towards each other at different heights and pass; velocity keeps them apart."""
    tracker = ObjectTracker(fps=FPS)
    history: dict[str, list[float]] = {}
    for frame in range(25):
        left, right = walker(frame, x=0, y=200, speed=40), walker(frame, x=960, y=300, speed=-40)
        for track_id, box in tracker.update([left, right], frame * STEP):
            history.setdefault(track_id, []).append(box.x1)

    assert len(history) == 2
    directions = sorted(positions[-1] - positions[0] for positions in history.values())
    assert directions == [-960.0, 960.0]


def test_different_labels_never_share_a_track() -> None:
    tracker = ObjectTracker(fps=FPS)
    (person_id, _), = tracker.update([walker(0)], 0.0)  # fmt: skip

    (car_id, _), = tracker.update([walker(0, label="car")], STEP)  # fmt: skip

    assert car_id != person_id


def test_every_box_gets_an_id_in_input_order() -> None:
    tracker = ObjectTracker(fps=FPS)
    boxes = [walker(0, x=x) for x in (0, 300, 600, 900)]

    tracks = tracker.update(boxes, 0.0)

    assert [box for _, box in tracks] == boxes
    assert len({track_id for track_id, _ in tracks}) == 4
    assert tracker.update([], 0.1) == []
    tracker.reset()
    assert tracker.track_count == 0


def test_fps_must_be_positive() -> None:
    with pytest.raises(ValueError, match="fps must be positive"):
        ObjectTracker(fps=0)
