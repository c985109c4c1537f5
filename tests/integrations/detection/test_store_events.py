"""DetectionEventStore on SQLite and PostgreSQL: the lifecycle of a row (start, update, end, media later),
filters and paging, acknowledgement, statistics per camera/label/hour, retention and crash recovery."""

from __future__ import annotations

import uuid

import pytest

from hub.core import Hub
from hub.testing import HubFactory
from integrations.detection.boxes import Box
from integrations.detection.event import TrackedEvent
from integrations.detection.models import DetectionEventRow
from integrations.detection.store import DetectionEventStore, UnknownCursor

HOUR = 3600.0
#: A whole UTC hour (2026-11-01 00:00), so hour buckets are easy to read.
T0 = 1_793_491_200.0


def tracked(
    camera: str = "camera.gate",
    label: str = "person",
    *,
    tenant_id: str | None = None,
    start: float = T0,
    confidence: float = 0.8,
) -> TrackedEvent:
    box = Box(10, 20, 110, 220, label, confidence)
    return TrackedEvent(
        event_id=uuid.uuid4().hex,
        camera=camera,
        tenant_id=tenant_id,
        label=label,
        track_id="7",
        start=start,
        last_seen=start,
        end=None,
        confidence=confidence,
        top_confidence=confidence,
        box=box,
        zones=[],
        entered_zones=[],
        best_box=box,
        best_frame=None,
        best_time=start,
    )


@pytest.fixture
async def db_hub(database_url: str, hub_factory: HubFactory) -> Hub:
    """Set up after the database (so the hub stops before its database is dropped)."""
    return await hub_factory(database_url=database_url)


@pytest.fixture
def store(db_hub: Hub) -> DetectionEventStore:
    return DetectionEventStore(db_hub)


async def test_an_event_is_written_at_start_refreshed_and_closed_at_end(store: DetectionEventStore) -> None:
    event = tracked(confidence=0.61)
    await store.started(event)
    row = await store.get(event.event_id)
    assert row is not None
    assert (row.camera, row.label, row.track_id, row.start, row.end) == ("camera.gate", "person", "7", T0, None)
    assert row.top_confidence == pytest.approx(0.61)

    event.last_seen = T0 + 3
    event.top_confidence = 0.93
    event.entered_zones = ["door", "hall"]
    event.best_box = Box(12.04, 20, 130, 240, "person", 0.93)
    event.updates = 2
    await store.updated(event)
    row = await store.get(event.event_id)
    assert row is not None
    assert (row.zones, row.box, row.updates, row.duration) == (["door", "hall"], [12.0, 20.0, 130.0, 240.0], 2, 3.0)
    assert row.top_confidence == pytest.approx(0.93)

    event.end = event.last_seen = T0 + 4.5
    await store.ended(event, snapshot_key="_/gate/s.jpg", clean_key="_/gate/c.jpg", clip_key=None,
                      media_error=None, reason="lost")  # fmt: skip
    row = await store.get(event.event_id)
    assert row is not None
    assert (row.end, row.duration, row.end_reason) == (T0 + 4.5, 4.5, "lost")
    assert (row.snapshot_key, row.clean_key, row.clip_key) == ("_/gate/s.jpg", "_/gate/c.jpg", None)

    await store.media_ready(event.event_id, clip_key="_/gate/clip.mp4")
    row = await store.get(event.event_id)
    assert row is not None
    assert (row.snapshot_key, row.clip_key) == ("_/gate/s.jpg", "_/gate/clip.mp4")


async def test_an_end_without_a_start_row_still_records_the_event(store: DetectionEventStore) -> None:
    """A start whose write failed (database hiccup) must not lose the event: end inserts it."""
    event = tracked()
    event.end = T0 + 2
    await store.ended(event, snapshot_key=None, clean_key=None, clip_key=None, media_error="media store full: disk")
    row = await store.get(event.event_id)
    assert row is not None
    assert (row.end, row.media_error) == (T0 + 2, "media store full: disk")


