"""Export an ultralytics ``.pt`` detection model to ONNX, offline, for the faster ONNX Runtime backend.

The export has a dynamic batch axis (the shared detector pool sends several cameras' frames in one run) and is
written as ``<stem>_<imgsz>.onnx`` next to the ``.pt`` unless told otherwise: the name ``backend: auto`` looks for.
The work happens in a temporary folder, so an existing ``<stem>.onnx`` next to the model is never overwritten.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .model import DEFAULT_IMGSZ, ModelError, check_imgsz, check_model_file, onnx_export_path

__all__ = ["export_onnx"]


def export_onnx(model: str | Path, *, imgsz: int = DEFAULT_IMGSZ, output: str | Path | None = None) -> Path:
    """Export ``model`` (a ``.pt``) to ONNX at ``imgsz`` (BLOCKING: 5-30 s); returns the written file."""
    source = check_model_file(model)
    check_imgsz(source, imgsz)
    if source.suffix.lower() != ".pt":
        raise ModelError(source, "only ultralytics .pt models can be exported (this is already ONNX)")
    target = Path(output).expanduser().resolve() if output is not None else onnx_export_path(source, imgsz)
    if target.suffix.lower() != ".onnx":
        raise ModelError(target, "the export must be written to a .onnx file")
    if target.is_dir():
        raise ModelError(target, "is a directory; give the .onnx file to write")
    target.parent.mkdir(parents=True, exist_ok=True)

    from .ultralytics_backend import load_yolo

    with tempfile.TemporaryDirectory(prefix="gatehouse-export-") as workdir:
        copy = Path(workdir) / source.name
        shutil.copyfile(source, copy)
        yolo = load_yolo(copy)
        try:
            written = yolo.export(format="onnx", imgsz=imgsz, dynamic=True, simplify=True, device="cpu")
        except Exception as err:  # ultralytics raises whatever its exporter hits; name the model
            raise ModelError(source, f"ONNX export failed ({type(err).__name__}: {err})") from err
        produced = Path(str(written))
        if not produced.is_file():
            raise ModelError(source, "ONNX export produced no file")
        staging = target.with_name(f".{target.name}.partial")
        shutil.move(produced, staging)
        staging.replace(target)  # atomic: a running hub never sees a half-written export
    return target
