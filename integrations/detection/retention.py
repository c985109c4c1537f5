"""Media retention: delete event media older than ``days``, then the oldest until the store fits ``max_bytes``.

An event's files (snapshot, clean snapshot, clip) go together, oldest event first, so no event is left with half
its media. The caller (a scheduler job) then forgets the deleted keys in the event rows:

    result = await apply_retention(store, days=14, max_bytes=20 * 1024**3)
    await event_store.forget_media(result.deleted_keys)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from integrations.detection.media_store import MediaEntry, MediaStore, MediaStoreError

__all__ = ["RetentionResult", "apply_retention", "event_groups"]

_LOGGER = logging.getLogger(__name__)

DAY = 86400.0


@dataclass(slots=True)
class RetentionResult:
    """What one run deleted and what is left; ``error`` when the store failed part-way (the rest waits)."""

    deleted_keys: list[str] = field(default_factory=list)
    deleted_bytes: int = 0
    kept_files: int = 0
    kept_bytes: int = 0
    error: str | None = None

    @property
    def deleted(self) -> int:
        return len(self.deleted_keys)


@dataclass(slots=True)
class _Group:
    name: str
    entries: list[MediaEntry]

    @property
    def size(self) -> int:
        return sum(entry.size for entry in self.entries)

    @property
    def modified(self) -> float:
        """The newest file's time: a clip written after the snapshot keeps the event as young as it is."""
        return max(entry.modified for entry in self.entries)


def _group_name(key: str) -> str:
    """``t/cam/day/<event>-snapshot.jpg`` -> ``t/cam/day/<event>``; other files are a group of their own."""
    folder, _, name = key.rpartition("/")
    stem, dash, _ = name.rpartition("-")
    return f"{folder}/{stem}" if dash and stem else key


def event_groups(entries: Iterable[MediaEntry]) -> list[_Group]:
    """The store's files by event, oldest event first."""
    groups: dict[str, _Group] = {}
    for entry in entries:
        name = _group_name(entry.key)
        groups.setdefault(name, _Group(name, [])).entries.append(entry)
    return sorted(groups.values(), key=lambda group: (group.modified, group.name))


async def apply_retention(
    store: MediaStore, *, days: float | None, max_bytes: int | None, now: float | None = None
) -> RetentionResult:
    """Delete what is older than ``days`` (None: no age limit), then the oldest events beyond ``max_bytes``."""
    now = time.time() if now is None else now
    groups = event_groups(await store.entries())
    total = sum(group.size for group in groups)
    cutoff = None if days is None else now - days * DAY
    result = RetentionResult()
    doomed: list[_Group] = []
    for group in groups:  # oldest first
        too_old = cutoff is not None and group.modified < cutoff
        too_big = max_bytes is not None and total > max_bytes
        if not (too_old or too_big):
            break
        doomed.append(group)
        total -= group.size
    deleted: set[str] = set()
    try:
        for group in doomed:
            for entry in group.entries:
                await store.delete(entry.key)
                deleted.add(entry.key)
                result.deleted_keys.append(entry.key)
                result.deleted_bytes += entry.size
    except MediaStoreError as err:  # the store went away: what is deleted is reported, the rest waits
        result.error = str(err)
        _LOGGER.warning("media retention stopped: %s", err)
    left = [entry for group in groups for entry in group.entries if entry.key not in deleted]
    result.kept_files = len(left)
    result.kept_bytes = sum(entry.size for entry in left)
    if result.deleted_keys:
        _LOGGER.info(
            "media retention: deleted %d files (%d bytes) from %s",
            result.deleted,
            result.deleted_bytes,
            store.describe(),
        )
    return result
