"""A full media store (here the local store's quota; a full disk reads the same): events are still detected,
fired and stored, without media and with the reason in ``media_error``, and the camera's detection health turns
``poor`` with that reason (one ``device_health_changed`` event, logged once)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from hub.detection import EVENT_DETECTION
from hub.device_health import EVENT_DEVICE_HEALTH_CHANGED
from hub.testing import HubFactory, wait_for
from integrations.detection.runtime import runtime_of

from .test_pipeline_end_to_end import detection_entry, record, start_camera


async def test_a_full_media_store_keeps_events_without_media_and_warns(
    hub_factory: HubFactory, person_model_onnx: Path, people_video: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hub = await hub_factory(config={"detection": {"media": {"path": "media", "max_bytes": 1000}}})
    tenant = await hub.tenants.create("acme", "Acme Security")
    camera = await start_camera(hub, tenant, people_video)
    detections = record(hub, EVENT_DETECTION)
    health_changes = record(hub, EVENT_DEVICE_HEALTH_CHANGED)
    entry = await hub.config_entries.add(
        "detection", detection_entry(camera, person_model_onnx, clips=False), tenant_id=tenant.id
    )
    assert entry.state == "loaded", entry.reason

    def of_type(kind: str) -> list[dict[str, Any]]:
        return [event.data for event in detections if event.data["type"] == kind]

    with caplog.at_level(logging.WARNING, logger="integrations.detection"):
        await wait_for(lambda: bool(of_type("end")), timeout=25)
    start, end = of_type("start")[0], of_type("end")[0]
    assert "snapshot" not in start and "snapshot" not in end  # no URL to a file that is not there
    assert end["label"] == "person" and end["duration"] > 0

    row = await runtime_of(hub).store.get(end["event_id"])
    assert row is not None and row.end is not None and row.top_confidence == end["top_confidence"]
    assert row.snapshot_key is None and row.clean_key is None
    assert row.media_error is not None and row.media_error.startswith("media store full")
    assert not list((hub.config_dir / "media").rglob("*.jpg"))

    health = hub.states.get("sensor.detection_gate_health")
    assert health is not None and health.state == "poor"
    assert health.attributes["last_error"].startswith("media store full")
    poor = [event.data for event in health_changes if event.data["new_level"] == "poor"]
    assert len(poor) == 1 and poor[0]["device_key"] == "detection_gate"
    assert len([record for record in caplog.records if "media not written" in record.getMessage()]) == 1
