"""The ultralytics backend: a .pt model in one spawned worker process, and how ``backend: auto`` chooses."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import psutil
import pytest

from hub.testing.detection import ultralytics_asset
from integrations.detection.model import ModelError, load_detector
from integrations.detection.onnx_backend import OnnxDetector
from integrations.detection.ultralytics_backend import UltralyticsDetector


def test_a_pt_model_runs_in_a_worker_process_and_finds_the_people(
    person_model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model = tmp_path / "person.pt"
    model.symlink_to(person_model)
    caplog.set_level(logging.WARNING, logger="integrations.detection.model")
    detector = load_detector(model, imgsz=640, backend="auto", threads=2)  # CPU only here: no GPU, no export
    try:
        assert isinstance(detector, UltralyticsDetector)
        assert detector.info.backend == "ultralytics"
        assert detector.info.device == "cpu"
        assert detector.info.labels == ("normal", "fall")
        assert detector.info.imgsz == 640 and detector.info.path == model
        assert "gatehouse detection export" in caplog.text  # advises the ~2x faster ONNX export, once
        workers = multiprocessing.active_children()
        assert workers and all(worker.pid != psutil.Process().pid for worker in workers)

        zidane, bus = (cv2.imread(str(ultralytics_asset(name))) for name in ("zidane.jpg", "bus.jpg"))
        assert zidane is not None and bus is not None
        found = detector.detect([zidane, bus], min_confidence=0.25)
        assert [len(boxes) for boxes in found] == [2, 4]
        for box in found[1]:
            assert box.label in ("normal", "fall") and 0.25 <= box.confidence <= 1
            assert 0 <= box.x1 < box.x2 <= bus.shape[1] and 0 <= box.y1 < box.y2 <= bus.shape[0]
        best = max(found[0], key=lambda box: box.confidence)
        assert best.center[0] > zidane.shape[1] / 2  # Zidane is on the right

        # The worker dies (out of memory, killed): that call fails, a new worker takes over.
        [pid] = detector.worker_pids
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(ModelError, match="the ultralytics worker process died; starting a new one"):
            detector.detect([bus])
        assert [len(boxes) for boxes in detector.detect([bus, zidane], min_confidence=0.25)] == [4, 2]
        assert detector.worker_pids and detector.worker_pids != [pid]
        workers = multiprocessing.active_children()
    finally:
        detector.close()
    for worker in workers:
        worker.join(timeout=10)
        assert not worker.is_alive()


def test_auto_prefers_the_onnx_export_next_to_the_pt_on_a_cpu(
    person_model: Path, person_model_onnx: Path, tmp_path: Path
) -> None:
    model = tmp_path / "person.pt"
    model.symlink_to(person_model)
    (tmp_path / "person_320.onnx").symlink_to(person_model_onnx)
    detector = load_detector(model, imgsz=320)
    assert isinstance(detector, OnnxDetector)
    assert detector.info.path == tmp_path / "person_320.onnx"
    assert detector.info.backend == "onnxruntime"
    # Another size has no export next to it: only that one would go to ultralytics.
    assert not (tmp_path / "person_640.onnx").exists()


def test_a_pt_that_is_not_a_detection_model(tmp_path: Path) -> None:
    classifier = tmp_path / "classifier.pt"
    script = (
        "from integrations.detection.runtime_env import prepare_ultralytics; prepare_ultralytics(); "
        "from ultralytics import YOLO; import sys; YOLO('yolov8n-cls.yaml').save(sys.argv[1])"
    )
    subprocess.run([sys.executable, "-c", script, str(classifier)], check=True, timeout=120, capture_output=True)
    with pytest.raises(ModelError) as caught:
        load_detector(classifier, backend="ultralytics")
    assert str(caught.value) == f"model {classifier}: not an ultralytics detection model (task 'classify')"
