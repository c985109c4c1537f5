"""The S3 media store against a real S3 endpoint on loopback (moto's server: the S3 REST protocol, SigV4 signed)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.testing import free_port
from hub.testing.s3 import S3Server, s3_server  # noqa: F401  (the fixture, until the lead registers the plugin)
from integrations.detection.media_store import (
    InvalidMediaKey,
    MediaStore,
    MediaStoreError,
    media_store_from_config,
)
from integrations.detection.retention import apply_retention
from integrations.detection.s3 import S3MediaStore


@pytest.fixture
async def store(s3_server: S3Server) -> AsyncIterator[S3MediaStore]:  # noqa: F811
    bucket = s3_server.create_bucket()
    store = S3MediaStore(endpoint=s3_server.endpoint, bucket=bucket, **s3_server.credentials)
    yield store
    await store.close()


async def test_put_get_delete_usage_entries(store: S3MediaStore, s3_server: S3Server) -> None:  # noqa: F811
    assert isinstance(store, MediaStore)
    clip = os.urandom(300_000)
    await store.put("t1/gate/2026-11-22/e1-clip.mp4", clip, "video/mp4")
    await store.put("t1/gate/2026-11-22/e1-snapshot.jpg", b"\xff\xd8jpeg", "image/jpeg")
    assert await store.get("t1/gate/2026-11-22/e1-clip.mp4") == clip
    head = s3_server.client().head_object(Bucket=store.bucket, Key="t1/gate/2026-11-22/e1-clip.mp4")
    assert head["ContentType"] == "video/mp4" and head["ContentLength"] == len(clip)

    entries = await store.entries()
    assert sorted((entry.key, entry.size) for entry in entries) == [
        ("t1/gate/2026-11-22/e1-clip.mp4", 300_000),
        ("t1/gate/2026-11-22/e1-snapshot.jpg", 6),
    ]
    assert all(entry.modified > 1.7e9 for entry in entries)
    assert await store.usage() == 300_006

    await store.delete("t1/gate/2026-11-22/e1-clip.mp4")
    await store.delete("t1/gate/2026-11-22/e1-clip.mp4")  # absent: no error
    with pytest.raises(KeyError):
        await store.get("t1/gate/2026-11-22/e1-clip.mp4")
    assert [entry.key for entry in await store.entries()] == ["t1/gate/2026-11-22/e1-snapshot.jpg"]


async def test_a_prefix_keeps_media_in_its_own_folder(s3_server: S3Server) -> None:  # noqa: F811
    bucket = s3_server.create_bucket()
    s3_server.client().put_object(Bucket=bucket, Key="other/file.txt", Body=b"not ours")
    store = S3MediaStore(endpoint=s3_server.endpoint, bucket=bucket, prefix="/gatehouse/", **s3_server.credentials)
    try:
        await store.put("_/gate/2026-11-22/e1-clean.jpg", b"clean", "image/jpeg")
        listed = s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]
        assert sorted(item["Key"] for item in listed) == ["gatehouse/_/gate/2026-11-22/e1-clean.jpg", "other/file.txt"]
        assert [entry.key for entry in await store.entries()] == ["_/gate/2026-11-22/e1-clean.jpg"]
        assert await store.usage() == 5
        assert store.describe() == f"s3 {s3_server.endpoint}/{bucket}/gatehouse"
    finally:
        await store.close()


async def test_bad_keys_are_refused_before_any_request(store: S3MediaStore) -> None:
    for key in ("../x.jpg", "/abs.jpg", "a//b.jpg"):
        with pytest.raises(InvalidMediaKey):
            await store.put(key, b"x", "image/jpeg")


async def test_a_missing_bucket_and_an_unreachable_server_are_clear_errors(s3_server: S3Server) -> None:  # noqa: F811
    missing = S3MediaStore(endpoint=s3_server.endpoint, bucket="no-such-bucket", **s3_server.credentials)
    try:
        with pytest.raises(MediaStoreError, match="NoSuchBucket"):
            await missing.put("_/gate/d/e-clip.mp4", b"x", "video/mp4")
    finally:
        await missing.close()
    closed = S3MediaStore(
        endpoint=f"http://127.0.0.1:{free_port()}",
        bucket="b",
        connect_timeout=1,
        max_attempts=1,
        **s3_server.credentials,
    )
    try:
        with pytest.raises(MediaStoreError, match=r"cannot write _/gate/d/e-clip\.mp4"):
            await closed.put("_/gate/d/e-clip.mp4", b"x", "video/mp4")
        with pytest.raises(MediaStoreError, match="cannot list"):
            await closed.entries()
    finally:
        await closed.close()


async def test_the_store_from_configuration(s3_server: S3Server, tmp_path: Path) -> None:  # noqa: F811
    bucket = s3_server.create_bucket()
    config = {"s3": {"endpoint": s3_server.endpoint + "/", "bucket": bucket, **s3_server.credentials}}
    store = media_store_from_config(config, tmp_path)
    try:
        assert isinstance(store, S3MediaStore) and store.describe() == f"s3 {s3_server.endpoint}/{bucket}"
        await store.put("_/cam/2026-11-22/e-snapshot.jpg", b"jpeg", "image/jpeg")
        assert await store.get("_/cam/2026-11-22/e-snapshot.jpg") == b"jpeg"
    finally:
        await store.close()
    assert not (tmp_path / "media").exists()  # nothing written locally


async def test_retention_by_size_on_s3(store: S3MediaStore) -> None:
    for index in range(4):
        await store.put(f"_/gate/2026-11-22/e{index}-clip.mp4", b"x" * 1000, "video/mp4")
        await store.put(f"_/gate/2026-11-22/e{index}-snapshot.jpg", b"y" * 100, "image/jpeg")
    result = await apply_retention(store, days=None, max_bytes=2300)
    assert result.deleted == 4 and result.deleted_bytes == 2200 and result.kept_bytes == 2200
    left = {entry.key for entry in await store.entries()}
    assert len(left) == 4 and set(result.deleted_keys).isdisjoint(left)
    assert {key.rsplit("-", 1)[0] for key in result.deleted_keys}.isdisjoint({k.rsplit("-", 1)[0] for k in left})
