"""Box overlap and numpy non-maximum suppression: what the ONNX backend and the tracker rely on."""

from __future__ import annotations

import numpy as np
import pytest

from integrations.detection.boxes import Box, iou, nms, nms_indices


def _box(x1: float, y1: float, x2: float, y2: float, confidence: float = 0.9, label: str = "person") -> Box:
    return Box(x1, y1, x2, y2, label, confidence)


def test_iou() -> None:
    a = _box(0, 0, 10, 10)
    assert iou(a, a) == pytest.approx(1.0)
    assert iou(a, _box(5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert iou(a, _box(10, 0, 20, 10)) == 0.0  # touching edges
    assert iou(a, _box(30, 30, 40, 40)) == 0.0
    assert iou(_box(0, 0, 0, 0), _box(0, 0, 0, 0)) == 0.0


def test_nms_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = [_box(0, 0, 10, 10, 0.6), _box(1, 0, 11, 10, 0.9), _box(50, 50, 60, 60, 0.7)]
    assert nms(boxes, 0.5) == [boxes[1], boxes[2]]
    assert nms(boxes, 0.95) == [boxes[1], boxes[2], boxes[0]]  # overlap 0.82 is under the threshold
    assert nms([]) == []


def test_nms_by_label_unless_class_agnostic() -> None:
    person = _box(0, 0, 10, 10, 0.9, "person")
    fallen = _box(0, 0, 10, 10, 0.8, "fall")
    assert nms([person, fallen]) == [person, fallen]
    assert nms([person, fallen], class_agnostic=True) == [person]


def test_nms_indices_with_classes() -> None:
    corners = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]], dtype=np.float32)
    scores = np.array([0.5, 0.9, 0.7])
    assert nms_indices(corners, scores, 0.5).tolist() == [1]
    assert nms_indices(corners, scores, 0.5, np.array([0, 0, 1])).tolist() == [1, 2]
    assert nms_indices(np.empty((0, 4)), np.empty((0,)), 0.5).tolist() == []
