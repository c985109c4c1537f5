"""The ``.pt`` model end to end: the same file camera and people video, the checkpoint run by ultralytics in the
pool's worker process (the path a GPU machine takes), kept short: the first person event is enough."""

from __future__ import annotations

from pathlib import Path

from hub.detection import EVENT_DETECTION
from hub.testing import HubFactory, wait_for
from integrations.detection.runtime import runtime_of

from .test_pipeline_end_to_end import CONFIG, detection_entry, record, start_camera


async def test_the_pt_model_runs_through_ultralytics_in_its_worker(
    hub_factory: HubFactory, person_model: Path, people_video: Path
) -> None:
    hub = await hub_factory(config=CONFIG)
    tenant = await hub.tenants.create("acme", "Acme Security")
    camera = await start_camera(hub, tenant, people_video)
    detections = record(hub, EVENT_DETECTION)

    data = detection_entry(camera, person_model, backend="ultralytics", clips=False)
    entry = await hub.config_entries.add("detection", data, tenant_id=tenant.id)
    assert entry.state == "loaded", entry.reason

    await wait_for(lambda: any(event.data["type"] == "start" for event in detections), timeout=30)
    start = next(event.data for event in detections if event.data["type"] == "start")
    assert start["label"] == "person" and start["confidence"] >= 0.3
    assert runtime_of(hub).camera_stats()[camera]["backend"] == "ultralytics"
