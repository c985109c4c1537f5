"""Where detection media (snapshots, clips) lives: a local folder by default, any S3-compatible store when set.

Callers address media by key only (``media_key``), so the event rows never depend on where the bytes went.
Writes are atomic (a reader never sees half a JPEG) and run off the event loop. A full disk or an exhausted
quota raises ``MediaStoreFull``: the caller records the event without its media and raises a health warning.

    store = media_store_from_config({"path": "media"}, config_dir)
    key = media_key(tenant_id, "camera.gate", event_id, "snapshot", start)
    await store.put(key, jpeg, "image/jpeg")
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import errno
import os
import re
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from hub.exceptions import HubError

__all__ = [
    "CONTENT_TYPES",
    "InvalidMediaKey",
    "LocalMediaStore",
    "MediaEntry",
    "MediaKind",
    "MediaStore",
    "MediaStoreError",
    "MediaStoreFull",
    "media_key",
    "media_store_from_config",
    "validate_key",
]

MediaKind = Literal["snapshot", "clean", "clip"]

#: File suffix and content type of each kind of media.
_SUFFIXES: dict[str, str] = {"snapshot": "snapshot.jpg", "clean": "clean.jpg", "clip": "clip.mp4"}
CONTENT_TYPES: dict[str, str] = {"snapshot": "image/jpeg", "clean": "image/jpeg", "clip": "video/mp4"}

_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_KEY_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_TEMP_PREFIX = ".tmp-"
DEFAULT_MEDIA_PATH = "media"


class MediaStoreError(HubError):
    """The media store cannot do what was asked (unreachable, refused, misconfigured); the message says why."""


class MediaStoreFull(MediaStoreError):
    """No room: the disk is full or the store's quota is used up. Events are still recorded, without media."""


class InvalidMediaKey(MediaStoreError, ValueError):
    """A key that is empty, absolute, or would leave the store's root (``..``)."""


@dataclass(frozen=True, slots=True)
class MediaEntry:
    """One stored file: its key, size in bytes, and last modification (epoch seconds)."""

    key: str
    size: int
    modified: float


