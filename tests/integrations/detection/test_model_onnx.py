"""The ONNX Runtime backend on the real person model: people found where they are, in the source image's pixels."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from hub.testing.detection import ultralytics_asset
from integrations.detection.boxes import Box, iou
from integrations.detection.model import load_detector
from integrations.detection.onnx_backend import OnnxDetector, input_shape, letterbox


def _image(name: str) -> np.ndarray:
    image = cv2.imread(str(ultralytics_asset(name)))
    assert image is not None
    return image


@pytest.fixture(scope="module")
def detector_640(person_model_onnx: Path) -> OnnxDetector:
    detector = load_detector(person_model_onnx, imgsz=640)
    assert isinstance(detector, OnnxDetector)
    return detector


def test_info_reads_labels_from_the_export(person_model_onnx: Path) -> None:
    detector = load_detector(person_model_onnx, imgsz=320, backend="onnxruntime", threads=1)
    assert detector.info.backend == "onnxruntime"
    assert detector.info.device == "cpu"
    assert detector.info.imgsz == 320
    assert detector.info.labels == ("normal", "fall")
    assert detector.info.path == person_model_onnx.absolute()
    assert isinstance(detector, OnnxDetector) and detector.batch_capable


def test_finds_the_people_in_zidane_and_bus(detector_640: OnnxDetector) -> None:
    zidane, bus = _image("zidane.jpg"), _image("bus.jpg")
    found = detector_640.detect([zidane, bus], min_confidence=0.25)
    assert [len(boxes) for boxes in found] == [2, 4]
    for boxes, image in zip(found, (zidane, bus), strict=True):
        height, width = image.shape[:2]
        for box in boxes:
            assert box.label in ("normal", "fall")
            assert 0.25 <= box.confidence <= 1.0
            assert 0 <= box.x1 < box.x2 <= width and 0 <= box.y1 < box.y2 <= height
    # Zidane stands on the right half of his picture: the best box is there, and tall (a standing person).
    best = max(found[0], key=lambda box: box.confidence)
    assert best.center[0] > zidane.shape[1] / 2 and best.height > zidane.shape[0] / 2


def test_a_batch_gives_the_same_boxes_as_single_images(detector_640: OnnxDetector) -> None:
    bus = _image("bus.jpg")
    mirrored = cv2.flip(bus, 1)  # same size: the batch runs at the same input shape as each image alone
    together = detector_640.detect([bus, mirrored, bus], min_confidence=0.25)
    alone = [detector_640.detect([image], min_confidence=0.25)[0] for image in (bus, mirrored)]
    assert len(together) == 3
    for batched, single in zip(together, [alone[0], alone[1], alone[0]], strict=True):
        assert len(batched) == len(single) >= 3
        for a, b in zip(batched, single, strict=True):
            assert a.label == b.label
            assert a.confidence == pytest.approx(b.confidence, abs=1e-3)
            assert np.allclose(a.as_list(), b.as_list(), atol=1.0)


def test_rectangular_input_for_dynamic_exports() -> None:
    assert input_shape(720, 1280, 320) == (192, 320)  # 16:9 at 320: 180 rows, rounded up to 32
    assert input_shape(1080, 810, 640) == (640, 480)
    assert input_shape(640, 640, 640) == (640, 640)
    image = np.zeros((720, 1280, 3), dtype=np.uint8)
    padded, placement = letterbox(image, 320, (192, 320))
    assert padded.shape == (192, 320, 3) and (placement.left, placement.top) == (0, 6)
    assert placement.scale == pytest.approx(0.25)


def test_boxes_follow_the_image_when_it_is_scaled(detector_640: OnnxDetector) -> None:
    bus = _image("bus.jpg")
    half = cv2.resize(bus, (bus.shape[1] // 2, bus.shape[0] // 2), interpolation=cv2.INTER_AREA)
    full_boxes = sorted(detector_640.detect([bus], 0.5)[0], key=lambda box: box.x1)
    half_boxes = sorted(detector_640.detect([half], 0.5)[0], key=lambda box: box.x1)
    assert full_boxes and len(full_boxes) == len(half_boxes)
    for full, small in zip(full_boxes, half_boxes, strict=True):
        scaled = Box(small.x1 * 2, small.y1 * 2, small.x2 * 2, small.y2 * 2, small.label, small.confidence)
        assert iou(scaled, full) > 0.8


def test_min_confidence_filters(detector_640: OnnxDetector) -> None:
    bus = _image("bus.jpg")
    everything = detector_640.detect([bus], min_confidence=0.25)[0]
    confident = detector_640.detect([bus], min_confidence=0.6)[0]
    assert len(confident) < len(everything)
    assert all(box.confidence >= 0.6 for box in confident)


def test_an_empty_scene_has_nobody(detector_640: OnnxDetector) -> None:
    grey = np.full((720, 1280, 3), 128, dtype=np.uint8)
    assert detector_640.detect([grey], min_confidence=0.25) == [[]]
    assert detector_640.detect([], min_confidence=0.25) == []


def test_bad_images_are_refused_with_the_reason(detector_640: OnnxDetector) -> None:
    with pytest.raises(ValueError, match="BGR uint8"):
        detector_640.detect([np.zeros((10, 10), dtype=np.uint8)])
    with pytest.raises(ValueError, match="float32"):
        detector_640.detect([np.zeros((10, 10, 3), dtype=np.float32)])


def test_letterbox_keeps_the_aspect_and_centres() -> None:
    image = np.full((100, 200, 3), 255, dtype=np.uint8)
    padded, placement = letterbox(image, 320)
    assert padded.shape == (320, 320, 3)
    assert placement.scale == pytest.approx(1.6)
    assert (placement.left, placement.top) == (0, 80)
    assert padded[79, 160].tolist() == [114, 114, 114] and padded[80, 160].tolist() == [255, 255, 255]
    assert padded[240, 160].tolist() == [114, 114, 114]


def test_box_geometry() -> None:
    box = Box(10.04, 20.0, 30.0, 60.06, "person", 0.9)
    assert box.width == pytest.approx(19.96) and box.height == pytest.approx(40.06)
    assert box.center == pytest.approx((20.02, 40.03))
    assert box.bottom_center == pytest.approx((20.02, 60.06))
    assert box.as_list() == [10.0, 20.0, 30.0, 60.1]
