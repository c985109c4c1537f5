"""The real model on the people video, through tracker and lifecycle: one event per person per scene."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from hub.stream_frame import Frame
from hub.testing.detection import PEOPLE_VIDEO_FPS, PEOPLE_VIDEO_SCENES, Scene
from integrations.detection.boxes import Box, nms
from integrations.detection.event import EventChange
from integrations.detection.lifecycle import EventLifecycle
from integrations.detection.model import Detector, load_detector
from integrations.detection.tracker import ObjectTracker

T0 = 1_763_000_000.0
DETECTION_FPS = 5  # every other frame of the 10 fps video, as a camera configured with fps: 5
MIN_CONFIDENCE = 0.25
LABEL_MAP = {"normal": "person", "fall": "person"}
END_AFTER = 1.0


@pytest.fixture(scope="module")
def detector(person_model_onnx: Path) -> Iterator[Detector]:
    detector = load_detector(person_model_onnx, imgsz=320)
    yield detector
    detector.close()


def people(detector: Detector, frame: Frame) -> list[Box]:
    """What the pipeline does before tracking: detect, map labels to ``person``, class-agnostic NMS."""
    boxes = detector.detect([frame.ndarray()], MIN_CONFIDENCE)[0]
    mapped = [Box(box.x1, box.y1, box.x2, box.y2, LABEL_MAP.get(box.label, box.label), box.confidence) for box in boxes]
    return nms(mapped, 0.5, class_agnostic=True)


def frames(video: Path) -> Iterator[Frame]:
    with av.open(str(video)) as container:
        for index, picture in enumerate(container.decode(video=0)):
            yield Frame(picture, T0 + index / PEOPLE_VIDEO_FPS, index)


def scene_at(seconds: float) -> Scene:
    return next(scene for scene in PEOPLE_VIDEO_SCENES if scene.start <= seconds < scene.end)


def test_each_person_of_each_scene_is_one_event(detector: Detector, people_video: Path) -> None:
    tracker = ObjectTracker(fps=DETECTION_FPS, lost_after=END_AFTER)
    lifecycle = EventLifecycle("camera.people", None, [], end_after=END_AFTER)
    changes: list[EventChange] = []
    stills: dict[Scene, Frame] = {}
    step = PEOPLE_VIDEO_FPS // DETECTION_FPS
    for frame in frames(people_video):
        scene = scene_at(frame.time - T0)
        if scene.people and frame.time - T0 >= (scene.start + scene.end) / 2:
            stills.setdefault(scene, frame)
        if frame.index % step:
            changes.extend(lifecycle.tick(frame.time))
        else:
            changes.extend(lifecycle.observe(tracker.update(people(detector, frame), frame.time), frame, frame.time))
    changes.extend(lifecycle.end_all(frame.time, "stopped"))

    # What the model finds on one still frame of each scene is what the events must add up to.
    found = {scene: len(people(detector, still)) for scene, still in stills.items()}
    assert [scene.image for scene in found] == ["zidane.jpg", "bus.jpg"]
    for scene, count in found.items():
        assert scene.people - 1 <= count <= scene.people, f"the model found {count} people in {scene.image}"

    starts = [change.event for change in changes if change.type == "start"]
    ends = {change.event.event_id: change for change in changes if change.type == "end"}
    assert sorted(ends) == sorted(event.event_id for event in starts)
    assert len({event.track_id for event in starts}) == len(starts)
    for scene, count in found.items():
        events = [ends[event.event_id].event for event in starts if scene.start <= event.start - T0 < scene.end]
        assert len(events) == count, f"{scene.image}: {len(events)} events for {count} people"
        for event in events:
            # From the scene's first detected frames to its last, ended as lost once the picture changed.
            assert event.start - T0 == pytest.approx(scene.start, abs=0.25)
            assert event.end is not None
            assert event.end - T0 == pytest.approx(scene.end - 1 / DETECTION_FPS, abs=0.25)
            assert ends[event.event_id].reason == "lost"
            assert event.label == "person"
            assert event.best_frame is not None
            assert scene.start <= event.best_time - T0 < scene.end
    assert len(starts) == sum(found.values())
