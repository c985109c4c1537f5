"""The shared detector pool with the real ONNX person model: dropping, batching across cameras, counters.

A gate around the real detector holds the model busy at a known moment, so what queues, what is dropped and
what goes to the model together is decided by the test, not by timing.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest

from hub.testing import wait_for
from hub.testing.detection import ultralytics_asset
from integrations.detection.boxes import Box
from integrations.detection.model import Detector, ModelError, ModelInfo, load_detector
from integrations.detection.pool import DetectorPool, DetectorPools


class GatedDetector:
    """The real detector, with a gate the test opens: records each batch's size."""

    def __init__(self, detector: Detector) -> None:
        self.info: ModelInfo = detector.info
        self._detector = detector
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.batches: list[int] = []
        self.closed = False

    def detect(self, images: Sequence[np.ndarray], min_confidence: float = 0.25) -> list[list[Box]]:
        self.batches.append(len(images))
        self.entered.set()
        assert self.gate.wait(30), "the test never opened the gate"
        return self._detector.detect(images, min_confidence)

    def close(self) -> None:
        self.closed = True
        self._detector.close()


@pytest.fixture(scope="module")
def onnx_detector(person_model_onnx: Path) -> Detector:
    return load_detector(person_model_onnx, imgsz=320, threads=2)


@pytest.fixture
def gated(onnx_detector: Detector) -> GatedDetector:
    return GatedDetector(onnx_detector)


@pytest.fixture
async def pool(gated: GatedDetector) -> AsyncIterator[DetectorPool]:
    pool = DetectorPool(gated, max_batch=4)
    yield pool
    gated.gate.set()
    await pool.close()


@pytest.fixture(scope="module")
def bus() -> np.ndarray:
    image = cv2.imread(str(ultralytics_asset("bus.jpg")))
    assert image is not None
    return image


async def _entered(gated: GatedDetector) -> None:
    await wait_for(gated.entered.is_set)
    gated.entered.clear()


async def test_a_newer_frame_replaces_the_waiting_one(
    pool: DetectorPool, gated: GatedDetector, bus: np.ndarray
) -> None:
    first = asyncio.create_task(pool.detect("camera.gate", bus, 0.5))
    await _entered(gated)  # the model is busy with the first frame
    assert pool.stats().busy
    second = asyncio.create_task(pool.detect("camera.gate", bus, 0.5))
    third = asyncio.create_task(pool.detect("camera.gate", bus, 0.5))
    assert await second is None  # replaced by the third before the model got to it
    gated.gate.set()
    first_boxes, third_boxes = await first, await third
    assert first_boxes and third_boxes and len(first_boxes) == len(third_boxes)
    assert all(box.confidence >= 0.5 and box.label in ("normal", "fall") for box in first_boxes)
    stats = pool.stats("camera.gate")
    assert (stats.frames_in, stats.frames_done, stats.frames_dropped) == (3, 2, 1)
    assert stats.batches == 2 and gated.batches == [1, 1]
    assert stats.inference_ms is not None and stats.inference_ms > 0
    assert stats.backend == "onnxruntime" and stats.device == "cpu" and not stats.busy


async def test_waiting_frames_of_several_cameras_go_in_one_batch(
    pool: DetectorPool, gated: GatedDetector, bus: np.ndarray
) -> None:
    first = asyncio.create_task(pool.detect("camera.a", bus, 0.25))
    await _entered(gated)
    others = [asyncio.create_task(pool.detect(f"camera.{name}", bus, 0.25)) for name in "bcdef"]
    gated.gate.set()
    results = await asyncio.gather(first, *others)
    assert gated.batches == [1, 4, 1]  # max_batch 4: b, c, d, e together, then f
    counts = [None if result is None else len(result) for result in results]
    assert counts[0] and counts == [counts[0]] * 6
    total = pool.stats()
    assert (total.frames_in, total.frames_done, total.frames_dropped, total.batches) == (6, 6, 0, 3)
    assert total.mean_batch == pytest.approx(2.0)
    assert pool.stats("camera.c").frames_done == 1 and pool.stats("camera.unknown").frames_in == 0


