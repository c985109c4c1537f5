"""What detection shares across a hub: the detector pools (one loaded model per file and size), the event store,
the media store, media retention, and the pipeline of each camera.

One ``DetectionRuntime`` per hub, made by ``runtime_of(hub)`` with the ``detection:`` section of
configuration.yaml (``async_setup`` configures it) or with the defaults when there is none. ``async_start`` runs
once before the first camera: rows a crash left open are closed (reason ``restart``) and retention is scheduled
hourly. The runtime stops with the hub, before the config entries unload: open events end with reason
``stopped`` while the database is still there, then the models are released.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hub.config_entries import EVENT_CONFIG_ENTRY_UPDATED
from hub.core import Event, Hub

from .clips import ClipRecorder
from .const import (
    CONF_CLIPS,
    CONF_DAYS,
    CONF_MAX_BATCH,
    CONF_MAX_SIZE_GB,
    CONF_MEDIA,
    CONF_POST_ROLL,
    CONF_PRE_ROLL,
    CONF_RETENTION,
    CONF_THREADS,
    DOMAIN,
    RETENTION_INTERVAL,
)
from .media_store import MediaStore, media_store_from_config
from .pool import DetectorPools
from .retention import RetentionResult, apply_retention
from .schema import CONFIG_SCHEMA
from .store import DetectionEventStore

if TYPE_CHECKING:
    from hub.camera import Camera

    from .pipeline import CameraDetection

__all__ = ["DetectionRuntime", "detection_health_key", "runtime_of"]

_LOGGER = logging.getLogger(__name__)

GIGABYTE = 1024**3


def detection_health_key(camera: str) -> str:
    """The health key of a camera's detection (``sensor.detection_<object id>_health``...)."""
    return f"detection_{camera.partition('.')[2]}"


def _default_threads() -> int:
    return max(1, (os.cpu_count() or 2) // 2)


class DetectionRuntime:
    """The hub's detection: ``pools``, ``store``, ``media``, ``cameras`` (camera entity id -> pipeline)."""

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        self.hub = hub
        self.config: dict[str, Any] = dict(config)
        self.pools = DetectorPools(
            max_batch=int(self.config[CONF_MAX_BATCH]), threads=self.config.get(CONF_THREADS) or _default_threads()
        )
        self.store = DetectionEventStore(hub)
        self.media: MediaStore = media_store_from_config(self.config[CONF_MEDIA], hub.config_dir)
        self.cameras: dict[str, CameraDetection] = {}
        self.last_retention: RetentionResult | None = None
        self.started = False
        self.stopped = False
        self._failed_entries: dict[str, str] = {}  # entry id -> camera, of entries whose set-up failed
        self._cancel_retention: Any = None
        self._unlisten: Any = None

    def __repr__(self) -> str:
        return f"<DetectionRuntime {len(self.cameras)} cameras, media in {self.media.describe()}>"

    # ------------------------------------------------------------------------------------------ lifecycle

    async def async_start(self) -> None:
        """Once, before the first camera: close rows a crash left open, schedule retention."""
        if self.started:
            return
        self.started = True
        closed = await self.store.close_open_events("restart")
        if closed:
            _LOGGER.info("Closed %d detection events left open by the last run", closed)
        self._cancel_retention = self.hub.scheduler.every(
            RETENTION_INTERVAL, self.apply_retention, "detection media retention", first_delay=60.0
        )
        self._unlisten = self.hub.bus.listen(EVENT_CONFIG_ENTRY_UPDATED, self._entry_removed, _is_detection_removal)

    async def async_stop(self) -> None:
        """The hub stops: every pipeline ends its events (``stopped``), then models and media are released."""
        if self.stopped:
            return
        self.stopped = True
        if self._cancel_retention is not None:
            self._cancel_retention()
        if self._unlisten is not None:
            self._unlisten()
        for pipeline in list(self.cameras.values()):
            await pipeline.stop()
        self.cameras.clear()
        await self.pools.close()
        await self.media.close()

    # -------------------------------------------------------------------------------------------- parts

    def clip_recorder(self, camera: Camera) -> ClipRecorder:
        clips = self.config[CONF_CLIPS]
        return ClipRecorder(
            self.hub, camera, pre_roll=float(clips[CONF_PRE_ROLL]), post_roll=float(clips[CONF_POST_ROLL])
        )

    async def apply_retention(self) -> RetentionResult:
        """Delete media beyond the configured age and size, then forget their keys in the event rows."""
        retention = self.config[CONF_RETENTION]
        days, size_gb = retention.get(CONF_DAYS), retention.get(CONF_MAX_SIZE_GB)
        result = await apply_retention(
            self.media, days=days, max_bytes=None if size_gb is None else int(size_gb * GIGABYTE)
        )
        if result.deleted_keys:
            await self.store.forget_media(result.deleted_keys)
            _LOGGER.info("Media retention deleted %d files (%d bytes)", result.deleted, result.deleted_bytes)
        if result.error:
            _LOGGER.warning("Media retention stopped early: %s", result.error)
        self.last_retention = result
        return result

    def _entry_removed(self, event: Event[Any]) -> None:
        """A removed entry that never loaded (a bad model) leaves its health sensors behind: take them away."""
        camera = self._failed_entries.pop(event.data["entry_id"], None)
        if camera is not None and camera not in self.cameras:
            self.hub.health.untrack(detection_health_key(camera))

    def remember_failure(self, entry_id: str, camera: str) -> None:
        self._failed_entries[entry_id] = camera

    def forget_failure(self, entry_id: str) -> None:
        self._failed_entries.pop(entry_id, None)

    # ----------------------------------------------------------------------------------------- figures

    def camera_stats(self) -> dict[str, dict[str, Any]]:
        """Per camera entity id: its pipeline's figures (fps in, detected, skipped, dropped, inference ms...)."""
        return {camera: pipeline.stats() for camera, pipeline in self.cameras.items()}

    def pool_stats(self) -> list[dict[str, Any]]:
        """Per loaded model: what it is and its counters (batches, frames, drops, inference ms per frame)."""
        result = []
        for pool in self.pools.pools():
            info = pool.info
            result.append(
                {
                    "model": str(info.path),
                    "imgsz": info.imgsz,
                    "labels": list(info.labels),
                    "cameras": pool.sources,
                    **pool.stats().as_dict(),
                }
            )
        return result


def _is_detection_removal(event: Event[Any]) -> bool:
    return bool(event.data.get("domain") == DOMAIN and event.data.get("action") == "remove")


def runtime_of(hub: Hub) -> DetectionRuntime:
    """The hub's detection runtime, made with the defaults on first use when configuration.yaml has no section."""
    runtime = hub.data.get(DOMAIN)
    if runtime is None:
        runtime = configure_runtime(hub, CONFIG_SCHEMA({}))
    assert isinstance(runtime, DetectionRuntime)
    return runtime


def configure_runtime(hub: Hub, config: Mapping[str, Any]) -> DetectionRuntime:
    """Make the hub's runtime from a validated ``detection:`` section (it stops with the hub)."""
    existing = hub.data.get(DOMAIN)
    if isinstance(existing, DetectionRuntime):
        if existing.started:
            raise RuntimeError("the detection runtime is already running; configure it before the first camera")
        hub.data.pop(DOMAIN)
    runtime = hub.data[DOMAIN] = DetectionRuntime(hub, config)
    hub.on_stop(runtime.async_stop)
    return runtime
