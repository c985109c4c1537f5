"""The motion gate on real decoded-size video frames: a still scene is quiet, a moving object is motion, the
first frame only primes, noise does not count, a scene-wide change is absorbed, a new frame size starts over."""

from __future__ import annotations

import time

import av
import numpy as np
import pytest

from hub.stream_frame import Frame
from integrations.detection.motion import MotionGate


def scene(seed: int = 7, noise: int = 0, box: tuple[int, int, int, int] | None = None, level: int = 0) -> av.VideoFrame:
    """A 1280x720 picture: a fixed gradient, optional sensor noise, optional bright rectangle (x, y, w, h)."""
    x = np.linspace(40, 200, 1280, dtype=np.float32)
    y = np.linspace(0, 30, 720, dtype=np.float32)[:, None]
    picture = np.repeat((x + y)[:, :, None], 3, axis=2)
    if noise:
        rng = np.random.default_rng(seed)
        picture += rng.integers(-noise, noise + 1, size=picture.shape).astype(np.float32)
    if box is not None:
        left, top, width, height = box
        picture[top : top + height, left : left + width] = 250.0
    picture += level
    array = np.clip(picture, 0, 255).astype(np.uint8)
    return av.VideoFrame.from_ndarray(array, format="bgr24").reformat(format="yuv420p")


def frame_of(image: av.VideoFrame, index: int = 0) -> Frame:
    return Frame(image, time.time(), index)


def test_the_first_frame_primes_and_a_still_scene_is_quiet() -> None:
    gate = MotionGate()
    assert gate.check(frame_of(scene())) == (False, 0.0)
    for index in range(1, 10):
        motion, score = gate.check(frame_of(scene(seed=index, noise=3), index))
        assert not motion and score < gate.min_area
    assert gate.frames == 10 and gate.motions == 0


def test_a_person_sized_object_moving_through_is_motion() -> None:
    gate = MotionGate()
    gate.check(frame_of(scene()))
    scores = []
    for step in range(6):
        motion, score = gate.check(frame_of(scene(box=(100 + 150 * step, 200, 120, 360)), step + 1))
        assert motion
        scores.append(score)
    # A 120x360 box is ~4.7 % of the picture (blurred a little wider); its old places fade out over ~15 frames.
    assert 0.04 < scores[0] < 0.08
    assert all(later > 0.04 for later in scores[1:])
    assert gate.motions == 6


def test_a_small_change_below_min_area_is_not_motion() -> None:
    gate = MotionGate(min_area=0.01)
    gate.check(frame_of(scene()))
    motion, score = gate.check(frame_of(scene(box=(600, 300, 40, 40))))  # 0.17 % of the picture
    assert not motion and 0.0 < score < 0.01


def test_an_object_that_stops_fades_into_the_background() -> None:
    gate = MotionGate()
    gate.check(frame_of(scene()))
    still = scene(box=(500, 200, 120, 360))
    results = [gate.check(frame_of(still, index))[0] for index in range(60)]
    assert results[0] and not results[-1]


def test_a_scene_wide_change_is_motion_once_then_the_new_background() -> None:
    gate = MotionGate()
    gate.check(frame_of(scene()))
    assert gate.check(frame_of(scene(level=60)))[0]  # the lights went on
    assert not gate.check(frame_of(scene(level=60)))[0]


def test_a_new_frame_size_primes_again() -> None:
    gate = MotionGate()
    gate.check(frame_of(scene()))
    small = av.VideoFrame.from_ndarray(np.full((240, 320, 3), 90, np.uint8), format="bgr24")
    assert gate.check(frame_of(small)) == (False, 0.0)
    assert not gate.check(frame_of(small))[0]
    gate.reset()
    assert gate.check(frame_of(scene())) == (False, 0.0)


def test_the_gate_works_on_small_grey_arrays_too() -> None:
    gate = MotionGate(threshold=0.05, min_area=0.05)
    background = np.full((90, 160), 100, np.uint8)
    gate.check_gray(background)
    moved = background.copy()
    moved[20:70, 40:100] = 200
    motion, score = gate.check_gray(moved)
    assert motion and score == pytest.approx(0.2, abs=0.05)


@pytest.mark.parametrize(("threshold", "min_area"), [(0.0, 0.01), (1.5, 0.01), (0.02, -0.1), (0.02, 2.0)])
def test_bad_settings_are_refused(threshold: float, min_area: float) -> None:
    with pytest.raises(ValueError, match="must be a fraction"):
        MotionGate(threshold=threshold, min_area=min_area)