async def test_each_camera_gets_its_own_minimum_confidence(
    pool: DetectorPool, gated: GatedDetector, bus: np.ndarray
) -> None:
    gated.gate.set()
    blocker = asyncio.create_task(pool.detect("camera.x", bus, 0.9))
    low = asyncio.create_task(pool.detect("camera.low", bus, 0.25))
    high = asyncio.create_task(pool.detect("camera.high", bus, 0.6))
    low_boxes, high_boxes = await low, await high
    await blocker
    assert low_boxes is not None and high_boxes is not None
    assert all(box.confidence >= 0.6 for box in high_boxes)
    assert len(high_boxes) < len(low_boxes)


async def test_inference_runs_off_the_event_loop(pool: DetectorPool, gated: GatedDetector, bus: np.ndarray) -> None:
    detecting = asyncio.create_task(pool.detect("camera.gate", bus, 0.5))
    await _entered(gated)
    ticks = 0
    for _ in range(5):  # the loop keeps running while the model is blocked in its thread
        await asyncio.sleep(0.001)
        ticks += 1
    assert ticks == 5 and not detecting.done()
    gated.gate.set()
    assert await detecting


async def test_a_cancelled_waiting_frame_is_not_run(pool: DetectorPool, gated: GatedDetector, bus: np.ndarray) -> None:
    first = asyncio.create_task(pool.detect("camera.a", bus, 0.5))
    await _entered(gated)
    waiting = asyncio.create_task(pool.detect("camera.b", bus, 0.5))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    gated.gate.set()
    await first
    assert gated.batches == [1]
    assert pool.stats("camera.b").frames_done == 0


async def test_a_bad_frame_fails_alone_and_the_pool_goes_on(
    pool: DetectorPool, gated: GatedDetector, bus: np.ndarray
) -> None:
    gated.gate.set()
    with pytest.raises(ValueError, match="BGR uint8"):
        await pool.detect("camera.a", np.zeros((4, 4), dtype=np.uint8), 0.5)
    assert await pool.detect("camera.a", bus, 0.5)


async def test_close_answers_waiting_frames_and_frees_the_model(gated: GatedDetector, bus: np.ndarray) -> None:
    pool = DetectorPool(gated, max_batch=2)
    first = asyncio.create_task(pool.detect("camera.a", bus, 0.5))
    await _entered(gated)
    waiting = asyncio.create_task(pool.detect("camera.b", bus, 0.5))
    await asyncio.sleep(0)
    closing = asyncio.create_task(pool.close())
    assert await waiting is None
    gated.gate.set()
    await closing
    assert await first  # the batch that was running finishes
    assert gated.closed
    with pytest.raises(RuntimeError, match="closed"):
        await pool.detect("camera.a", bus, 0.5)


async def test_pools_share_one_model_per_file_and_size(person_model_onnx: Path, bus: np.ndarray) -> None:
    pools = DetectorPools(max_batch=2, threads=1)
    gate = await pools.acquire(person_model_onnx, imgsz=320)
    door = await pools.acquire(str(person_model_onnx), imgsz=320, backend="auto")
    big = await pools.acquire(person_model_onnx, imgsz=640)
    assert gate is door and big is not gate
    assert big.info.imgsz == 640 and gate.info.imgsz == 320
    assert len(pools.pools()) == 2
    assert await gate.detect("camera.gate", bus, 0.5)
    await pools.release(gate)
    assert await door.detect("camera.door", bus, 0.5)  # still one user left
    await pools.release(door)
    with pytest.raises(RuntimeError, match="closed"):
        await door.detect("camera.door", bus, 0.5)
    with pytest.raises(ModelError, match="file not found"):
        await pools.acquire(person_model_onnx.with_name("missing.onnx"), imgsz=320)
    await pools.close()
    assert pools.pools() == []
    with pytest.raises(RuntimeError, match="closed"):
        await big.detect("camera.x", bus, 0.5)
