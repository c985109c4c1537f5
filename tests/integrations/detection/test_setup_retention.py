"""The runtime's hourly retention job: media older than ``retention.days`` leave the media folder and their keys
leave the event rows (the API then answers 404, not a broken file); newer media stay. And a restart closes the
rows a crash left open."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from hub.testing import HubFactory
from integrations.detection.boxes import Box
from integrations.detection.event import TrackedEvent
from integrations.detection.media_store import media_key
from integrations.detection.runtime import runtime_of

DAY = 86400.0


def tracked(start: float, *, ended: bool = True) -> TrackedEvent:
    box = Box(100, 100, 300, 600, "person", 0.8)
    return TrackedEvent(
        event_id=uuid.uuid4().hex,
        camera="camera.gate",
        tenant_id=None,
        label="person",
        track_id="7",
        start=start,
        last_seen=start + 3,
        end=start + 3 if ended else None,
        confidence=0.8,
        top_confidence=0.8,
        box=box,
        zones=[],
        entered_zones=[],
        best_box=box,
        best_frame=None,
        best_time=start + 1,
    )


async def test_retention_deletes_old_media_and_forgets_their_keys(hub_factory: HubFactory) -> None:
    hub = await hub_factory(config={"detection": {"retention": {"days": 2, "max_size_gb": None}}})
    runtime = runtime_of(hub)
    rows = {}
    for age in (5 * DAY, 60.0):
        event = tracked(time.time() - age)
        keys = {
            kind: media_key(None, event.camera, event.event_id, kind, event.start) for kind in ("snapshot", "clean")
        }
        for key in keys.values():
            await runtime.media.put(key, b"\xff\xd8 jpeg " + key.encode(), "image/jpeg")
            path = hub.config_dir / "media" / key
            os.utime(path, (event.start + 3, event.start + 3))
        await runtime.store.started(event)
        await runtime.store.ended(
            event,
            snapshot_key=keys["snapshot"],
            clean_key=keys["clean"],
            clip_key=None,
            media_error=None,
            reason="lost",
        )
        rows[age] = (event.event_id, keys)

    result = await runtime.apply_retention()

    old_id, old_keys = rows[5 * DAY]
    new_id, new_keys = rows[60.0]
    assert sorted(result.deleted_keys) == sorted(old_keys.values())
    assert not (hub.config_dir / "media" / old_keys["snapshot"]).exists()
    old_row, new_row = await runtime.store.get(old_id), await runtime.store.get(new_id)
    assert old_row is not None and old_row.snapshot_key is None and old_row.clean_key is None
    assert new_row is not None and new_row.snapshot_key == new_keys["snapshot"]
    assert (hub.config_dir / "media" / new_keys["snapshot"]).is_file()
    assert runtime.last_retention is result


async def test_a_restart_closes_the_rows_a_crash_left_open(hub_factory: HubFactory, tmp_path: Path) -> None:
    hub = await hub_factory(config={"detection": {}}, config_dir=tmp_path / "config")
    event = tracked(time.time() - 30, ended=False)
    await runtime_of(hub).store.started(event)  # open when the process died
    await hub.stop()

    again = await hub_factory(config={"detection": {}}, config_dir=tmp_path / "config")

    row = await runtime_of(again).store.get(event.event_id)
    assert row is not None and row.end == event.last_seen and row.end_reason == "restart"