async def test_query_filters_by_tenant_camera_label_time_and_acknowledgement(
    db_hub: Hub, store: DetectionEventStore
) -> None:
    school = await db_hub.tenants.create("school")
    bank = await db_hub.tenants.create("bank")
    gate = tracked("camera.gate", "person", tenant_id=school.id, start=T0)
    yard = tracked("camera.yard", "car", tenant_id=school.id, start=T0 + 60)
    late = tracked("camera.gate", "person", tenant_id=school.id, start=T0 + 120)
    vault = tracked("camera.vault", "person", tenant_id=bank.id, start=T0 + 30)
    for event in (gate, yard, late, vault):
        await store.started(event)
    await store.acknowledge(gate.event_id, "user-1")

    async def ids(**filters: object) -> list[str]:
        return [row.id for row in await store.query(**filters)]  # type: ignore[arg-type]

    assert await ids(tenant_id=school.id) == [late.event_id, yard.event_id, gate.event_id]
    assert await ids(tenant_id=bank.id) == [vault.event_id]
    assert await ids(tenant_id=None) == [late.event_id, yard.event_id, vault.event_id, gate.event_id]
    assert await ids(tenant_id=school.id, camera="camera.gate") == [late.event_id, gate.event_id]
    assert await ids(tenant_id=school.id, label="car") == [yard.event_id]
    assert await ids(tenant_id=school.id, since=T0 + 60) == [late.event_id, yard.event_id]
    assert await ids(tenant_id=school.id, until=T0 + 60) == [yard.event_id, gate.event_id]
    assert await ids(tenant_id=school.id, acknowledged=True) == [gate.event_id]
    assert await ids(tenant_id=school.id, acknowledged=False) == [late.event_id, yard.event_id]
    assert await store.cameras(tenant_id=school.id) == ["camera.gate", "camera.yard"]
    assert await store.labels(tenant_id=bank.id) == ["person"]


