"""A camera that goes away mid-event: the open event ends cleanly (reason ``camera_gone``) in the store and on the
bus, the detected sensor turns off, the detection's health says why; when the camera's entry is set up again the
pipeline picks the new camera entity up by itself and detects again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.detection import EVENT_DETECTION
from hub.testing import HubFactory, wait_for
from integrations.detection.runtime import runtime_of

from .test_pipeline_end_to_end import CONFIG, detection_entry, record


async def test_an_event_ends_with_camera_gone_when_the_camera_entry_goes(
    hub_factory: HubFactory, person_model_onnx: Path, people_video: Path
) -> None:
    hub = await hub_factory(config=CONFIG)
    tenant = await hub.tenants.create("acme", "Acme Security")
    camera_entry = await hub.config_entries.add(
        "cameras", {"connection_type": "file", "path": str(people_video)}, tenant_id=tenant.id, title="Gate"
    )
    detections = record(hub, EVENT_DETECTION)
    entry = await hub.config_entries.add(
        "detection", detection_entry("camera.gate", person_model_onnx), tenant_id=tenant.id
    )
    assert entry.state == "loaded", entry.reason

    def of_type(kind: str) -> list[dict[str, Any]]:
        return [event.data for event in detections if event.data["type"] == kind]

    await wait_for(lambda: bool(of_type("start")), timeout=20)

    # The camera's entry unloads mid-event (a reconfiguration): the events end now, not 2 s later.
    await hub.config_entries.unload(camera_entry.entry_id)
    await wait_for(lambda: runtime_of(hub).camera_stats()["camera.gate"]["state"] == "waiting", timeout=5)
    await wait_for(lambda: len(of_type("end")) == len(of_type("start")), timeout=5)
    first, ends = of_type("start"), of_type("end")
    assert {end["event_id"] for end in ends} == {start["event_id"] for start in first}
    assert all(end["reason"] == "camera_gone" and end["duration"] >= 0 for end in ends)
    confidence_at_start = {start["event_id"]: start["confidence"] for start in first}
    assert all(end["top_confidence"] >= confidence_at_start[end["event_id"]] for end in ends)
    row = await runtime_of(hub).store.get(first[0]["event_id"])
    assert row is not None and row.end_reason == "camera_gone" and row.end is not None and row.snapshot_key
    assert hub.states.get("binary_sensor.gate_person_detected").state == "off"  # type: ignore[union-attr]
    health = hub.states.get("sensor.detection_gate_health")
    assert health is not None and health.state == "offline" and "camera.gate" in health.attributes["last_error"]
    assert entry.state == "loaded"  # the detection entry itself is fine: it waits for its camera

    # The camera comes back (same entity id, a new entity object): detection resumes on its own.
    assert await hub.config_entries.setup(camera_entry.entry_id)
    await wait_for(lambda: len(of_type("start")) > len(first), timeout=20)
    second = of_type("start")[len(first) :]
    assert second[0]["camera"] == "camera.gate" and second[0]["event_id"] not in {e["event_id"] for e in first}
    assert runtime_of(hub).camera_stats()["camera.gate"]["state"] == "running"

    # Removed for good, mid-event: the same clean end.
    await hub.config_entries.remove(camera_entry.entry_id)
    await wait_for(lambda: len(of_type("end")) >= len(first) + len(second), timeout=5)
    later = of_type("end")[len(first) :]
    assert {end["event_id"] for end in later} >= {start["event_id"] for start in second}
    assert all(end["reason"] == "camera_gone" for end in later)
    assert runtime_of(hub).camera_stats()["camera.gate"]["state"] == "waiting"