@runtime_checkable
class MediaStore(Protocol):
    """What the detection integration needs from a place to keep media."""

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key``, replacing any previous file atomically. ``MediaStoreFull`` when no room."""

    async def get(self, key: str) -> bytes:
        """The stored bytes; ``KeyError`` when absent."""

    async def delete(self, key: str) -> None:
        """Remove the file; an absent key is not an error."""

    async def usage(self) -> int:
        """Bytes stored."""

    async def entries(self) -> list[MediaEntry]:
        """Every stored file, oldest first."""

    def describe(self) -> str:
        """Where the media goes, for logs and the dashboard ("local folder /x", "s3 http://host/bucket")."""

    async def close(self) -> None:
        """Release connections."""


def validate_key(key: str) -> str:
    """The key if it is relative, ``/``-separated, and every part is a plain name (no ``..``, no hidden files)."""
    if not isinstance(key, str) or not key:
        raise InvalidMediaKey("media key: must be a non-empty string")
    if key.startswith("/") or "\\" in key or "\x00" in key:
        raise InvalidMediaKey(f"media key {key!r}: must be a relative path with '/' separators")
    for part in key.split("/"):
        if part in ("", ".", "..") or not _KEY_PART.fullmatch(part):
            raise InvalidMediaKey(
                f"media key {key!r}: part {part!r} is not allowed (letters, digits, '.', '_', '-'; "
                "no empty, '.' or '..' parts, no leading dot or dash)"
            )
    return key


def _safe_part(value: str | None, default: str) -> str:
    cleaned = _UNSAFE.sub("_", value or "").strip("_")
    return cleaned or default


def media_key(tenant_id: str | None, camera: str, event_id: str, kind: MediaKind, start: float) -> str:
    """``<tenant or _>/<camera object id>/<YYYY-MM-DD, UTC>/<event_id>-snapshot.jpg|-clean.jpg|-clip.mp4``."""
    if kind not in _SUFFIXES:
        raise ValueError(f"media kind {kind!r}: expected one of {', '.join(_SUFFIXES)}")
    object_id = camera.split(".", 1)[1] if "." in camera else camera
    day = dt.datetime.fromtimestamp(start, dt.UTC).strftime("%Y-%m-%d")
    tenant = "_" if tenant_id is None else _safe_part(tenant_id, "_")
    return f"{tenant}/{_safe_part(object_id, 'camera')}/{day}/{_safe_part(event_id, 'event')}-{_SUFFIXES[kind]}"


class LocalMediaStore:
    """Media in a folder. ``max_bytes``: an optional quota; a write that would exceed it raises MediaStoreFull."""

    def __init__(self, root: str | Path, *, max_bytes: int | None = None) -> None:
        self.root = Path(root).resolve()
        self.max_bytes = max_bytes
        self._used: int | None = None  # bytes stored, counted once on first need, then kept up to date
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"local folder {self.root}"

    def __repr__(self) -> str:
        return f"<LocalMediaStore {self.root}>"

    def path_of(self, key: str) -> Path:
        """The file for ``key``; refuses keys that would resolve outside the root (through ``..`` or symlinks)."""
        path = (self.root / validate_key(key)).resolve()
        if not path.is_relative_to(self.root):
            raise InvalidMediaKey(f"media key {key!r}: resolves outside {self.root}")
        return path

    # ---------------------------------------------------------------------------------------------- async

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self.path_of(key)
        await asyncio.to_thread(self._write, path, bytes(data))

    async def get(self, key: str) -> bytes:
        path = self.path_of(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise KeyError(key) from None

    async def delete(self, key: str) -> None:
        path = self.path_of(key)
        await asyncio.to_thread(self._remove, path)

    async def usage(self) -> int:
        return await asyncio.to_thread(self._usage)

    async def entries(self) -> list[MediaEntry]:
        return await asyncio.to_thread(self._scan)

    async def close(self) -> None:
        """Nothing to release: files are closed after each operation."""

    # ------------------------------------------------------------------------------------ worker threads

    def _usage(self) -> int:
        with self._lock:  # counted afresh: files removed by hand are not counted against the quota any more
            self._used = sum(entry.size for entry in self._scan())
            return self._used

    def _write(self, path: Path, data: bytes) -> None:
        with self._lock:
            previous = path.stat().st_size if path.is_file() else 0
            if self.max_bytes is not None:
                if self._used is None:
                    self._used = sum(entry.size for entry in self._scan())
                if self._used - previous + len(data) > self.max_bytes:
                    raise MediaStoreFull(
                        f"media store {self.root}: quota of {self.max_bytes} bytes reached "
                        f"({self._used} used, {len(data)} more needed)"
                    )
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                handle, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=path.parent)
                try:
                    with os.fdopen(handle, "wb") as stream:
                        stream.write(data)
                    os.replace(temp, path)
                except BaseException:
                    with contextlib.suppress(OSError):
                        os.unlink(temp)
                    raise
            except OSError as err:
                if err.errno in _FULL_ERRNOS:
                    raise MediaStoreFull(f"media store {self.root}: no space left ({err.strerror})") from err
                raise MediaStoreError(f"media store {self.root}: cannot write {path.name}: {err}") from err
            if self._used is not None:
                self._used += len(data) - previous

    def _remove(self, path: Path) -> None:
        with self._lock:
            try:
                size = path.stat().st_size
                path.unlink()
            except (FileNotFoundError, NotADirectoryError):
                return
            if self._used is not None:
                self._used -= size
            parent = path.parent
            while parent != self.root:  # drop the day / camera folders that became empty
                try:
                    parent.rmdir()
                except OSError:
                    break
                parent = parent.parent

    def _scan(self) -> list[MediaEntry]:
        found: list[MediaEntry] = []
        if not self.root.is_dir():
            return found
        for folder, directories, files in os.walk(self.root):
            directories[:] = [name for name in directories if not name.startswith(".")]
            for name in files:
                if name.startswith("."):  # temporary files of writes in progress
                    continue
                path = Path(folder, name)
                try:
                    stat = path.stat()
                except FileNotFoundError:  # deleted while we walked
                    continue
                found.append(MediaEntry(path.relative_to(self.root).as_posix(), stat.st_size, stat.st_mtime))
        found.sort(key=lambda entry: (entry.modified, entry.key))
        return found


def media_store_from_config(config: Mapping[str, Any], config_dir: Path) -> MediaStore:
    """The store the yaml ``detection: media:`` section describes: ``path`` (local) or ``s3`` (S3-compatible)."""
    unknown = sorted(set(config) - {"path", "max_bytes", "s3"})
    if unknown:
        raise MediaStoreError(f"detection.media.{unknown[0]}: unknown option (expected path, max_bytes or s3)")
    s3 = config.get("s3")
    if s3:
        from integrations.detection.s3 import S3MediaStore

        return S3MediaStore.from_config(s3)
    raw_path = config.get("path") or DEFAULT_MEDIA_PATH
    if not isinstance(raw_path, str | os.PathLike):
        raise MediaStoreError(f"detection.media.path: expected a folder, got {raw_path!r}")
    path = Path(raw_path).expanduser()
    if not path.is_absolute():
        path = Path(config_dir) / path
    max_bytes = config.get("max_bytes")
    if max_bytes is not None and (isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0):
        raise MediaStoreError(f"detection.media.max_bytes: expected a positive whole number, got {max_bytes!r}")
    return LocalMediaStore(path, max_bytes=max_bytes)


def __getattr__(name: str) -> Any:
    """``S3MediaStore`` on demand: its client library loads only when an S3 store is configured."""
    if name == "S3MediaStore":
        from integrations.detection.s3 import S3MediaStore

        return S3MediaStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
