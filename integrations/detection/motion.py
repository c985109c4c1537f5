"""The motion gate: decide cheaply whether a frame is worth running the detector on.

A camera that watches an empty corridor should cost almost nothing. The gate scales each frame down to a small
grey picture inside FFmpeg (swscale's area filter averages 8x8 blocks of a 720p frame, which is already a blur,
and never builds a full-size array), smooths it once more, and compares it with a running background: the share
of pixels whose grey level moved by more than ``threshold`` is the frame's motion score, and there is motion when
that share reaches ``min_area``. The first frame (and a frame of another size, after a reconnection) only primes
the background. A change over most of the picture (lights switched on, the camera's day/night switch) counts as
motion once and becomes the new background at once, instead of reporting motion for seconds while it fades in.
About 0.2 ms per 720p frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import av

    from hub.stream_frame import Frame

__all__ = ["GATE_WIDTH", "MotionGate"]

#: Width in pixels of the grey picture the gate compares (height keeps the aspect ratio).
GATE_WIDTH = 160
#: Weight of the new frame in the running background: a change fades into it in about 1 / ALPHA frames.
BACKGROUND_ALPHA = 0.2
#: Share of changed pixels beyond which the whole scene changed (lighting): the background restarts from it.
SCENE_CHANGE = 0.7


class MotionGate:
    """One camera's gate. ``threshold``: grey-level change that counts (fraction of 255); ``min_area``: fraction
    of the picture that must change for motion."""

    __slots__ = ("_background", "_size", "frames", "min_area", "motions", "score", "threshold", "width")

    def __init__(self, *, threshold: float = 0.02, min_area: float = 0.002, width: int = GATE_WIDTH) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be a fraction in (0, 1]")
        if not 0.0 <= min_area <= 1.0:
            raise ValueError("min_area must be a fraction in [0, 1]")
        self.threshold = threshold
        self.min_area = min_area
        self.width = width
        self.score = 0.0  # the last frame's share of changed pixels
        self.frames = 0
        self.motions = 0
        self._background: np.ndarray[Any, Any] | None = None
        self._size: tuple[int, int] | None = None

    def reset(self) -> None:
        """Forget the background (the stream reconnected): the next frame primes it again."""
        self._background = None
        self._size = None

    def check(self, frame: Frame) -> tuple[bool, float]:
        """Motion on this stream frame? Returns (motion, score)."""
        return self.check_image(frame.image)

    def check_image(self, image: av.VideoFrame) -> tuple[bool, float]:
        height = max(2, round(image.height * self.width / max(1, image.width)))
        small = image.reformat(width=self.width, height=height, format="gray", interpolation="AREA")
        return self.check_gray(small.to_ndarray())

    def check_gray(self, gray: np.ndarray[Any, Any]) -> tuple[bool, float]:
        """The gate on a small grey picture (uint8 or float, one channel)."""
        self.frames += 1
        current = _smooth(gray.astype(np.float32, copy=False))
        background = self._background
        if background is None or self._size != current.shape:
            self._background = current
            self._size = current.shape
            self.score = 0.0
            return False, 0.0
        changed = np.abs(current - background) > self.threshold * 255.0
        score = float(np.count_nonzero(changed)) / changed.size
        if score >= SCENE_CHANGE:
            self._background = current
        else:
            background *= 1.0 - BACKGROUND_ALPHA
            background += BACKGROUND_ALPHA * current
        self.score = score
        motion = score >= self.min_area and score > 0.0
        if motion:
            self.motions += 1
        return motion, score


def _smooth(gray: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """A 3x3 binomial blur (1-2-1 each way): sensor noise and compression blocks stop counting as motion."""
    padded = np.pad(gray, 1, mode="edge")
    rows = padded[:-2, :] + 2.0 * padded[1:-1, :] + padded[2:, :]
    return (rows[:, :-2] + 2.0 * rows[:, 1:-1] + rows[:, 2:]) * (1.0 / 16.0)
