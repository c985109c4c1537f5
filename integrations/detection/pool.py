"""The detector pool: one loaded model shared by every camera that uses it, run off the event loop.

Cameras produce frames faster than a CPU detects on busy days, so nothing queues without bound: each source
(camera) has at most one frame waiting; a newer frame replaces it and the older one is answered ``None`` and
counted as dropped. When the model is free, the waiting frames of up to ``max_batch`` sources go to it together
(one ONNX Runtime run with a dynamic-batch export, one ultralytics predict), which costs less per frame than
running them one by one. The model runs in a worker thread (ONNX Runtime releases the GIL; the ultralytics
backend's thread only waits on its worker process).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .boxes import Box
from .model import Detector, ModelError, ModelInfo, load_detector

__all__ = ["DEFAULT_MAX_BATCH", "DetectorPool", "DetectorPools", "PoolStats"]

_LOGGER = logging.getLogger(__name__)

DEFAULT_MAX_BATCH = 4
_TIMING_WINDOW = 50  # batches the inference time is averaged over


@dataclass(frozen=True, slots=True)
class PoolStats:
    """Counters of a pool (or of one source in it: frames_*); ``inference_ms`` is per frame, pool-wide."""

    backend: str
    device: str
    inference_ms: float | None  # mean of the last 50 batches, per frame; None before the first one
    batches: int
    frames_in: int
    frames_done: int
    frames_dropped: int
    busy: bool
    mean_batch: float | None = None  # frames per batch over the same window

    def as_dict(self) -> dict[str, object]:
        return {
            "backend": self.backend,
            "device": self.device,
            "inference_ms": None if self.inference_ms is None else round(self.inference_ms, 2),
            "batches": self.batches,
            "frames_in": self.frames_in,
            "frames_done": self.frames_done,
            "frames_dropped": self.frames_dropped,
            "busy": self.busy,
            "mean_batch": None if self.mean_batch is None else round(self.mean_batch, 2),
        }


@dataclass(slots=True)
class _Counters:
    frames_in: int = 0
    frames_done: int = 0
    frames_dropped: int = 0


@dataclass(slots=True)
class _Waiting:
    image: np.ndarray
    min_confidence: float
    future: asyncio.Future[list[Box] | None]


@dataclass(slots=True)
class _Timings:
    window: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=_TIMING_WINDOW))

    def add(self, seconds: float, frames: int) -> None:
        self.window.append((seconds, frames))

    def per_frame_ms(self) -> float | None:
        frames = sum(count for _, count in self.window)
        return 1000 * sum(seconds for seconds, _ in self.window) / frames if frames else None

    def mean_batch(self) -> float | None:
        return sum(count for _, count in self.window) / len(self.window) if self.window else None


class DetectorPool:
    """One loaded model shared by every camera using it. ONNX: a thread pool; ultralytics: one worker process.

    Each camera has at most one frame waiting: a newer frame replaces it (the old one counts as dropped).
    Waiting frames from several cameras go to the model together as one batch (``max_batch``).
    """

    def __init__(self, detector: Detector, *, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self.info: ModelInfo = detector.info
        self.max_batch = max_batch
        self._detector = detector
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="detector")
        self._waiting: dict[str, _Waiting] = {}  # insertion order = the order sources get served
        self._counters: dict[str, _Counters] = {}
        self._total = _Counters()
        self._timings = _Timings()
        self._batches = 0
        self._busy = False
        self._runner: asyncio.Task[None] | None = None
        self._closed = False

    async def detect(self, source: str, image: np.ndarray, min_confidence: float) -> list[Box] | None:
        """Boxes above ``min_confidence`` in ``image``'s pixels, or None when a newer frame of ``source`` replaced
        this one before the model got to it (dropped). Raises ModelError when the model fails."""
        if self._closed:
            raise RuntimeError("the detector pool is closed")
        counters = self._counters.setdefault(source, _Counters())
        counters.frames_in += 1
        self._total.frames_in += 1
        previous = self._waiting.get(source)
        if previous is not None:  # keeps its place in the queue: a busy camera is not sent to the back
            self._drop(source, previous)
        future: asyncio.Future[list[Box] | None] = asyncio.get_running_loop().create_future()
        self._waiting[source] = _Waiting(image, min_confidence, future)
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name=f"detector pool {self.info.path.name}")
        try:
            return await future
        except asyncio.CancelledError:
            waiting = self._waiting.get(source)
            if waiting is not None and waiting.future is future:
                del self._waiting[source]  # the caller left: do not spend inference on it
            raise

    def stats(self, source: str | None = None) -> PoolStats:
        """The pool's counters, or one source's frame counters with the pool's timing."""
        counters = self._total if source is None else self._counters.get(source, _Counters())
        return PoolStats(
            backend=self.info.backend,
            device=self.info.device,
            inference_ms=self._timings.per_frame_ms(),
            batches=self._batches,
            frames_in=counters.frames_in,
            frames_done=counters.frames_done,
            frames_dropped=counters.frames_dropped,
            busy=self._busy,
            mean_batch=self._timings.mean_batch(),
        )

    @property
    def sources(self) -> list[str]:
        """Sources that have sent frames."""
        return list(self._counters)

    async def close(self) -> None:
        """Answer waiting frames with None, wait for the running batch, free the model."""
        if self._closed:
            return
        self._closed = True
        for source, waiting in list(self._waiting.items()):
            self._drop(source, waiting)
        self._waiting.clear()
        if self._runner is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._runner
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._detector.close)
        self._executor.shutdown(wait=False)

    # ------------------------------------------------------------------------------------------------ internal

    def _drop(self, source: str, waiting: _Waiting) -> None:
        if not waiting.future.done():
            waiting.future.set_result(None)
        self._counters.setdefault(source, _Counters()).frames_dropped += 1
        self._total.frames_dropped += 1

    def _next_batch(self) -> list[tuple[str, _Waiting]]:
        batch: list[tuple[str, _Waiting]] = []
        for source in list(self._waiting)[: self.max_batch]:
            waiting = self._waiting.pop(source)
            if not waiting.future.done():
                batch.append((source, waiting))
        return batch

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting and not self._closed:
            batch = self._next_batch()
            if not batch:
                continue
            images = [waiting.image for _, waiting in batch]
            floor = min(waiting.min_confidence for _, waiting in batch)
            self._busy = True
            started = time.perf_counter()
            try:
                results = await loop.run_in_executor(self._executor, self._detect, images, floor)
                if len(results) != len(batch):
                    raise RuntimeError(f"the model answered {len(results)} images of {len(batch)}")
            except Exception as err:
                self._fail(batch, err)
                continue
            finally:
                self._busy = False
            self._timings.add(time.perf_counter() - started, len(batch))
            self._batches += 1
            for (source, waiting), boxes in zip(batch, results, strict=True):
                self._counters[source].frames_done += 1
                self._total.frames_done += 1
                if not waiting.future.done():
                    waiting.future.set_result([box for box in boxes if box.confidence >= waiting.min_confidence])

    def _detect(self, images: list[np.ndarray], min_confidence: float) -> list[list[Box]]:
        return self._detector.detect(images, min_confidence)

    def _fail(self, batch: list[tuple[str, _Waiting]], err: Exception) -> None:
        if not isinstance(err, ModelError | ValueError):
            _LOGGER.exception("Detection with %s failed", self.info.path, exc_info=err)
            err = ModelError(self.info.path, f"inference failed ({type(err).__name__}: {err})")
        for _, waiting in batch:
            if not waiting.future.done():
                waiting.future.set_exception(err)


