"""Follow objects across frames, so one person walking past is one track id from the first frame to the last.

An IoU tracker in the manner of ByteTrack's association step, without its Kalman filter and without importing
ultralytics: ``ultralytics.trackers`` pulls torch into the hub process (about 2.5 s and 230 MB) even when the
model runs in ONNX Runtime, which would defeat the point of cheap idle cameras. Each track predicts where its
box is now from its recent velocity; boxes are assigned to tracks by Jonker-Volgenant (``lap.lapjv``) on
``1 - IoU``, then the leftovers by centre distance (a fast object at a low detection fps can jump past its own
box). A track survives ``lost_after`` seconds without a match, so a missed frame or two keeps its id.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import lap
import numpy as np

from integrations.detection.boxes import Box

__all__ = ["ObjectTracker"]

#: A box and a predicted track box must overlap at least this much to be matched in the first pass.
MATCH_IOU = 0.2
#: Second pass: centre distance, in units of the track box's diagonal, beyond which a box is a new object.
MATCH_DISTANCE = 0.75
#: Weight of the newest displacement in the velocity estimate (exponential smoothing).
VELOCITY_SMOOTHING = 0.6

#: Track ids are unique in the process, so a camera's reconnection never reuses an id of a still-open event.
_track_ids = itertools.count(1)


@dataclass(slots=True)
class _Track:
    track_id: str
    box: Box
    last_time: float
    velocity: tuple[float, float] = (0.0, 0.0)

    def predicted(self, time: float, horizon: float) -> tuple[float, float, float, float]:
        """The box moved along its velocity to ``time`` (at most ``horizon`` seconds ahead)."""
        elapsed = min(max(time - self.last_time, 0.0), horizon)
        dx, dy = self.velocity[0] * elapsed, self.velocity[1] * elapsed
        box = self.box
        return (box.x1 + dx, box.y1 + dy, box.x2 + dx, box.y2 + dy)


class ObjectTracker:
    """The tracks of one camera. ``update`` once per detected frame, with that frame's boxes and time."""

    def __init__(self, *, fps: float, lost_after: float = 2.0) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.fps = fps
        self.lost_after = lost_after
        self._tracks: list[_Track] = []

    @property
    def track_count(self) -> int:
        """Tracks alive now (seen within ``lost_after``)."""
        return len(self._tracks)

    def reset(self) -> None:
        """Forget every track (the stream restarted: positions from before mean nothing)."""
        self._tracks.clear()

    def update(self, boxes: Sequence[Box], time: float) -> list[tuple[str, Box]]:
        """Assign each box a track id (existing or new), in the order of ``boxes``; drop tracks lost too long."""
        self._tracks = [track for track in self._tracks if time - track.last_time <= self.lost_after]
        assigned: list[str | None] = [None] * len(boxes)
        free_tracks = list(range(len(self._tracks)))
        free_boxes = list(range(len(boxes)))
        if self._tracks and boxes:
            predicted = np.array([track.predicted(time, self.lost_after) for track in self._tracks], dtype=np.float64)
            corners = np.array([[box.x1, box.y1, box.x2, box.y2] for box in boxes], dtype=np.float64)
            same_label = np.array(
                [[track.box.label == box.label for box in boxes] for track in self._tracks], dtype=bool
            )
            overlap = _iou_matrix(predicted, corners)
            cost = np.where(same_label & (overlap >= MATCH_IOU), 1.0 - overlap, np.inf)
            free_tracks, free_boxes = self._assign(cost, free_tracks, free_boxes, boxes, assigned, time)
            if free_tracks and free_boxes:
                distance = _centre_distance(predicted, corners)
                cost = np.where(same_label & (distance <= MATCH_DISTANCE), distance, np.inf)
                free_tracks, free_boxes = self._assign(cost, free_tracks, free_boxes, boxes, assigned, time)
        for index in free_boxes:
            track = _Track(str(next(_track_ids)), boxes[index], time)
            self._tracks.append(track)
            assigned[index] = track.track_id
        return [(track_id, box) for track_id, box in zip(assigned, boxes, strict=True) if track_id is not None]

    def _assign(
        self,
        cost: np.ndarray,
        free_tracks: list[int],
        free_boxes: list[int],
        boxes: Sequence[Box],
        assigned: list[str | None],
        time: float,
    ) -> tuple[list[int], list[int]]:
        """Match the free tracks to the free boxes at least total cost; returns what is still free."""
        sub = cost[np.ix_(free_tracks, free_boxes)]
        finite = np.isfinite(sub)
        if not finite.any():
            return free_tracks, free_boxes
        limit = float(sub[finite].max()) + 1.0
        square = np.where(finite, sub, limit * 2)
        _, rows, _ = lap.lapjv(square, extend_cost=True, cost_limit=limit)
        matched_tracks: set[int] = set()
        matched_boxes: set[int] = set()
        for row, column in enumerate(rows):
            if column < 0 or not finite[row, column]:
                continue
            track_index, box_index = free_tracks[row], free_boxes[int(column)]
            self._follow(self._tracks[track_index], boxes[box_index], time)
            assigned[box_index] = self._tracks[track_index].track_id
            matched_tracks.add(track_index)
            matched_boxes.add(box_index)
        return (
            [index for index in free_tracks if index not in matched_tracks],
            [index for index in free_boxes if index not in matched_boxes],
        )

    def _follow(self, track: _Track, box: Box, time: float) -> None:
        elapsed = time - track.last_time
        if elapsed <= 0:
            elapsed = 1.0 / self.fps
        (old_x, old_y), (new_x, new_y) = track.box.center, box.center
        measured = ((new_x - old_x) / elapsed, (new_y - old_y) / elapsed)
        vx, vy = track.velocity
        track.velocity = (
            VELOCITY_SMOOTHING * measured[0] + (1 - VELOCITY_SMOOTHING) * vx,
            VELOCITY_SMOOTHING * measured[1] + (1 - VELOCITY_SMOOTHING) * vy,
        )
        track.box = box
        track.last_time = time


def _iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every row of ``a`` ([N, 4] corners) with every row of ``b`` ([M, 4]): [N, M]."""
    width = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    height = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    intersection = width * height
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a[:, None] + area_b[None, :] - intersection
    return np.divide(intersection, union, out=np.zeros_like(intersection), where=union > 0)


def _centre_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance between box centres, in units of the diagonal of each ``a`` box: [N, M]."""
    centre_a = (a[:, :2] + a[:, 2:]) / 2
    centre_b = (b[:, :2] + b[:, 2:]) / 2
    diagonal = np.hypot(a[:, 2] - a[:, 0], a[:, 3] - a[:, 1])
    distance = np.hypot(*(centre_a[:, None, :] - centre_b[None, :, :]).transpose(2, 0, 1))
    return distance / np.maximum(diagonal, math.ulp(1.0))[:, None]
