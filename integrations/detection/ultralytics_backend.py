"""Ultralytics ``.pt`` models, run in one worker process (on CUDA when torch sees a GPU).

torch holds the GIL for parts of every inference, takes seconds to import and hundreds of MB: keeping it in a
separate process leaves the hub's event loop and stream decoding alone. The worker is started with ``spawn`` (no
forked copy of the hub's threads and sockets); its initializer makes ultralytics offline, installs the
torchvision NMS shim and loads the model once. Images travel to it pickled; boxes come back as plain tuples.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import numpy as np

from .boxes import Box
from .model import ModelError, ModelInfo
from .runtime_env import prepare_ultralytics

__all__ = ["UltralyticsDetector", "load_yolo", "predict_boxes"]

_DEFAULT_IOU = 0.7  # ultralytics' default, the same as the ONNX backend's
_RawBox = tuple[float, float, float, float, str, float]

# The worker process's state, set by its initializer.
_worker_model: Any = None
_worker_error: ModelError | None = None
_worker_device = "cpu"
_worker_imgsz = 320


def load_yolo(path: str | Path) -> Any:
    """An ultralytics YOLO detection model from a local ``.pt`` in this process; ModelError when it is not one."""
    prepare_ultralytics()
    from ultralytics import YOLO

    try:
        yolo = YOLO(str(path), task="detect")
    except Exception as err:  # torch / ultralytics raise many kinds (UnpicklingError, KeyError, RuntimeError)
        raise ModelError(path, f"not a loadable ultralytics model ({type(err).__name__}: {_first_line(err)})") from err
    task = getattr(yolo.model, "task", None) or yolo.task
    if task != "detect" or not isinstance(getattr(yolo, "names", None), dict):
        raise ModelError(path, f"not an ultralytics detection model (task {task!r})")
    return yolo


def predict_boxes(
    yolo: Any, images: Sequence[np.ndarray], *, imgsz: int, min_confidence: float, device: Any = None
) -> list[list[_RawBox]]:
    """Run ultralytics on BGR images as one batch; boxes as ``(x1, y1, x2, y2, label, confidence)`` tuples."""
    results = yolo.predict(
        list(images), imgsz=imgsz, conf=min_confidence, iou=_DEFAULT_IOU, device=device, verbose=False
    )
    names = yolo.names
    found: list[list[_RawBox]] = []
    for result in results:
        boxes = result.boxes
        corners = boxes.xyxy.cpu().numpy().tolist()
        scores = boxes.conf.cpu().numpy().tolist()
        classes = boxes.cls.cpu().numpy().astype(int).tolist()
        found.append(
            [
                (x1, y1, x2, y2, str(names.get(cls, f"class{cls}")).lower(), score)
                for (x1, y1, x2, y2), score, cls in zip(corners, scores, classes, strict=True)
            ]
        )
    return found


def _worker_init(path: str, imgsz: int, threads: int | None) -> None:
    """Runs once in the worker: offline env, NMS shim, torch threads, the model on the best device."""
    global _worker_model, _worker_error, _worker_device, _worker_imgsz
    _worker_imgsz = imgsz
    try:
        prepare_ultralytics()
        import torch

        if threads:
            torch.set_num_threads(threads)
        _worker_device = "cuda:0" if torch.cuda.is_available() else "cpu"
        _worker_model = load_yolo(path)
    except ModelError as err:
        _worker_error = err
    except Exception as err:  # reported by _worker_describe: a failed initializer would only say "broken pool"
        _worker_error = ModelError(path, f"cannot load ({type(err).__name__}: {_first_line(err)})")


def _worker_describe() -> tuple[tuple[str, ...], str]:
    if _worker_error is not None:
        raise _worker_error
    names = _worker_model.names
    return tuple(str(names[key]).lower() for key in sorted(names)), _worker_device


def _worker_detect(images: list[np.ndarray], min_confidence: float) -> list[list[_RawBox]]:
    device = 0 if _worker_device.startswith("cuda") else "cpu"
    return predict_boxes(_worker_model, images, imgsz=_worker_imgsz, min_confidence=min_confidence, device=device)


class UltralyticsDetector:
    """A ``.pt`` model in a dedicated spawned worker process; ``detect`` blocks until the worker answers."""

    batch_capable = True

    def __init__(self, path: Path, *, imgsz: int, threads: int | None = None) -> None:
        self._path = path
        self._initargs = (str(path), imgsz, threads or max(1, (os.cpu_count() or 2) // 2))
        self._executor = self._start_worker()
        try:
            labels, device = self._executor.submit(_worker_describe).result()
        except ModelError:
            self.close()
            raise
        except BrokenProcessPool as err:
            self.close()
            raise ModelError(path, "the ultralytics worker process died while loading the model") from err
        self.info = ModelInfo(path=path, backend="ultralytics", device=device, imgsz=imgsz, labels=labels)

    def _start_worker(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_init,
            initargs=self._initargs,
        )

    @property
    def worker_pids(self) -> list[int]:
        """The worker process's id (empty before it started or after it died)."""
        processes = getattr(self._executor, "_processes", None) or {}
        return [pid for pid, process in processes.items() if process.is_alive()]

    def detect(self, images: Sequence[np.ndarray], min_confidence: float = 0.25) -> list[list[Box]]:
        """Boxes per image (BLOCKING). When the worker died (killed, out of memory) this call fails with
        ModelError and a fresh worker is started; the next call waits for it to load the model."""
        if not images:
            return []
        try:
            raw = self._executor.submit(_worker_detect, list(images), min_confidence).result()
        except BrokenProcessPool as err:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = self._start_worker()
            raise ModelError(self._path, "the ultralytics worker process died; starting a new one") from err
        return [[Box(*box) for box in boxes] for boxes in raw]

    def close(self) -> None:
        """Stop the worker process (waits for a running inference to finish)."""
        self._executor.shutdown(wait=True, cancel_futures=True)


def _first_line(err: BaseException) -> str:
    """The gist of an ultralytics error: first sentence of its first line, without its emoji prefix."""
    lines = str(err).strip().splitlines()
    if not lines:
        return type(err).__name__
    text = lines[0].removeprefix("ERROR").strip(" ❌️")
    return text.split(". ")[0][:200]
