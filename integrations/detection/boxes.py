"""Detected boxes: the one shape every detection part exchanges (model output, zones, tracker, events, media).

Coordinates are pixels of the frame given to the detector, so zones drawn on the camera image apply directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Box", "iou", "nms", "nms_indices"]


@dataclass(frozen=True, slots=True)
class Box:
    """One detected object: corners in frame pixels, the model's lower-cased class name, a 0..1 confidence."""

    x1: float
    y1: float
    x2: float
    y2: float
    label: str
    confidence: float

    @property
    def width(self) -> float:
        return max(0.0, self.x2 - self.x1)

    @property
    def height(self) -> float:
        return max(0.0, self.y2 - self.y1)

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2)

    @property
    def bottom_center(self) -> tuple[float, float]:
        """Where the object stands: the point zones test (a person's feet, a car's wheels)."""
        return ((self.x1 + self.x2) / 2, self.y2)

    def as_list(self) -> list[float]:
        """``[x1, y1, x2, y2]`` rounded to 0.1 px, for events and JSON."""
        return [round(self.x1, 1), round(self.y1, 1), round(self.x2, 1), round(self.y2, 1)]


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 when they do not touch or both are empty)."""
    width = min(a.x2, b.x2) - max(a.x1, b.x1)
    height = min(a.y2, b.y2) - max(a.y1, b.y1)
    if width <= 0 or height <= 0:
        return 0.0
    intersection = width * height
    union = a.area + b.area - intersection
    return intersection / union if union > 0 else 0.0


def nms_indices(
    corners: np.ndarray, scores: np.ndarray, iou_threshold: float, classes: np.ndarray | None = None
) -> np.ndarray:
    """Greedy non-maximum suppression in numpy: indices of the boxes kept, best score first.

    ``corners`` is ``[N, 4]`` (x1, y1, x2, y2); with ``classes`` (``[N]``) only boxes of the same class suppress
    each other (done by shifting each class to its own far-apart region, as ultralytics does).
    """
    if len(corners) == 0:
        return np.empty((0,), dtype=np.int64)
    boxes = corners.astype(np.float64, copy=True)
    if classes is not None:
        offset = classes.astype(np.float64)[:, None] * (float(np.abs(boxes).max()) + 1.0) * 2.0
        boxes += offset
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        width = np.clip(np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]), 0, None)
        height = np.clip(np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]), 0, None)
        intersection = width * height
        union = areas[best] + areas[rest] - intersection
        overlap = np.divide(intersection, union, out=np.zeros_like(intersection), where=union > 0)
        order = rest[overlap <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def nms(boxes: Sequence[Box], iou_threshold: float = 0.5, *, class_agnostic: bool = False) -> list[Box]:
    """The boxes that survive non-maximum suppression, best first; by label unless ``class_agnostic``."""
    if not boxes:
        return []
    corners = np.array([[box.x1, box.y1, box.x2, box.y2] for box in boxes], dtype=np.float64)
    scores = np.array([box.confidence for box in boxes], dtype=np.float64)
    classes = None
    if not class_agnostic:
        names = sorted({box.label for box in boxes})
        classes = np.array([names.index(box.label) for box in boxes], dtype=np.int64)
    return [boxes[int(index)] for index in nms_indices(corners, scores, iou_threshold, classes)]
