"""Media retention on a real folder: by age, by total size, whole events oldest first, keys for the event rows."""

from __future__ import annotations

import os
from pathlib import Path

from integrations.detection.media_store import LocalMediaStore, media_key
from integrations.detection.retention import DAY, apply_retention

NOW = 1_795_000_000.0


async def put_event(store: LocalMediaStore, event_id: str, age_days: float, clip_bytes: int = 1000) -> list[str]:
    """An event's three files, written ``age_days`` ago (the clip a little after the snapshots)."""
    start = NOW - age_days * DAY
    keys = []
    for kind, size, late in (("snapshot", 100, 0.0), ("clean", 90, 0.0), ("clip", clip_bytes, 12.0)):
        key = media_key("t1", "camera.gate", event_id, kind, start)  # type: ignore[arg-type]
        await store.put(key, b"m" * size, "application/octet-stream")
        os.utime(store.path_of(key), (start + late, start + late))
        keys.append(key)
    return keys


async def test_by_age_deletes_whole_old_events(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path)
    old = await put_event(store, "old", 20)
    borderline = await put_event(store, "borderline", 13.9)
    fresh = await put_event(store, "fresh", 1)
    result = await apply_retention(store, days=14, max_bytes=None, now=NOW)
    assert sorted(result.deleted_keys) == sorted(old)
    assert result.deleted_bytes == 1190 and result.error is None
    assert (result.kept_files, result.kept_bytes) == (6, 2380)
    assert sorted(entry.key for entry in await store.entries()) == sorted(borderline + fresh)
    assert not (tmp_path / "t1" / "gate" / old[0].split("/")[2]).exists()  # the emptied day folder went too


async def test_by_size_deletes_oldest_events_until_it_fits(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path)
    events = [await put_event(store, f"e{index}", 5 - index) for index in range(5)]  # e0 oldest; 1190 bytes each
    result = await apply_retention(store, days=None, max_bytes=3000, now=NOW)
    assert sorted(result.deleted_keys) == sorted(events[0] + events[1] + events[2])  # 5950 -> 2380 bytes
    order = [key.rsplit("/", 1)[1].split("-")[0] for key in result.deleted_keys]
    assert list(dict.fromkeys(order)) == ["e0", "e1", "e2"]  # oldest event first, each one whole
    assert await store.usage() == 2380 == result.kept_bytes
    nothing = await apply_retention(store, days=None, max_bytes=3000, now=NOW)
    assert nothing.deleted == 0 and nothing.kept_files == 6


async def test_age_then_size_and_no_limits(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path)
    await put_event(store, "ancient", 30)
    big = await put_event(store, "big", 3, clip_bytes=50_000)
    small = await put_event(store, "small", 2)
    unlimited = await apply_retention(store, days=None, max_bytes=None, now=NOW)
    assert unlimited.deleted == 0 and unlimited.kept_files == 9
    result = await apply_retention(store, days=7, max_bytes=10_000, now=NOW)
    assert len(result.deleted_keys) == 6 and set(big) <= set(result.deleted_keys)
    assert sorted(entry.key for entry in await store.entries()) == sorted(small)


async def test_an_empty_store(tmp_path: Path) -> None:
    result = await apply_retention(LocalMediaStore(tmp_path / "never-written"), days=1, max_bytes=1)
    assert (result.deleted, result.kept_files, result.error) == (0, 0, None)
