"""The per-camera detection entities on a real hub: ids from the camera's object id, the camera device's tenant,
states written only when they change, statistics with units and attributes, unavailable while the camera is."""

from __future__ import annotations

from typing import Any

from hub.core import Hub
from hub.tenants import Tenant
from integrations.detection.entities import CameraEntities, camera_display_name


async def entities_for(hub: Hub, tenant: Tenant) -> CameraEntities:
    entry = await hub.config_entries.add(
        "detection", {"camera": "camera.front_gate", "model": "m.onnx"}, tenant_id=tenant.id, setup=False
    )
    await hub.devices.claim(tenant.id, "Bench", "CAM-1", "Front gate camera")
    device = await hub.devices.connected("Bench", "CAM-1")
    return CameraEntities(hub, entry, "camera.front_gate", "Front Gate", device)


def changes(hub: Hub, entity_id: str) -> list[Any]:
    seen: list[Any] = []
    hub.bus.listen(
        "state_changed",
        lambda event: seen.append(event.data["new_state"].state),
        lambda event: event.data["entity_id"] == entity_id and event.data["new_state"] is not None,
    )
    return seen


async def test_label_entities_count_and_flag(hub: Hub, tenant: Tenant) -> None:
    entities = await entities_for(hub, tenant)
    await entities.ensure("person")
    await entities.ensure("person")  # once only
    count = hub.states.get("sensor.front_gate_person_count")
    detected = hub.states.get("binary_sensor.front_gate_person_detected")
    assert count is not None and count.state == "0" and count.tenant_id == tenant.id
    assert count.attributes["friendly_name"] == "Front Gate person count"
    assert count.attributes["camera"] == "camera.front_gate" and count.attributes["label"] == "person"
    assert detected is not None and detected.state == "off" and detected.attributes["device_class"] == "occupancy"

    counted = changes(hub, "sensor.front_gate_person_count")
    flagged = changes(hub, "binary_sensor.front_gate_person_detected")
    for frame in ({"person": 1}, {"person": 1}, {"person": 2, "car": 1}, {}, {}):
        entities.set_counts(frame)
    for open_events in ({"person": 1}, {"person": 1}, {"person": 2}, {}):
        entities.set_open_events(open_events)
    assert counted == ["1", "2", "0"]  # unchanged frames write nothing
    assert flagged == ["on", "on", "off"]  # the second "on" carries events: 2
    assert hub.states.get("sensor.front_gate_car_count") is None  # only labels that were ensured


async def test_statistics_sensors(hub: Hub, tenant: Tenant) -> None:
    entities = await entities_for(hub, tenant)
    await entities.add_stats()
    ids = [
        "sensor.front_gate_camera_fps",
        "sensor.front_gate_detection_fps",
        "sensor.front_gate_skipped_fps",
        "sensor.front_gate_inference_ms",
    ]
    assert all(hub.states.get(entity_id).state == "unknown" for entity_id in ids)  # type: ignore[union-attr]

    entities.set_stats(
        {"camera_fps": 9.96, "detection_fps": 4.04, "skipped_fps": 0.0, "inference_ms": 38.44},
        {"detection_fps": {"dropped": 3, "dropped_fps": 0.2}, "inference_ms": {"backend": "onnxruntime"}},
    )
    camera_fps = hub.states.get("sensor.front_gate_camera_fps")
    inference = hub.states.get("sensor.front_gate_inference_ms")
    assert (
        camera_fps is not None and camera_fps.state == "10.0" and camera_fps.attributes["unit_of_measurement"] == "fps"
    )
    assert inference is not None and inference.state == "38.4" and inference.attributes["unit_of_measurement"] == "ms"
    assert inference.attributes["backend"] == "onnxruntime" and inference.attributes["state_class"] == "measurement"
    assert hub.states.get("sensor.front_gate_detection_fps").attributes["dropped"] == 3  # type: ignore[union-attr]

    entities.set_available(False)
    assert all(hub.states.get(entity_id).state == "unavailable" for entity_id in ids)  # type: ignore[union-attr]
    entities.set_available(True)
    assert hub.states.get("sensor.front_gate_skipped_fps").state == "0.0"  # type: ignore[union-attr]


def test_names_follow_the_camera_object_id() -> None:
    assert camera_display_name("camera.front_gate", "Front Gate") == "Front Gate"
    assert camera_display_name("camera.gate_2", "Gate") == "gate_2"  # a second "Gate": ids stay gate_2_...
    assert camera_display_name("camera.lobby", None) == "lobby"
