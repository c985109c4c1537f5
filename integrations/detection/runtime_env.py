"""Make ultralytics safe to import in the hub: offline, no auto-installs, and working NMS on a CPU-only torch.

Every module that touches ultralytics calls ``prepare_ultralytics()`` first (the worker process does it in its
initializer). Two problems are solved here:

- ultralytics downloads weights, fonts and pip packages on demand; ``YOLO_OFFLINE`` / ``YOLO_AUTOINSTALL`` stop
  that, and ``YOLO_CONFIG_DIR`` points its settings file at a writable folder.
- The Linux torchvision wheels are CUDA builds: with the CPU torch, ``import torchvision`` fails with "operator
  torchvision::nms does not exist". Registering that operator (and ``qnms``) with a CPU kernel written in torch
  before torchvision is imported, and disabling torchvision's C++ extension check in ``torchvision.ops.boxes``,
  makes predict, export and tracking work. Other torchvision C++ operators stay unavailable; YOLO does not use them.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

__all__ = ["prepare_ultralytics", "ultralytics_config_dir"]

_lock = threading.Lock()
_prepared = False
_shim_library: Any = None  # the torch.library.Library holding the shim; kept alive for the process lifetime


def ultralytics_config_dir() -> Path:
    """The writable folder ultralytics keeps its settings in (``YOLO_CONFIG_DIR``, default under the temp dir)."""
    configured = os.environ.get("YOLO_CONFIG_DIR")
    if configured:
        return Path(configured)
    return Path(tempfile.gettempdir()) / f"gatehouse-ultralytics-{os.getuid() if hasattr(os, 'getuid') else 0}"


def prepare_offline_env() -> None:
    """Set the environment variables that keep ultralytics offline; must run before ultralytics is imported."""
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ["YOLO_AUTOINSTALL"] = "false"
    os.environ.setdefault("YOLO_VERBOSE", "false")
    config_dir = ultralytics_config_dir()
    config_dir.mkdir(parents=True, exist_ok=True)
    os.environ["YOLO_CONFIG_DIR"] = str(config_dir)


def prepare_ultralytics() -> None:
    """Idempotent: offline environment, then the torchvision NMS shim when torchvision's own operators are missing."""
    global _prepared
    with _lock:
        if _prepared:
            return
        prepare_offline_env()
        _install_nms_shim()
        _prepared = True


def _install_nms_shim() -> None:
    """Import torchvision; when its C++ operators are missing (a CUDA build beside the CPU torch), register the
    NMS operators in Python and import it again. A matching torchvision (a GPU machine) is left as it is."""
    global _shim_library
    import torch

    try:
        import torchvision  # a matching build registers its own operators here
    except RuntimeError as err:
        if "torchvision::" not in str(err):
            raise
        for name in [name for name in sys.modules if name == "torchvision" or name.startswith("torchvision.")]:
            del sys.modules[name]  # the half-imported package: imported again below
        library = torch.library.Library("torchvision", "DEF")  # the namespace the C++ extension would define
        library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        library.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        library.impl("nms", _nms_kernel, "CPU")
        library.impl("qnms", _nms_kernel, "CPU")
        _shim_library = library
        import torchvision  # noqa: F401
    _disable_torchvision_op_check()


def _disable_torchvision_op_check() -> None:
    import torchvision.extension
    import torchvision.ops.boxes

    if torchvision.extension._has_ops():
        return
    torchvision.ops.boxes._assert_has_ops = _no_check


def _no_check() -> None:
    """torchvision's C++ extension check, replaced: the NMS operator is the Python shim above."""


def _nms_kernel(dets: Any, scores: Any, iou_threshold: float) -> Any:
    """Greedy NMS in torch (same contract as torchvision's C++ kernel): indices kept, by decreasing score."""
    import torch

    if dets.numel() == 0:
        return torch.empty((0,), dtype=torch.int64, device=dets.device)
    x1, y1, x2, y2 = dets.float().unbind(1)
    areas = (x2 - x1).clamp(min=0) * (y2 - y1).clamp(min=0)
    order = torch.argsort(scores, descending=True)
    keep: list[Any] = []
    while order.numel() > 0:
        best = order[0]
        keep.append(best)
        if order.numel() == 1:
            break
        rest = order[1:]
        width = (torch.minimum(x2[best], x2[rest]) - torch.maximum(x1[best], x1[rest])).clamp(min=0)
        height = (torch.minimum(y2[best], y2[rest]) - torch.maximum(y1[best], y1[rest])).clamp(min=0)
        inter = width * height
        overlap = inter / (areas[best] + areas[rest] - inter).clamp(min=1e-9)
        order = rest[overlap <= iou_threshold]
    return torch.stack(keep).to(torch.int64)
