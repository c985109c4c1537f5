"""Loading a detection model from a local file: checks that name the file, and the choice of backend.

Two backends run the same YOLO weights: ONNX Runtime for an exported ``.onnx`` (about twice as fast on a CPU) and
ultralytics for a ``.pt`` (in a worker process; on CUDA when a GPU is present). ``backend="auto"`` picks the fast
one for the machine: a ``.pt`` on a CPU-only machine runs its ONNX export (``<stem>_<imgsz>.onnx``, written by
``gatehouse detection export``) when one lies next to it. Nothing is ever downloaded.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from hub.exceptions import HubError

from .boxes import Box

__all__ = [
    "BACKENDS",
    "DEFAULT_IMGSZ",
    "BackendName",
    "Detector",
    "ModelError",
    "ModelInfo",
    "check_imgsz",
    "check_model_file",
    "cuda_available",
    "load_detector",
    "onnx_export_path",
]

_LOGGER = logging.getLogger(__name__)

BackendName = Literal["onnxruntime", "ultralytics"]
BACKENDS = ("auto", "onnxruntime", "ultralytics")
DEFAULT_IMGSZ = 320
MODEL_SUFFIXES = (".onnx", ".pt")
_ONNX_MAGIC_MIN = 16  # a serialized ONNX model is never smaller than a few dozen bytes
_advised_export: set[Path] = set()


class ModelError(HubError):
    """A model file that cannot be used; the message names the file and what is wrong with it."""

    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(f"model {path}: {problem}")
        self.path = str(path)
        self.problem = problem

    def __reduce__(self) -> tuple[type[ModelError], tuple[str, str]]:  # survives the worker process boundary
        return (type(self), (self.path, self.problem))


@dataclass(frozen=True)
class ModelInfo:
    """What a loaded model is: the file actually run, how, where, at which input size, with which class names."""

    path: Path
    backend: BackendName
    device: str
    imgsz: int
    labels: tuple[str, ...]


class Detector(Protocol):
    """A loaded model. ``detect`` blocks: call it from a worker thread, never on the event loop."""

    info: ModelInfo

    def detect(self, images: Sequence[np.ndarray], min_confidence: float = 0.25) -> list[list[Box]]:
        """One list of boxes per BGR uint8 ``HxWx3`` image, in that image's pixels."""
        ...

    def close(self) -> None: ...


def onnx_export_path(model: str | Path, imgsz: int) -> Path:
    """Where ``gatehouse detection export`` writes a ``.pt``'s ONNX export by default: ``<stem>_<imgsz>.onnx``."""
    model = Path(model)
    return model.with_name(f"{model.stem}_{imgsz}.onnx")


def check_model_file(path: str | Path) -> Path:
    """The absolute path of a model file that exists, is a regular non-empty file with a known suffix."""
    model = Path(path).expanduser()
    if not model.exists():
        raise ModelError(model, "file not found")
    if model.is_dir():
        raise ModelError(model, "is a directory, not a model file")
    suffix = model.suffix.lower()
    if suffix not in MODEL_SUFFIXES:
        raise ModelError(model, f"not an ONNX or ultralytics model (unknown extension {suffix or 'none'!r})")
    try:
        size = model.stat().st_size
        with model.open("rb") as handle:
            head = handle.read(_ONNX_MAGIC_MIN)
    except OSError as err:
        raise ModelError(model, f"unreadable ({err.strerror or err})") from err
    if size == 0:
        raise ModelError(model, "unreadable (empty file)")
    if suffix == ".pt" and not _is_torch_checkpoint(model):
        raise ModelError(model, "unreadable (not a PyTorch checkpoint: truncated or corrupt)")
    if suffix == ".onnx" and len(head) < _ONNX_MAGIC_MIN:
        raise ModelError(model, "unreadable (truncated ONNX file)")
    return model.absolute()


def _is_torch_checkpoint(path: Path) -> bool:
    """A ``torch.save`` file is a zip archive with a pickled ``<name>/data.pkl`` inside."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.endswith("data.pkl") for name in archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def check_imgsz(path: str | Path, imgsz: int) -> int:
    """The model input size: a positive multiple of the YOLO stride (32)."""
    if isinstance(imgsz, bool) or not isinstance(imgsz, int) or imgsz < 32 or imgsz % 32:
        raise ModelError(path, f"imgsz must be a positive multiple of 32, got {imgsz!r}")
    return imgsz


def cuda_available() -> bool:
    """Whether torch sees a CUDA GPU. Answers False without importing torch (seconds, hundreds of MB) when torch
    is missing, is a CPU build, or a Linux machine has no NVIDIA device node."""
    if importlib.util.find_spec("torch") is None:
        return False
    try:
        if "+cpu" in importlib.metadata.version("torch"):
            return False
    except importlib.metadata.PackageNotFoundError:
        return False
    if sys.platform == "linux" and not any(Path("/dev").glob("nvidia[0-9]*")):
        return False
    import torch

    return bool(torch.cuda.is_available())


def load_detector(
    path: str | Path, *, imgsz: int = DEFAULT_IMGSZ, backend: str = "auto", threads: int | None = None
) -> Detector:
    """Load a model for inference (BLOCKING: seconds). Raises ModelError for missing, corrupt or unknown files.

    ``threads``: ONNX Runtime intra-op threads (default half the cores) or torch threads in the ultralytics worker.
    """
    if backend not in BACKENDS:
        raise ModelError(path, f"unknown backend {backend!r} (expected one of {', '.join(BACKENDS)})")
    check_imgsz(path, imgsz)
    model = check_model_file(path)
    is_onnx = model.suffix.lower() == ".onnx"
    if backend == "onnxruntime" and not is_onnx:
        raise ModelError(model, "the onnxruntime backend runs .onnx files; export it: gatehouse detection export")
    if backend == "ultralytics" and is_onnx:
        raise ModelError(model, "the ultralytics backend runs .pt files; use backend onnxruntime for .onnx")
    if is_onnx:
        return _onnx(model, imgsz, threads)
    if backend == "auto" and not cuda_available():
        exported = onnx_export_path(model, imgsz)
        if exported.is_file():
            _LOGGER.info("Model %s: running its ONNX export %s on the CPU", model, exported)
            return _onnx(exported, imgsz, threads)
        if model not in _advised_export:
            _advised_export.add(model)
            _LOGGER.warning(
                "Model %s runs through ultralytics on the CPU; ONNX Runtime is about 2x faster: "
                "gatehouse detection export %s --imgsz %d",
                model,
                model,
                imgsz,
            )
    from .ultralytics_backend import UltralyticsDetector

    return UltralyticsDetector(model, imgsz=imgsz, threads=threads)


def _onnx(model: Path, imgsz: int, threads: int | None) -> Detector:
    from .onnx_backend import OnnxDetector

    return OnnxDetector(model, imgsz=imgsz, threads=threads)
