"""Setting up a camera's detection, and every way it can be refused: a missing or corrupt model (the entry fails
naming the file, the camera keeps streaming to everyone else), bad zones and fields (refused by the schema with
the field and the reason), a camera of another tenant, a camera whose entry is not loaded yet (retried), a camera
that already has detection. The hub-wide ``detection:`` section configures the media store and is checked too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.config import validate_configuration
from hub.config_entries import InvalidConfigEntry
from hub.core import Hub
from hub.tenants import Tenant
from hub.testing import HubFactory, wait_for
from integrations.detection.runtime import runtime_of


async def add_camera(hub: Hub, tenant: Tenant, video: Path, title: str = "Gate") -> str:
    entry = await hub.config_entries.add(
        "cameras", {"connection_type": "file", "path": str(video)}, tenant_id=tenant.id, title=title
    )
    assert entry.state == "loaded", entry.reason
    camera: str = entry.runtime_data.entity_id
    return camera


def entry_data(camera: str, model: Path | str, **extra: Any) -> dict[str, Any]:
    return {"camera": camera, "model": str(model), "labels": ["person"], "label_map": {"normal": "person"}, **extra}


async def test_a_missing_model_fails_naming_the_file_and_the_camera_keeps_streaming(
    hub: Hub, tenant: Tenant, people_video: Path
) -> None:
    camera_id = await add_camera(hub, tenant, people_video)
    camera = hub.entities.entity(camera_id)
    assert camera is not None
    async with hub.streams.frames(camera, fps=5) as frames:  # type: ignore[arg-type]
        await anext(frames)
        missing = hub.config_dir / "models" / "person_320.onnx"
        entry = await hub.config_entries.add(
            "detection", entry_data(camera_id, "models/person_320.onnx"), tenant_id=tenant.id
        )

        assert entry.state == "setup_error"
        assert str(missing) in (entry.reason or "") and "not found" in (entry.reason or "")
        frame = await anext(frames)  # the other consumer still gets frames
        assert frame.width == 1280
        assert hub.states.get(camera_id).state == "streaming"  # type: ignore[union-attr]
    health = hub.states.get("sensor.detection_gate_health")
    assert health is not None and health.state == "offline" and str(missing) in health.attributes["last_error"]
    assert hub.states.get("sensor.gate_person_count") is None
    assert runtime_of(hub).cameras == {}

    await hub.config_entries.remove(entry.entry_id)
    assert hub.states.get("sensor.detection_gate_health") is None


async def test_a_corrupt_model_fails_naming_the_file(hub: Hub, tenant: Tenant, people_video: Path) -> None:
    camera_id = await add_camera(hub, tenant, people_video)
    corrupt = hub.config_dir / "broken.onnx"
    corrupt.write_bytes(b"this is not a model, just some bytes that happen to end in .onnx" * 4)

    entry = await hub.config_entries.add("detection", entry_data(camera_id, corrupt), tenant_id=tenant.id)

    assert entry.state == "setup_error"
    assert str(corrupt) in (entry.reason or "")
    assert hub.states.get(camera_id).state != "unavailable"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("zones", "field", "reason"),
    [
        ([{"name": "door", "polygon": [[0, 0], [10, 0]]}], "zones[0].polygon", "at least 3 points"),
        ([{"name": "bow", "polygon": [[0, 0], [10, 10], [10, 0], [0, 10]]}], "zones[0].polygon", "intersect"),
        (
            [{"name": "a", "polygon": [[0, 0], [9, 0], [9, 9]]}, {"name": "a", "polygon": [[0, 0], [5, 0], [5, 5]]}],
            "zones[1].name",
            "duplicate",
        ),
        ([{"name": "neg", "polygon": [[0, 0], [-5, 0], [9, 9]]}], "zones[0].polygon", "negative"),
    ],
)
async def test_invalid_zones_are_refused_with_the_reason(
    hub: Hub, tenant: Tenant, zones: list[dict[str, Any]], field: str, reason: str
) -> None:
    with pytest.raises(InvalidConfigEntry) as refused:
        await hub.config_entries.add("detection", entry_data("camera.gate", "m.onnx", zones=zones), tenant_id=tenant.id)
    assert list(refused.value.fields) == [field]
    assert reason in refused.value.fields[field]
    assert hub.config_entries.all("detection") == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"camera": "lock.front_door"}, "camera"),
        ({"imgsz": 300}, "imgsz"),
        ({"backend": "tensorrt"}, "backend"),
        ({"min_confidence": 1.5}, "min_confidence"),
        ({"fps": 0}, "fps"),
        ({"motion": {"threshold": 0}}, "motion.threshold"),
        ({"label_map": ["normal", "person"]}, "label_map"),
    ],
)
async def test_bad_fields_are_refused_by_name(hub: Hub, tenant: Tenant, change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidConfigEntry) as refused:
        await hub.config_entries.add(
            "detection", {**entry_data("camera.gate", "m.onnx"), **change}, tenant_id=tenant.id
        )
    assert field in refused.value.fields


async def test_the_schema_fills_the_defaults_and_normalises(hub: Hub, tenant: Tenant) -> None:
    entry = await hub.config_entries.add(
        "detection",
        {
            "camera": "camera.Gate",
            "model": "m.onnx",
            "labels": "Person",
            "label_map": {"Normal": "PERSON"},
            "motion": True,
            "zones": [{"name": " door ", "polygon": [[0, 400], [640, 400], [640, 720], [0, 720]]}],
        },
        tenant_id=tenant.id,
        setup=False,
    )
    assert entry.data == {
        "camera": "camera.gate",
        "model": "m.onnx",
        "imgsz": 320,
        "backend": "auto",
        "labels": ["person"],
        "label_map": {"normal": "person"},
        "min_confidence": 0.5,
        "fps": 5.0,
        "motion": {"threshold": 0.02, "min_area": 0.002},
        "zones": [{"name": "door", "polygon": [[0, 400], [640, 400], [640, 720], [0, 720]], "kind": "include"}],
        "snapshots": True,
        "clips": True,
    }
    off = await hub.config_entries.add(
        "detection", {"camera": "camera.gate", "model": "m.onnx", "motion": False}, tenant_id=tenant.id, setup=False
    )
    assert off.data["motion"] is False


async def test_a_camera_of_another_tenant_is_not_found(
    hub: Hub, tenant: Tenant, people_video: Path, person_model_onnx: Path
) -> None:
    camera_id = await add_camera(hub, tenant, people_video)
    other = await hub.tenants.create("other", "Other Guards")

    entry = await hub.config_entries.add("detection", entry_data(camera_id, person_model_onnx), tenant_id=other.id)
    assert entry.state == "setup_error" and "no such camera for this tenant" in (entry.reason or "")
    unknown = await hub.config_entries.add(
        "detection", entry_data("camera.nowhere", person_model_onnx), tenant_id=tenant.id
    )
    assert unknown.state == "setup_error" and "camera.nowhere" in (unknown.reason or "")


async def test_a_camera_whose_entry_is_not_loaded_is_retried(
    hub: Hub, tenant: Tenant, people_video: Path, person_model_onnx: Path
) -> None:
    camera_id = await add_camera(hub, tenant, people_video)
    (camera_entry,) = hub.config_entries.all("cameras")
    await hub.config_entries.unload(camera_entry.entry_id)

    entry = await hub.config_entries.add("detection", entry_data(camera_id, person_model_onnx), tenant_id=tenant.id)
    assert entry.state == "setup_retry" and "not loaded yet" in (entry.reason or "")

    assert await hub.config_entries.setup(camera_entry.entry_id)
    assert await hub.config_entries.setup(entry.entry_id)  # what the retry timer does
    assert hub.states.get("sensor.gate_person_count") is not None


async def test_one_camera_one_detection_and_unloading_frees_everything(
    hub: Hub, tenant: Tenant, people_video: Path, person_model_onnx: Path
) -> None:
    camera_id = await add_camera(hub, tenant, people_video)
    entry = await hub.config_entries.add("detection", entry_data(camera_id, person_model_onnx), tenant_id=tenant.id)
    assert entry.state == "loaded", entry.reason
    runtime = runtime_of(hub)
    assert list(runtime.cameras) == [camera_id] and len(runtime.pools.pools()) == 1
    for entity_id in (
        "sensor.gate_person_count",
        "binary_sensor.gate_person_detected",
        "sensor.gate_camera_fps",
        "sensor.gate_detection_fps",
        "sensor.gate_skipped_fps",
        "sensor.gate_inference_ms",
    ):
        state = hub.states.get(entity_id)
        assert state is not None and state.tenant_id == tenant.id, entity_id

    second = await hub.config_entries.add("detection", entry_data(camera_id, person_model_onnx), tenant_id=tenant.id)
    assert second.state == "setup_error" and "already has object detection" in (second.reason or "")

    await hub.config_entries.remove(entry.entry_id)
    assert runtime.cameras == {} and runtime.pools.pools() == []
    assert hub.states.get("sensor.gate_person_count") is None
    assert hub.states.get("sensor.detection_gate_health") is None
    await wait_for(lambda: hub.states.get(camera_id).state == "streaming")  # type: ignore[union-attr]


async def test_the_yaml_section_configures_the_media_store(hub_factory: HubFactory) -> None:
    hub = await hub_factory(
        config={"detection": {"media": {"path": "elsewhere"}, "retention": {"days": 2}, "max_batch": 2}}
    )
    runtime = runtime_of(hub)
    assert runtime.media.describe() == f"local folder {hub.config_dir / 'elsewhere'}"
    assert runtime.config["retention"] == {"days": 2.0, "max_size_gb": 20.0}
    assert runtime.pools.max_batch == 2 and runtime.started
    assert "detection media retention" in hub.scheduler.jobs

    _, problems = validate_configuration(
        {"detection": {"max_batch": 0, "clips": {"pre_roll": -1}}}, hub.plugins.integrations
    )
    assert sorted(problem.key for problem in problems) == ["detection.clips.pre_roll", "detection.max_batch"]


async def test_without_a_yaml_section_the_defaults_apply(hub: Hub) -> None:
    runtime = runtime_of(hub)
    assert runtime.media.describe() == f"local folder {hub.config_dir / 'media'}"
    assert runtime.config["retention"] == {"days": 14.0, "max_size_gb": 20.0}
    assert runtime.camera_stats() == {}


async def test_after_a_restart_detection_waits_for_its_camera_and_runs(
    hub_factory: HubFactory, tmp_path: Path, people_video: Path, person_model_onnx: Path
) -> None:
    hub = await hub_factory(config_dir=tmp_path / "config")
    tenant = await hub.tenants.create("acme", "Acme Security")
    camera_id = await add_camera(hub, tenant, people_video)
    await hub.config_entries.add("detection", entry_data(camera_id, person_model_onnx), tenant_id=tenant.id)
    await hub.stop()

    again = await hub_factory(config_dir=tmp_path / "config")  # both stored entries set up together

    (entry,) = again.config_entries.all("detection")
    assert entry.state == "loaded", entry.reason
    await wait_for(lambda: runtime_of(again).camera_stats()[camera_id]["state"] == "running")