_Key = tuple[Path, int, str]


class DetectorPools:
    """Hub-wide registry: cameras using the same model file, size and backend share one pool (one loaded model).

    ``acquire`` loads on first use (in a thread: loading takes seconds) and counts users; ``release`` closes the
    pool when its last user lets go.
    """

    def __init__(
        self,
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        threads: int | None = None,
        loader: Callable[..., Detector] = load_detector,
    ) -> None:
        self.max_batch = max_batch
        self.threads = threads
        self._loader = loader
        self._pools: dict[_Key, DetectorPool] = {}
        self._users: dict[_Key, int] = {}
        self._locks: dict[_Key, asyncio.Lock] = {}

    async def acquire(self, path: str | Path, *, imgsz: int, backend: str = "auto") -> DetectorPool:
        """The shared pool for this model (loaded now when nobody uses it yet). Raises ModelError."""
        key: _Key = (Path(path).expanduser().absolute(), imgsz, backend)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            pool = self._pools.get(key)
            if pool is None:
                detector = await asyncio.to_thread(
                    self._loader, key[0], imgsz=imgsz, backend=backend, threads=self.threads
                )
                pool = DetectorPool(detector, max_batch=self.max_batch)
                self._pools[key] = pool
                _LOGGER.info(
                    "Loaded model %s (%s on %s, imgsz %d, labels %s)",
                    detector.info.path,
                    detector.info.backend,
                    detector.info.device,
                    detector.info.imgsz,
                    ", ".join(detector.info.labels),
                )
            self._users[key] = self._users.get(key, 0) + 1
            return pool

    async def release(self, pool: DetectorPool) -> None:
        """One user fewer; the pool is closed (model freed) when it was the last."""
        for key, candidate in list(self._pools.items()):
            if candidate is pool:
                self._users[key] -= 1
                if self._users[key] <= 0:
                    del self._pools[key], self._users[key]
                    await pool.close()
                return

    def pools(self) -> list[DetectorPool]:
        """The pools loaded now (for statistics pages)."""
        return list(self._pools.values())

    async def close(self) -> None:
        """Close every pool (hub shutdown)."""
        pools = list(self._pools.values())
        self._pools.clear()
        self._users.clear()
        for pool in pools:
            await pool.close()
