"""``gatehouse detection export`` and ``info`` end to end: the installed command, the real model, offline."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from hub.cli import main
from hub.testing.detection import ultralytics_asset
from integrations.detection.model import load_detector

GATEHOUSE = Path(sys.executable).with_name("gatehouse")


def _gatehouse(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "YOLO_CONFIG_DIR": str(cwd / "ultralytics-settings")}
    return subprocess.run(
        [str(GATEHOUSE), *map(str, args)], capture_output=True, text=True, timeout=180, cwd=cwd, env=env
    )


def test_export_writes_the_onnx_next_to_the_model_and_auto_uses_it(person_model: Path, tmp_path: Path) -> None:
    model = tmp_path / "models" / "person.pt"
    model.parent.mkdir()
    shutil.copyfile(person_model, model)
    (tmp_path / "models" / "person.onnx").write_bytes(b"the user's own file")  # must survive the export

    result = _gatehouse("detection", "export", model, "--imgsz", "320", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    exported = tmp_path / "models" / "person_320.onnx"
    assert f"wrote {exported}" in result.stdout
    assert (tmp_path / "models" / "person.onnx").read_bytes() == b"the user's own file"
    assert sorted(path.name for path in model.parent.iterdir()) == ["person.onnx", "person.pt", "person_320.onnx"]

    detector = load_detector(exported, imgsz=640)  # dynamic batch and size: it runs at 640 too
    bus = cv2.imread(str(ultralytics_asset("bus.jpg")))
    assert bus is not None
    assert len(detector.detect([bus, bus], 0.25)[1]) == 4

    info = _gatehouse("detection", "info", model, "--json", cwd=tmp_path)  # the .pt: auto picks the export
    assert info.returncode == 0, info.stdout + info.stderr
    assert json.loads(info.stdout.strip().splitlines()[-1]) == {
        "path": str(exported),
        "backend": "onnxruntime",
        "device": "cpu",
        "imgsz": 320,
        "labels": ["normal", "fall"],
    }


def test_export_and_info_errors_name_the_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detection", "export", str(tmp_path / "nothing.pt")]) == 1
    assert f"error: model {tmp_path / 'nothing.pt'}: file not found" in capsys.readouterr().out

    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"\x08\x07" * 100)
    assert main(["detection", "info", str(corrupt)]) == 1
    assert f"error: model {corrupt}: unreadable (" in capsys.readouterr().out


def test_info_prints_what_the_model_is(person_model_onnx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detection", "info", str(person_model_onnx), "--imgsz", "640"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-5:] == [
        f"model:   {person_model_onnx}",
        "backend: onnxruntime",
        "device:  cpu",
        "imgsz:   640",
        "labels:  normal, fall",
    ]
