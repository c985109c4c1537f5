"""The detection REST API over the real HTTP server: events per tenant with filters and paging, snapshots and
seekable clips from the media store, acknowledgement by operators, statistics and system figures."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

import pytest
from PIL import Image

from hub.auth.scope import Role
from hub.core import Hub
from hub.tenants import Tenant
from hub.testing.http import ApiClient, SignedInUser, UserFactory, assert_error
from integrations.detection.boxes import Box
from integrations.detection.event import TrackedEvent
from integrations.detection.media_store import media_key
from integrations.detection.runtime import runtime_of
from integrations.detection.system_stats import gpu_stats

T0 = 1_793_491_200.0  # 2026-11-01 00:00 UTC
HOUR = 3600.0


def jpeg(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 36), color).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def tracked(camera: str, label: str, tenant_id: str | None, start: float, confidence: float = 0.8) -> TrackedEvent:
    box = Box(10, 20, 50, 34, label, confidence)
    return TrackedEvent(uuid.uuid4().hex, camera, tenant_id, label, "1", start, start + 3, start + 3, confidence,
                        confidence, box, [], ["door"], box, None, start)  # fmt: skip


@dataclass
class Sites:
    hub: Hub
    school: Tenant
    bank: Tenant
    viewer: SignedInUser
    operator: SignedInUser
    bank_viewer: SignedInUser
    events: dict[str, TrackedEvent]
    snapshot: bytes
    clean: bytes
    clip: bytes


async def add_event(hub: Hub, event: TrackedEvent, *, media: dict[str, bytes] | None = None) -> None:
    runtime = runtime_of(hub)
    keys: dict[str, str | None] = {"snapshot": None, "clean": None, "clip": None}
    for kind, data in (media or {}).items():
        key = media_key(event.tenant_id, event.camera, event.event_id, kind, event.start)  # type: ignore[arg-type]
        await runtime.media.put(key, data, "video/mp4" if kind == "clip" else "image/jpeg")
        keys[kind] = key
    await runtime.store.started(event)
    await runtime.store.ended(event, snapshot_key=keys["snapshot"], clean_key=keys["clean"], clip_key=keys["clip"],
                              media_error=None, reason="lost")  # fmt: skip


@pytest.fixture
async def sites(http_hub: Hub, make_user: UserFactory) -> Sites:
    hub = http_hub
    school = await hub.tenants.create("school")
    bank = await hub.tenants.create("bank")
    snapshot, clean = jpeg((200, 30, 30)), jpeg((30, 200, 30))
    clip = bytes(range(256)) * 40  # 10 240 bytes: what the store holds is what the range must slice
    events = {
        "gate": tracked("camera.gate", "person", school.id, T0),
        "yard": tracked("camera.yard", "car", school.id, T0 + 60),
        "late": tracked("camera.gate", "person", school.id, T0 + HOUR + 5),
        "vault": tracked("camera.vault", "person", bank.id, T0 + 30),
    }
    await add_event(hub, events["gate"], media={"snapshot": snapshot, "clean": clean, "clip": clip})
    await add_event(hub, events["yard"])
    await add_event(hub, events["late"], media={"snapshot": snapshot})
    await add_event(hub, events["vault"], media={"snapshot": snapshot, "clip": clip})
    return Sites(
        hub,
        school,
        bank,
        await make_user(hub, school, Role.VIEWER),
        await make_user(hub, school, Role.OPERATOR),
        await make_user(hub, bank, Role.VIEWER),
        events,
        snapshot,
        clean,
        clip,
    )


def ids(body: dict[str, object]) -> list[str]:
    return [event["id"] for event in body["events"]]  # type: ignore[attr-defined]


async def test_a_viewer_lists_their_tenants_events_newest_first_with_filters(sites: Sites) -> None:
    api, events = sites.viewer.api, sites.events
    status, body = await api.get("/api/detection/events")
    assert status == 200, body
    assert ids(body) == [events["late"].event_id, events["yard"].event_id, events["gate"].event_id]
    assert body["next_before"] is None
    gate = body["events"][2]
    assert gate["camera"] == "camera.gate" and gate["label"] == "person" and gate["zones"] == ["door"]
    assert gate["start"] == "2026-11-01T00:00:00+00:00" and gate["duration"] == 3.0 and gate["in_progress"] is False
    assert gate["snapshot"] == f"/api/detection/events/{events['gate'].event_id}/snapshot.jpg"
    assert gate["clip"] == f"/api/detection/events/{events['gate'].event_id}/clip.mp4"
    assert body["events"][1]["snapshot"] is None and body["events"][1]["clip"] is None

    _, body = await api.get("/api/detection/events?camera=camera.gate")
    assert ids(body) == [events["late"].event_id, events["gate"].event_id]
    _, body = await api.get("/api/detection/events?label=CAR")
    assert ids(body) == [events["yard"].event_id]
    _, body = await api.get("/api/detection/events?since=2026-11-01T00:01:00Z&until=2026-11-01T00:59:00Z")
    assert ids(body) == [events["yard"].event_id]
    _, body = await api.get("/api/detection/events?acknowledged=true")
    assert ids(body) == []

    status, body = await sites.bank_viewer.api.get("/api/detection/events")
    assert (status, ids(body)) == (200, [events["vault"].event_id])
    await paging_follows_next_before(sites)
    await bad_queries_name_the_field(sites)


async def paging_follows_next_before(sites: Sites) -> None:
    api, events = sites.viewer.api, sites.events
    _, first = await api.get("/api/detection/events?limit=2")
    assert ids(first) == [events["late"].event_id, events["yard"].event_id]
    assert first["next_before"] == events["yard"].event_id
    _, second = await api.get(f"/api/detection/events?limit=2&before={first['next_before']}")
    assert ids(second) == [events["gate"].event_id]
    assert second["next_before"] is None


async def bad_queries_name_the_field(sites: Sites) -> None:
    api = sites.viewer.api
    for query, field in (
        ("limit=0", "limit"),
        ("limit=many", "limit"),
        ("camera=not%20a%20camera", "camera"),
        ("since=yesterday", "since"),
        ("acknowledged=maybe", "acknowledged"),
        ("before=xyz", "before"),
    ):
        status, body = await api.get(f"/api/detection/events?{query}")
        assert status == 400, (query, body)
        assert field in body["error"]["fields"], (query, body)
    # another tenant's event as the cursor is refused like an absent one, without saying whose it is
    status, body = await api.get(f"/api/detection/events?before={sites.events['vault'].event_id}")
    assert_error(body, "invalid_query", {"before": "no such event"})
    assert status == 400


async def test_one_event_and_its_media_are_404_for_another_tenant(sites: Sites) -> None:
    vault = sites.events["vault"].event_id
    for suffix in ("", "/snapshot.jpg", "/clip.mp4"):
        status, body = await sites.viewer.api.get(f"/api/detection/events/{vault}{suffix}")
        assert status == 404, (suffix, body)
        assert_error(body, "detection_event_not_found")
        bank = sites.bank_viewer.api
        async with bank.session.get(
            f"{bank.base_url}/api/detection/events/{vault}{suffix}", headers=bank.headers
        ) as response:
            assert response.status == 200, suffix
    status, body = await sites.viewer.api.get("/api/detection/events/not-an-id")
    assert status == 404


async def test_snapshots_come_from_the_media_store_with_a_validator(sites: Sites) -> None:
    api, gate = sites.viewer.api, sites.events["gate"].event_id
    url = f"{api.base_url}/api/detection/events/{gate}/snapshot.jpg"
    async with api.session.get(url, headers=api.headers) as response:
        assert response.status == 200
        assert response.content_type == "image/jpeg"
        assert await response.read() == sites.snapshot
        etag = response.headers["ETag"]
    async with api.session.get(url + "?clean=1", headers=api.headers) as response:
        assert await response.read() == sites.clean
    async with api.session.get(url, headers={**api.headers, "If-None-Match": etag}) as response:
        assert response.status == 304
    late = sites.events["late"].event_id
    status, body = await api.get(f"/api/detection/events/{late}/snapshot.jpg?clean=1")
    assert status == 404  # this one has no clean picture
    assert_error(body, "snapshot_not_found")

    # retention deleted the file: 404, not a 500
    runtime = runtime_of(sites.hub)
    row = await runtime.store.get(late)
    assert row is not None and row.snapshot_key is not None
    await runtime.media.delete(row.snapshot_key)
    status, body = await api.get(f"/api/detection/events/{late}/snapshot.jpg")
    assert status == 404


async def test_clips_answer_range_requests_so_a_video_element_can_seek(sites: Sites) -> None:
    api, gate = sites.viewer.api, sites.events["gate"].event_id
    url = f"{api.base_url}/api/detection/events/{gate}/clip.mp4"
    size = len(sites.clip)
    async with api.session.get(url, headers=api.headers) as response:
        assert (response.status, response.content_type) == (200, "video/mp4")
        assert response.headers["Accept-Ranges"] == "bytes"
        assert await response.read() == sites.clip
    for header, first, last in (
        ("bytes=0-99", 0, 99),
        ("bytes=5000-", 5000, size - 1),
        ("bytes=-256", size - 256, size - 1),
        ("bytes=10000-99999", 10000, size - 1),
    ):
        async with api.session.get(url, headers={**api.headers, "Range": header}) as response:
            assert response.status == 206, header
            assert response.headers["Content-Range"] == f"bytes {first}-{last}/{size}"
            assert await response.read() == sites.clip[first : last + 1]
    async with api.session.get(url, headers={**api.headers, "Range": f"bytes={size}-"}) as response:
        assert response.status == 416
        assert response.headers["Content-Range"] == f"bytes */{size}"
    yard = sites.events["yard"].event_id
    status, _ = await api.get(f"/api/detection/events/{yard}/clip.mp4")
    assert status == 404


async def test_operators_acknowledge_once_and_viewers_cannot(sites: Sites, admin_api: ApiClient) -> None:
    gate = sites.events["gate"].event_id
    path = f"/api/detection/events/{gate}/acknowledge"
    status, body = await sites.viewer.api.post(path)
    assert status == 403
    assert_error(body, "forbidden")
    status, body = await sites.operator.api.post(path)
    assert status == 200, body
    assert body["acknowledged"] is True and body["acknowledged_by"] == sites.operator.id
    first_time = body["acknowledged_at"]
    status, again = await sites.operator.api.post(path)
    assert (status, again["acknowledged_at"], again["acknowledged_by"]) == (200, first_time, sites.operator.id)
    _, listed = await sites.viewer.api.get("/api/detection/events?acknowledged=true")
    assert ids(listed) == [gate]
    status, _ = await sites.operator.api.post(f"/api/detection/events/{sites.events['vault'].event_id}/acknowledge")
    assert status == 404
    _, audit = await admin_api.get("/api/audit")
    entries = audit if isinstance(audit, list) else audit.get("entries", [])
    assert [entry["target"] for entry in entries if entry["action"] == "detection.event.acknowledge"] == [gate]


async def test_stats_and_system_figures_are_per_tenant(sites: Sites, admin_api: ApiClient) -> None:
    window = "since=2026-11-01T00:00:00Z&until=2026-11-01T02:00:00Z"
    status, stats = await sites.viewer.api.get(f"/api/detection/stats?{window}")
    assert status == 200, stats
    assert stats["total"] == 3
    assert stats["cameras"] == [{"camera": "camera.gate", "count": 2}, {"camera": "camera.yard", "count": 1}]
    assert [(label["label"], label["count"]) for label in stats["labels"]] == [("person", 2), ("car", 1)]
    assert [hour["count"] for hour in stats["hours"]] == [2, 1]
    _, only_gate = await sites.viewer.api.get(f"/api/detection/stats?{window}&camera=camera.gate")
    assert only_gate["total"] == 2
    _, bank = await sites.bank_viewer.api.get(f"/api/detection/stats?{window}")
    assert bank["total"] == 1 and bank["cameras"] == [{"camera": "camera.vault", "count": 1}]

    status, body = await sites.viewer.api.get(
        "/api/detection/stats?since=2026-11-02T00:00:00Z&until=2026-11-01T00:00:00Z"
    )
    assert status == 400
    assert "since" in body["error"]["fields"]
    status, body = await sites.viewer.api.get("/api/detection/stats?since=0")
    assert status == 400  # decades: longer than the 31 days a per-hour chart holds
    await system_figures(sites, admin_api)


async def system_figures(sites: Sites, admin_api: ApiClient) -> None:
    status, body = await sites.viewer.api.get("/api/detection/system")
    assert status == 200, body
    host = body["host"]
    assert host["cpu_count"] >= 1 and 0 <= host["cpu_percent"] <= 100 * host["cpu_count"]
    assert host["memory_total_mb"] > host["memory_used_mb"] > 0 and host["process_rss_mb"] > 10
    assert len(host["load_average"]) == 3
    gpus = gpu_stats()  # NVML read directly: the API must say the same (None on a machine without a GPU)
    assert [gpu["name"] for gpu in body["gpus"]] == [gpu.name for gpu in gpus]
    assert body["gpu"] == (body["gpus"][0] if gpus else None)
    assert body["cameras"] == {} and body["pools"] == []
    status, body = await admin_api.get("/api/detection/system")
    assert status == 200 and body["pools"] == []  # no model loaded: no camera runs detection
