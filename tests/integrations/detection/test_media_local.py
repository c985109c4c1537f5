"""The local media store: real files, atomic replacement, keys that cannot escape the folder, a full disk."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from integrations.detection.media_store import (
    InvalidMediaKey,
    LocalMediaStore,
    MediaStore,
    MediaStoreError,
    MediaStoreFull,
    media_key,
    media_store_from_config,
)

JPEG = b"\xff\xd8" + bytes(range(256)) * 4 + b"\xff\xd9"


async def test_put_get_delete_round_trip(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path / "media")
    assert isinstance(store, MediaStore)
    key = "_/gate/2026-11-22/abc-snapshot.jpg"
    await store.put(key, JPEG, "image/jpeg")
    assert (tmp_path / "media" / key).read_bytes() == JPEG
    assert await store.get(key) == JPEG
    assert await store.usage() == len(JPEG)
    [entry] = await store.entries()
    assert (entry.key, entry.size) == (key, len(JPEG))

    await store.put(key, b"second", "image/jpeg")  # replaced in place, usage follows
    assert await store.get(key) == b"second"
    assert await store.usage() == len(b"second")

    await store.delete(key)
    await store.delete(key)  # absent: no error
    with pytest.raises(KeyError):
        await store.get(key)
    assert await store.entries() == [] and await store.usage() == 0
    assert list((tmp_path / "media").iterdir()) == []  # the emptied day and camera folders went too
    assert store.describe() == f"local folder {(tmp_path / 'media').resolve()}"


async def test_entries_are_oldest_first_and_skip_unfinished_writes(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path)
    for index, name in enumerate(["c", "a", "b"]):
        await store.put(f"t/cam/2026-11-2{index}/{name}-clip.mp4", b"x" * (index + 1), "video/mp4")
        os.utime(tmp_path / f"t/cam/2026-11-2{index}/{name}-clip.mp4", (1000.0 + index, 1000.0 + index))
    (tmp_path / "t" / "cam" / ".tmp-half-written").write_bytes(b"partial")  # a write in progress
    entries = await store.entries()
    assert [entry.key.split("/")[-1] for entry in entries] == ["c-clip.mp4", "a-clip.mp4", "b-clip.mp4"]
    assert [entry.modified for entry in entries] == [1000.0, 1001.0, 1002.0]
    assert await store.usage() == 6


async def test_a_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path)
    await store.put("a/b/c-clean.jpg", JPEG, "image/jpeg")
    assert sorted(path.name for path in (tmp_path / "a" / "b").iterdir()) == ["c-clean.jpg"]


@pytest.mark.parametrize(
    "key", ["../outside.jpg", "/etc/passwd", "a/../../b.jpg", "a//b.jpg", ".hidden/x.jpg", "a\\b.jpg", "", "a/./b"]
)
async def test_keys_that_leave_the_folder_are_refused(tmp_path: Path, key: str) -> None:
    store = LocalMediaStore(tmp_path / "media")
    with pytest.raises(InvalidMediaKey, match="media key"):
        await store.put(key, b"x", "image/jpeg")
    with pytest.raises(InvalidMediaKey):
        await store.get(key)
    assert not (tmp_path / "outside.jpg").exists()


async def test_a_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "media"
    root.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (root / "tenant").symlink_to(tmp_path / "elsewhere")
    store = LocalMediaStore(root)
    with pytest.raises(InvalidMediaKey, match="outside"):
        await store.put("tenant/x-snapshot.jpg", b"x", "image/jpeg")
    assert list((tmp_path / "elsewhere").iterdir()) == []


async def test_a_quota_raises_full_and_writes_nothing(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path, max_bytes=1000)
    await store.put("a/one-clip.mp4", b"x" * 600, "video/mp4")
    with pytest.raises(MediaStoreFull, match="quota of 1000 bytes"):
        await store.put("a/two-clip.mp4", b"y" * 600, "video/mp4")
    assert not (tmp_path / "a" / "two-clip.mp4").exists()
    await store.put("a/one-clip.mp4", b"z" * 900, "video/mp4")  # replacing counts the old size as freed
    await store.delete("a/one-clip.mp4")
    await store.put("a/two-clip.mp4", b"y" * 600, "video/mp4")
    assert await store.usage() == 600


# A real full file system: a 64 KiB tmpfs mounted in a private mount namespace of a child process (the test
# machine's own mounts are untouched). The child writes through LocalMediaStore until the kernel says ENOSPC.
_FULL_DISK_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, os, subprocess, sys
    sys.path.insert(0, sys.argv[2])
    from integrations.detection.media_store import LocalMediaStore, MediaStoreFull

    async def main(root):
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", root], check=True)
        store = LocalMediaStore(root)
        written, error = [], None
        for index in range(100):
            try:
                await store.put(f"_/gate/2026-11-22/e{index}-clip.mp4", os.urandom(20_000), "video/mp4")
            except MediaStoreFull as err:
                error = str(err)
                break
            written.append(index)
        leftovers = [name for _, _, files in os.walk(root) for name in files if name.startswith(".")]
        readable = [len(await store.get(f"_/gate/2026-11-22/e{index}-clip.mp4")) for index in written]
        print(json.dumps({"written": written, "error": error, "leftovers": leftovers, "readable": readable}))

    asyncio.run(main(sys.argv[1]))
    """
)


