"""Unusable model files give a ModelError naming the file and what is wrong; nothing crashes, nothing downloads."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from integrations.detection.export import export_onnx
from integrations.detection.model import ModelError, check_model_file, load_detector, onnx_export_path


def _error(path: Path, **kwargs: object) -> str:
    with pytest.raises(ModelError) as caught:
        load_detector(path, **kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    assert message.startswith(f"model {path}"), message
    return message


def test_missing_file(tmp_path: Path) -> None:
    assert _error(tmp_path / "person.onnx").endswith(": file not found")
    assert _error(tmp_path / "person.pt").endswith(": file not found")


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "models.onnx"
    folder.mkdir()
    assert "is a directory" in _error(folder)


def test_empty_file(tmp_path: Path) -> None:
    for name in ("empty.onnx", "empty.pt"):
        (tmp_path / name).write_bytes(b"")
        assert _error(tmp_path / name).endswith("unreadable (empty file)")


def test_unknown_extension(tmp_path: Path) -> None:
    model = tmp_path / "person.tflite"
    model.write_bytes(b"\x00" * 64)
    assert "not an ONNX or ultralytics model (unknown extension '.tflite')" in _error(model)


def test_truncated_onnx(person_model_onnx: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "person.onnx"
    truncated.write_bytes(person_model_onnx.read_bytes()[:500_000])
    message = _error(truncated)
    assert "unreadable (" in message and "Protobuf" in message


def test_garbage_onnx_and_pt(tmp_path: Path) -> None:
    for name in ("garbage.onnx", "garbage.pt"):
        (tmp_path / name).write_bytes(b"this is not a model, just some text\n" * 4)
        assert "unreadable" in _error(tmp_path / name)


def test_truncated_pt_is_caught_before_any_worker_starts(person_model: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "person.pt"
    truncated.write_bytes(person_model.read_bytes()[:2_000_000])
    assert _error(truncated, backend="ultralytics").endswith("(not a PyTorch checkpoint: truncated or corrupt)")
    other_zip = tmp_path / "photos.pt"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("photo.jpg", b"\xff\xd8")
    assert "not a PyTorch checkpoint" in _error(other_zip)


def test_onnx_that_is_not_a_yolo_detector(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    image = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 64, 64])
    same = helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 3, 64, 64])
    graph = helper.make_graph([helper.make_node("Identity", ["images"], ["output0"])], "identity", [image], [same])
    model = tmp_path / "identity.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9), model)
    assert "not a YOLO detection model (output shape [1, 3, 64, 64])" in _error(model)


def test_backend_and_file_must_agree(person_model: Path, person_model_onnx: Path) -> None:
    assert "the onnxruntime backend runs .onnx files" in _error(person_model, backend="onnxruntime")
    assert "the ultralytics backend runs .pt files" in _error(person_model_onnx, backend="ultralytics")
    assert "unknown backend 'tensorrt'" in _error(person_model_onnx, backend="tensorrt")
    assert "imgsz must be a positive multiple of 32, got 300" in _error(person_model_onnx, imgsz=300)


def test_export_refuses_what_it_cannot_export(person_model_onnx: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="file not found"):
        export_onnx(tmp_path / "missing.pt")
    with pytest.raises(ModelError, match=r"only ultralytics \.pt models can be exported"):
        export_onnx(person_model_onnx)


def test_check_model_file_accepts_the_real_models(person_model: Path, person_model_onnx: Path) -> None:
    assert check_model_file(person_model) == person_model.absolute()
    assert check_model_file(person_model_onnx) == person_model_onnx.absolute()
    assert onnx_export_path(Path("/m/person.pt"), 416) == Path("/m/person_416.onnx")
