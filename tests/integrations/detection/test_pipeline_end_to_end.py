"""The issue's main acceptance test: a real hub plays the people video through a ``cameras`` file camera; a
``detection`` entry runs the shipped person model (exported to ONNX) on it. Two people walk into view (the
zidane scene): ``detection`` start events for ``person`` come on the bus with a confidence and a snapshot, the
count sensor reaches 2, the ``person_after_hours`` blueprint's automation fires, and when they leave the events
end with a duration and a top confidence, a row in the store, the snapshot JPEG and the clip in the media folder.
The ``.pt`` path through ultralytics is in ``test_pipeline_ultralytics.py``."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import yaml
from PIL import Image

from hub.core import Event, Hub
from hub.detection import EVENT_DETECTION
from hub.tenants import Tenant
from hub.testing import HubFactory, wait_for
from integrations.detection.runtime import runtime_of

CONFIG = {"detection": {"clips": {"pre_roll": 1, "post_roll": 1}, "threads": 2}}


async def start_camera(hub: Hub, tenant: Tenant, video: Path) -> str:
    entry = await hub.config_entries.add(
        "cameras", {"connection_type": "file", "path": str(video)}, tenant_id=tenant.id, title="Gate"
    )
    assert entry.state == "loaded", entry.reason
    camera: str = entry.runtime_data.entity_id
    return camera


def detection_entry(camera: str, model: Path, **extra: Any) -> dict[str, Any]:
    return {
        "camera": camera,
        "model": str(model),
        "imgsz": 320,
        "fps": 5,
        "labels": ["person"],
        "label_map": {"normal": "person", "fall": "person"},
        "min_confidence": 0.3,
        **extra,
    }


def follow(hub: Hub, entity_id: str) -> list[str]:
    """The states ``entity_id`` takes from now on."""
    states: list[str] = []
    hub.bus.listen(
        "state_changed",
        lambda event: states.append(event.data["new_state"].state),
        lambda event: event.data["entity_id"] == entity_id and event.data["new_state"] is not None,
    )
    return states


def record(hub: Hub, event_type: str) -> list[Event[Any]]:
    events: list[Event[Any]] = []
    hub.bus.listen(event_type, events.append)
    return events


async def test_people_walking_past_a_file_camera_become_detection_events_with_media(
    hub_factory: HubFactory, person_model_onnx: Path, people_video: Path
) -> None:
    hub = await hub_factory(config=CONFIG)
    tenant = await hub.tenants.create("acme", "Acme Security")
    camera = await start_camera(hub, tenant, people_video)
    (hub.config_dir / "automations.yaml").write_text(
        yaml.safe_dump(
            [
                {
                    "id": "after_hours",
                    "tenant": "acme",
                    "use_blueprint": {
                        "path": "gatehouse/person_after_hours.yaml",
                        "input": {"camera": camera, "hours_end": "00:00", "hours_start": "23:59:59"},
                    },
                }
            ]
        ),
        encoding="utf-8",
    )
    assert await hub.automations.reload() == []
    detections = record(hub, EVENT_DETECTION)
    counts = follow(hub, "sensor.gate_person_count")
    detected = follow(hub, "binary_sensor.gate_person_detected")

    entry = await hub.config_entries.add("detection", detection_entry(camera, person_model_onnx), tenant_id=tenant.id)
    assert entry.state == "loaded", entry.reason
    assert counts == ["0"] and detected == ["off"]

    def of_type(kind: str) -> list[dict[str, Any]]:
        return [event.data for event in detections if event.data["type"] == kind]

    # The zidane scene: people on screen from second 2 to 5 of the video; their events end 2 s after they left.
    await wait_for(lambda: bool(of_type("start")), timeout=20)
    start = max(of_type("start"), key=lambda data: data["confidence"])  # the clearer of the two people
    assert start["camera"] == camera and start["label"] == "person" and start["zones"] == [] and start["track_id"]
    assert 0.3 <= start["confidence"] <= 1.0 and start["end"] is None
    assert start["snapshot"] == f"/api/detection/events/{start['event_id']}/snapshot.jpg"
    assert hub.states.get("binary_sensor.gate_person_detected").state == "on"  # type: ignore[union-attr]

    await wait_for(lambda: any(data["event_id"] == start["event_id"] for data in of_type("end")), timeout=20)
    end = next(data for data in of_type("end") if data["event_id"] == start["event_id"])
    assert end["reason"] == "lost" and end["end"] is not None
    assert 1.0 < end["duration"] < 4.0  # on screen for 3 s, confirmed after two sightings
    assert end["confidence"] == end["top_confidence"] >= start["confidence"]
    assert all(event.tenant_id == tenant.id for event in detections)

    # The store row, the snapshot on disk (box drawn, full resolution), then the clip after its post-roll.
    runtime = runtime_of(hub)
    row = await runtime.store.get(end["event_id"])
    assert row is not None and row.camera == camera and row.label == "person" and row.end is not None
    assert row.top_confidence == end["top_confidence"] and row.snapshot_key and row.clean_key
    assert row.end_reason == "lost" and row.media_error is None
    snapshot = hub.config_dir / "media" / row.snapshot_key
    assert snapshot.is_relative_to(hub.config_dir / "media" / tenant.id / "gate")
    with Image.open(io.BytesIO(snapshot.read_bytes())) as image:
        assert image.format == "JPEG" and image.size == (1280, 720)
    clip = await poll(lambda: runtime.store.get(end["event_id"]), lambda fresh: bool(fresh and fresh.clip_key))
    assert (hub.config_dir / "media" / clip.clip_key).read_bytes()[4:8] == b"ftyp"  # an MP4

    # Two people in view at once (the model sees both in zidane.jpg, and more in bus.jpg right after).
    await wait_for(lambda: max(int(count) for count in counts) >= 2, timeout=15)
    assert "on" in detected and detected[-1] in ("on", "off")

    # The automation from the blueprint heard the start and notified the tenant.
    await wait_for(lambda: bool(hub.notifications.all(tenant.id)), timeout=5)
    assert hub.notifications.all(tenant.id)[0].title == "Person after hours"

    # The figures, refreshed every few seconds on the sensors and read by the system page.
    for sensor, unit in (("camera_fps", "fps"), ("detection_fps", "fps"), ("inference_ms", "ms")):
        state = hub.states.get(f"sensor.gate_{sensor}")
        assert state is not None and state.attributes["unit_of_measurement"] == unit
        assert float(state.state) > 0, sensor
    stats = runtime.camera_stats()[camera]
    assert stats["backend"] == "onnxruntime" and stats["detected"] > 0 and stats["skipped"] > 0


async def poll(read: Callable[[], Awaitable[Any]], done: Callable[[Any], bool], timeout: float = 10.0) -> Any:
    """Read until ``done`` says yes (a value written by a background task); fail after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not done(value := await read()):
        assert loop.time() < deadline, f"not done within {timeout} s: {value!r}"
        await asyncio.sleep(0.1)
    return value
