"""``gatehouse detection export|info``: make the fast ONNX model from a ``.pt`` and see what a model file holds.

gatehouse detection export models/person.pt --imgsz 320     # writes models/person_320.onnx
gatehouse detection info models/person_320.onnx             # labels, backend, device, input size
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from hub.hookspecs import hookimpl

from .model import BACKENDS, DEFAULT_IMGSZ, ModelError

__all__ = ["cli_commands"]


@hookimpl
def cli_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    detection = subparsers.add_parser("detection", help="object detection models: export to ONNX, inspect")
    actions = detection.add_subparsers(dest="detection_command", required=True, metavar="ACTION")

    export = actions.add_parser(
        "export",
        help="export an ultralytics .pt detection model to ONNX (about 2x faster on a CPU), offline",
        description="Writes <stem>_<imgsz>.onnx next to the model unless --output is given; a hub configured "
        "with the .pt and backend auto uses that file on machines without a GPU.",
    )
    export.add_argument("model", type=Path, help="the .pt model file")
    export.add_argument("--imgsz", type=int, default=DEFAULT_IMGSZ, help="input size in pixels (default 320)")
    export.add_argument("--output", type=Path, default=None, help="the .onnx file to write")
    export.set_defaults(func=_export)

    info = actions.add_parser("info", help="load a model and show its labels, backend, device and input size")
    info.add_argument("model", type=Path, help="a .onnx or .pt model file")
    info.add_argument("--imgsz", type=int, default=DEFAULT_IMGSZ, help="input size in pixels (default 320)")
    info.add_argument("--backend", choices=BACKENDS, default="auto", help="which runtime (default: auto)")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.set_defaults(func=_info)


def _export(args: argparse.Namespace) -> int:
    from .export import export_onnx

    started = time.monotonic()
    try:
        written = export_onnx(args.model, imgsz=args.imgsz, output=args.output)
    except ModelError as err:
        print(f"error: {err}")
        return 1
    size_mb = written.stat().st_size / 1e6
    print(f"wrote {written} ({size_mb:.1f} MB, imgsz {args.imgsz}, in {time.monotonic() - started:.1f} s)")
    return 0


def _info(args: argparse.Namespace) -> int:
    from .model import load_detector

    try:
        detector = load_detector(args.model, imgsz=args.imgsz, backend=args.backend)
    except ModelError as err:
        print(f"error: {err}")
        return 1
    try:
        info = detector.info
        if args.json:
            print(
                json.dumps(
                    {
                        "path": str(info.path),
                        "backend": info.backend,
                        "device": info.device,
                        "imgsz": info.imgsz,
                        "labels": list(info.labels),
                    }
                )
            )
        else:
            print(f"model:   {info.path}")
            print(f"backend: {info.backend}")
            print(f"device:  {info.device}")
            print(f"imgsz:   {info.imgsz}")
            print(f"labels:  {', '.join(info.labels)}")
    finally:
        detector.close()
    return 0