async def test_paging_with_a_cursor_walks_every_event_once(db_hub: Hub, store: DetectionEventStore) -> None:
    school = await db_hub.tenants.create("school")
    bank = await db_hub.tenants.create("bank")
    events = [tracked(tenant_id=school.id, start=T0 + (index // 2)) for index in range(7)]  # ties on start
    for event in events:
        await store.started(event)
    seen: list[str] = []
    before = None
    while True:
        page = await store.query(tenant_id=school.id, limit=3, before=before)
        seen += [row.id for row in page]
        if len(page) < 3:
            break
        before = page[-1].id
    assert sorted(seen) == sorted(event.event_id for event in events)
    assert len(seen) == len(set(seen)) == 7
    starts = [row.start for row in await store.query(tenant_id=school.id, limit=10)]
    assert starts == sorted(starts, reverse=True)

    foreign = tracked(tenant_id=bank.id)
    await store.started(foreign)
    with pytest.raises(UnknownCursor):
        await store.query(tenant_id=school.id, before=foreign.event_id)
    with pytest.raises(UnknownCursor):
        await store.query(tenant_id=school.id, before=uuid.uuid4().hex)


async def test_the_first_acknowledgement_stands(store: DetectionEventStore) -> None:
    event = tracked()
    await store.started(event)
    first = await store.acknowledge(event.event_id, "user-1")
    assert first is not None and first.acknowledged_by == "user-1" and first.acknowledged_at is not None
    second = await store.acknowledge(event.event_id, "user-2")
    assert second is not None
    assert (second.acknowledged_by, second.acknowledged_at) == ("user-1", first.acknowledged_at)
    assert await store.acknowledge(uuid.uuid4().hex, "user-1") is None


async def test_stats_count_per_camera_label_and_every_hour_of_the_window(
    db_hub: Hub, store: DetectionEventStore
) -> None:
    school = await db_hub.tenants.create("school")
    bank = await db_hub.tenants.create("bank")
    plan = [
        ("camera.gate", "person", T0 + 10, 4.0, 0.9),
        ("camera.gate", "person", T0 + 20, 2.0, 0.7),
        ("camera.gate", "car", T0 + HOUR + 5, 6.0, 0.6),
        ("camera.yard", "person", T0 + 3 * HOUR - 1, 1.0, 0.5),
        ("camera.yard", "person", T0 + 5 * HOUR, 1.0, 0.5),  # outside [T0, T0 + 4h)
    ]
    for camera, label, start, duration, confidence in plan:
        event = tracked(camera, label, tenant_id=school.id, start=start, confidence=confidence)
        event.end = event.last_seen = start + duration
        await store.ended(event, snapshot_key=None, clean_key=None, clip_key=None, media_error=None)
        if camera == "camera.yard":
            await store.acknowledge(event.event_id, "user-1")
    await store.started(tracked("camera.vault", "person", tenant_id=bank.id, start=T0 + 30))

    stats = await store.stats(tenant_id=school.id, since=T0, until=T0 + 4 * HOUR)
    assert (stats["total"], stats["acknowledged"]) == (4, 1)
    assert stats["cameras"] == [{"camera": "camera.gate", "count": 3}, {"camera": "camera.yard", "count": 1}]
    person, car = stats["labels"]
    assert (person["label"], person["count"], car["label"], car["count"]) == ("person", 3, "car", 1)
    assert person["mean_duration"] == pytest.approx((4 + 2 + 1) / 3, abs=1e-3)
    assert person["mean_confidence"] == pytest.approx((0.9 + 0.7 + 0.5) / 3, abs=1e-4)
    assert stats["hours"] == [
        {"hour": T0, "count": 2},
        {"hour": T0 + HOUR, "count": 1},
        {"hour": T0 + 2 * HOUR, "count": 1},
        {"hour": T0 + 3 * HOUR, "count": 0},
    ]

    only_yard = await store.stats(tenant_id=school.id, since=T0, until=T0 + 6 * HOUR, camera="camera.yard")
    assert only_yard["total"] == 2
    assert [hour["count"] for hour in only_yard["hours"]] == [0, 0, 1, 0, 0, 1]
    everyone = await store.stats(tenant_id=None, since=T0, until=T0 + HOUR)
    assert everyone["total"] == 3
    with pytest.raises(ValueError, match="before"):
        await store.stats(tenant_id=None, since=T0 + HOUR, until=T0)
    with pytest.raises(ValueError, match="31 days"):
        await store.stats(tenant_id=None, since=T0, until=T0 + 40 * 24 * HOUR)


async def test_retention_forgets_deleted_media_keys(store: DetectionEventStore) -> None:
    first, second = tracked(), tracked()
    for index, event in enumerate((first, second)):
        event.end = event.last_seen
        await store.ended(event, snapshot_key=f"s{index}.jpg", clean_key=f"c{index}.jpg",
                          clip_key=f"v{index}.mp4", media_error=None)  # fmt: skip
    await store.forget_media(["s0.jpg", "c0.jpg", "v0.mp4", "v1.mp4", "never-stored.jpg"])
    one, two = await store.get(first.event_id), await store.get(second.event_id)
    assert one is not None and two is not None
    assert (one.snapshot_key, one.clean_key, one.clip_key) == (None, None, None)
    assert (two.snapshot_key, two.clean_key, two.clip_key) == ("s1.jpg", "c1.jpg", None)
    await store.forget_media([])  # nothing to do is not an error


async def test_open_events_left_by_a_crash_are_closed_at_their_last_sighting(store: DetectionEventStore) -> None:
    open_event, closed_event = tracked(), tracked()
    open_event.last_seen = T0 + 8
    await store.started(open_event)
    closed_event.end = closed_event.last_seen = T0 + 2
    await store.ended(closed_event, snapshot_key=None, clean_key=None, clip_key=None, media_error=None, reason="lost")

    assert await store.close_open_events("hub_restart") == 1
    row = await store.get(open_event.event_id)
    assert row is not None
    assert (row.end, row.duration, row.end_reason) == (T0 + 8, 8.0, "hub_restart")
    closed = await store.get(closed_event.event_id)
    assert closed is not None and closed.end_reason == "lost"
    assert await store.close_open_events("hub_restart") == 0


def test_the_row_lists_every_column_the_contract_names() -> None:
    names = set(DetectionEventRow.__table__.columns.keys())
    assert {
        "id", "tenant_id", "camera", "label", "track_id", "start", "end", "last_seen", "duration", "top_confidence",
        "zones", "box", "snapshot_key", "clean_key", "clip_key", "media_error", "end_reason", "acknowledged_at",
        "acknowledged_by",
    } <= names  # fmt: skip
    indexes = {index.name for index in DetectionEventRow.__table__.indexes}  # type: ignore[attr-defined]
    assert {"ix_detection_events_tenant_id_start", "ix_detection_events_tenant_id_camera_start"} <= indexes
