"""YOLO (v8 / 11 detection head) exported to ONNX, run by ONNX Runtime: letterbox, inference, decode, NMS.

Mirrors what ultralytics does around the network so both backends find the same boxes: the image is scaled to fit
``imgsz`` keeping its aspect ratio and padded with grey (114) to the next multiple of 32 (exports with dynamic
image axes; fixed-size exports get the full square), the output ``[N, 4 + classes, anchors]``
(centre x, centre y, width, height, then one score per class) is filtered by confidence, suppressed per class,
and mapped back to the source image's pixels. Exports with a dynamic batch axis take several images in one run.
"""

from __future__ import annotations

import ast
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .boxes import Box, nms_indices
from .model import ModelError, ModelInfo

__all__ = ["DEFAULT_IOU", "MAX_DETECTIONS", "Letterbox", "OnnxDetector", "decode_yolo", "input_shape", "letterbox"]

_LOGGER = logging.getLogger(__name__)

DEFAULT_IOU = 0.7  # ultralytics' predict default, so both backends agree
MAX_DETECTIONS = 300
PAD_VALUE = 114
STRIDE = 32  # YOLO's largest downsampling: input sides are multiples of it


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How an image was placed in the square model input: ``model = source * scale + (left, top)``."""

    scale: float
    left: int
    top: int
    width: int  # source image size
    height: int


def input_shape(height: int, width: int, size: int, stride: int = STRIDE) -> tuple[int, int]:
    """The smallest model input (height, width) holding the image scaled to fit ``size``: each side rounded up to
    the stride, as ultralytics' rectangular inference does (a 16:9 frame at 320 runs as 192x320, not 320x320)."""
    scale = min(size / height, size / width)
    new_height, new_width = round(height * scale), round(width * scale)
    return (-(-new_height // stride) * stride, -(-new_width // stride) * stride)


def letterbox(image: np.ndarray, size: int, shape: tuple[int, int] | None = None) -> tuple[np.ndarray, Letterbox]:
    """The image scaled to fit ``size`` (aspect kept), centred on grey padding filling ``shape`` (height, width;
    default the square ``size`` x ``size``), as ultralytics does."""
    target_height, target_width = shape or (size, size)
    height, width = image.shape[:2]
    scale = min(size / height, size / width, target_height / height, target_width / width)
    new_width, new_height = round(width * scale), round(height * scale)
    if (new_width, new_height) != (width, height):
        image = cv2.resize(image, (new_width, new_height), interpolation=cv2.INTER_LINEAR)
    pad_x, pad_y = (target_width - new_width) / 2, (target_height - new_height) / 2
    top, left = round(pad_y - 0.1), round(pad_x - 0.1)
    bottom, right = target_height - new_height - top, target_width - new_width - left
    padded = cv2.copyMakeBorder(
        image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE, PAD_VALUE, PAD_VALUE)
    )
    return padded, Letterbox(scale=scale, left=left, top=top, width=width, height=height)


def decode_yolo(
    output: np.ndarray,
    placement: Letterbox,
    labels: Sequence[str],
    min_confidence: float,
    iou_threshold: float = DEFAULT_IOU,
) -> list[Box]:
    """One image's raw head output ``[4 + classes, anchors]`` as boxes in source pixels, after per-class NMS."""
    predictions = output.T  # [anchors, 4 + classes]
    scores_all = predictions[:, 4:]
    classes = scores_all.argmax(axis=1)
    scores = scores_all[np.arange(len(classes)), classes]
    keep = scores >= min_confidence
    if not keep.any():
        return []
    centres, scores, classes = predictions[keep, :4].astype(np.float64), scores[keep], classes[keep]
    corners = np.empty_like(centres)
    corners[:, 0] = centres[:, 0] - centres[:, 2] / 2
    corners[:, 1] = centres[:, 1] - centres[:, 3] / 2
    corners[:, 2] = centres[:, 0] + centres[:, 2] / 2
    corners[:, 3] = centres[:, 1] + centres[:, 3] / 2
    kept = nms_indices(corners, scores, iou_threshold, classes)[:MAX_DETECTIONS]
    corners = corners[kept]
    corners[:, [0, 2]] = ((corners[:, [0, 2]] - placement.left) / placement.scale).clip(0, placement.width)
    corners[:, [1, 3]] = ((corners[:, [1, 3]] - placement.top) / placement.scale).clip(0, placement.height)
    return [
        Box(
            float(x1),
            float(y1),
            float(x2),
            float(y2),
            label=labels[int(cls)] if int(cls) < len(labels) else f"class{int(cls)}",
            confidence=float(score),
        )
        for (x1, y1, x2, y2), score, cls in zip(corners, scores[kept], classes[kept], strict=True)
    ]


def default_threads() -> int:
    """Half the cores (at least one): leaves the rest for decoding streams and the event loop."""
    return max(1, (os.cpu_count() or 2) // 2)


class OnnxDetector:
    """An ONNX YOLO detection model in an ONNX Runtime session (CUDA when onnxruntime-gpu sees a GPU)."""

    def __init__(self, path: Path, *, imgsz: int, threads: int | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # Idle threads sleep instead of spinning: on a shared CPU spinning halves the work done per CPU second
        # and takes cores from stream decoding.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        available = ort.get_available_providers()
        providers = ["CPUExecutionProvider"]
        if "CUDAExecutionProvider" in available:
            providers.insert(0, "CUDAExecutionProvider")
        try:
            session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
        except Exception as err:  # onnxruntime raises its own exception classes (InvalidProtobuf, Fail, ...)
            raise ModelError(path, f"unreadable ({_first_line(err)})") from err
        self._session = session
        self._lock = threading.Lock()  # one run at a time: the session's threads are the parallelism
        model_input = session.get_inputs()[0]
        model_output = session.get_outputs()[0]
        self._input_name = model_input.name
        self._half = model_input.type == "tensor(float16)"
        self._batch_dynamic = not isinstance(model_input.shape[0], int)
        fixed = [dim for dim in model_input.shape[2:] if isinstance(dim, int)]
        if len(model_input.shape) != 4 or (fixed and (len(fixed) != 2 or fixed[0] != fixed[1])):
            raise ModelError(path, f"not a YOLO detection model (input shape {model_input.shape})")
        input_size = fixed[0] if fixed else imgsz
        self._fixed_input = bool(fixed)
        if input_size != imgsz:
            _LOGGER.info("Model %s has a fixed input of %d px; imgsz %d does not apply", path, input_size, imgsz)
        labels = _labels(session.get_modelmeta().custom_metadata_map)
        output_shape = model_output.shape
        if len(output_shape) != 3 or (isinstance(output_shape[1], int) and output_shape[1] < 5):
            raise ModelError(path, f"not a YOLO detection model (output shape {output_shape})")
        if labels and isinstance(output_shape[1], int) and output_shape[1] != 4 + len(labels):
            raise ModelError(
                path,
                f"not a YOLO detection model (output {output_shape} does not fit {len(labels)} classes; "
                "exports with NMS built in are not supported: export without --nms)",
            )
        if not labels and isinstance(output_shape[1], int):
            labels = tuple(f"class{index}" for index in range(output_shape[1] - 4))
        device = "cuda:0" if session.get_providers()[0] == "CUDAExecutionProvider" else "cpu"
        self.info = ModelInfo(path=path, backend="onnxruntime", device=device, imgsz=input_size, labels=labels)
        self.batch_capable = self._batch_dynamic
        self.threads = options.intra_op_num_threads

    def detect(self, images: Sequence[np.ndarray], min_confidence: float = 0.25) -> list[list[Box]]:
        """Boxes per image (BLOCKING); one session run for all of them when the export has a dynamic batch."""
        if not images:
            return []
        if not self._batch_dynamic and len(images) > 1:
            return [self.detect([image], min_confidence)[0] for image in images]
        size = self.info.imgsz
        for image in images:
            _check_image(image)
        if self._fixed_input:
            height = width = size
        else:  # smallest common rectangle: less padding, fewer pixels to run (ultralytics' rect inference)
            shapes = [input_shape(image.shape[0], image.shape[1], size) for image in images]
            height, width = max(shape[0] for shape in shapes), max(shape[1] for shape in shapes)
        batch = np.empty((len(images), 3, height, width), dtype=np.float16 if self._half else np.float32)
        placements = []
        for index, image in enumerate(images):
            padded, placement = letterbox(image, size, (height, width))
            batch[index] = padded[:, :, ::-1].transpose(2, 0, 1)  # BGR -> RGB, HWC -> CHW
            placements.append(placement)
        batch /= 255.0
        with self._lock:
            output = self._session.run(None, {self._input_name: batch})[0]
        output = output.astype(np.float32, copy=False)
        return [
            decode_yolo(output[index], placement, self.info.labels, min_confidence)
            for index, placement in enumerate(placements)
        ]

    def close(self) -> None:
        """ONNX Runtime frees the session with the object; nothing else is held."""


def _check_image(image: np.ndarray) -> None:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected a BGR uint8 HxWx3 image, got {image.dtype} {image.shape}")


def _labels(metadata: dict[str, str]) -> tuple[str, ...]:
    """Class names from the ``names`` metadata ultralytics writes into its exports (``{0: 'person', ...}``)."""
    raw = metadata.get("names")
    if not raw:
        return ()
    try:
        names: Any = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return ()
    if isinstance(names, dict):
        return tuple(str(names[key]).lower() for key in sorted(names))
    if isinstance(names, list | tuple):
        return tuple(str(name).lower() for name in names)
    return ()


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__