def test_a_full_disk_raises_full(tmp_path: Path) -> None:
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("util-linux unshare is not installed: no private mount namespace for a tiny tmpfs")
    root = tmp_path / "tiny"
    root.mkdir()
    command = [unshare, "--user", "--map-root-user", "--mount", sys.executable, "-c", _FULL_DISK_SCRIPT]
    result = subprocess.run(
        [*command, str(root), str(Path(__file__).parents[3])], capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0 and "mount" in result.stderr and "Operation not permitted" in result.stderr:
        pytest.skip(f"this machine forbids mounting a tmpfs in a user namespace: {result.stderr[-200:]}")
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert 1 <= len(outcome["written"]) < 4  # 64 KiB hold three 20 kB clips at most
    assert "no space left" in outcome["error"]
    assert outcome["leftovers"] == []  # the half-written temporary file was removed
    assert outcome["readable"] == [20_000] * len(outcome["written"])  # what was stored before stays intact


def test_media_keys_are_per_tenant_camera_and_day() -> None:
    start = 1_795_000_000.0  # 2026-11-18 UTC
    assert media_key("t1", "camera.gate", "e1", "snapshot", start) == "t1/gate/2026-11-18/e1-snapshot.jpg"
    assert media_key(None, "camera.gate", "e1", "clean", start) == "_/gate/2026-11-18/e1-clean.jpg"
    assert media_key("a/../b", "camera.front_door", "e2", "clip", start) == "a_b/front_door/2026-11-18/e2-clip.mp4"
    with pytest.raises(ValueError, match="media kind"):
        media_key(None, "camera.gate", "e1", "movie", start)  # type: ignore[arg-type]


async def test_the_store_from_configuration(tmp_path: Path) -> None:
    local = media_store_from_config({"path": "media"}, tmp_path)
    assert isinstance(local, LocalMediaStore) and local.root == (tmp_path / "media").resolve()
    absolute = media_store_from_config({"path": str(tmp_path / "abs")}, Path("/nonexistent"))
    assert isinstance(absolute, LocalMediaStore) and absolute.root == (tmp_path / "abs").resolve()
    assert isinstance(media_store_from_config({}, tmp_path), LocalMediaStore)
    quota = media_store_from_config({"path": "media", "max_bytes": 1000}, tmp_path)
    assert isinstance(quota, LocalMediaStore) and quota.max_bytes == 1000
    with pytest.raises(MediaStoreError, match=r"detection\.media\.max_bytes: expected a positive whole number"):
        media_store_from_config({"max_bytes": "lots"}, tmp_path)
    with pytest.raises(MediaStoreError, match=r"detection\.media\.folder: unknown option"):
        media_store_from_config({"folder": "x"}, tmp_path)
    with pytest.raises(MediaStoreError, match=r"detection\.media\.s3\.bucket: required"):
        media_store_from_config({"s3": {"endpoint": "http://127.0.0.1:9000"}}, tmp_path)
    with pytest.raises(MediaStoreError, match=r"detection\.media\.s3\.endpoint: 'ftp://x' is not an http"):
        media_store_from_config({"s3": {"endpoint": "ftp://x", "bucket": "b"}}, tmp_path)
    with pytest.raises(MediaStoreError, match=r"detection\.media\.s3\.secret_key"):
        media_store_from_config({"s3": {"bucket": "b", "access_key": "k"}}, tmp_path)
    with pytest.raises(MediaStoreError, match=r"detection\.media\.s3\.bukket: unknown option"):
        media_store_from_config({"s3": {"bukket": "b"}}, tmp_path)
