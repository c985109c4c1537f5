"""One camera's detection: frames from the shared decoder, through the motion gate and the shared model, into
tracked events on the bus, rows in the store, media in the media store, and the camera's entities.

    frames (hub.streams, ``fps``) -> motion gate -> DetectorPool.detect -> label map, labels, min confidence,
    NMS per mapped label -> tracker -> zones + lifecycle -> store row, snapshot, ``detection`` event, entities
                                                                  `-> after ``end``: clip (background) -> store

The gate only lets frames through when something moves, while events are open (a person standing still is still
tracked until the event ends), while recent tracks may still confirm an event, and for a short hold after motion.
A frame the pool replaced by a newer one of this camera is dropped and counted, never queued. When the camera's
stream ends (its entity was removed, the hub stops) or stays down while events are open, those events end with
reason ``camera_gone`` (or ``stopped``) and the pipeline waits for the camera to come back.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.camera import Camera
from hub.core import EVENT_STATE_CHANGED
from hub.detection import EVENT_DETECTION, DetectionType
from hub.device_health import HealthLevel
from hub.stream_consumers import StreamError
from hub.stream_stats import RateMeter

from .boxes import Box, nms
from .const import (
    CONF_BACKEND,
    CONF_CAMERA,
    CONF_CLIPS,
    CONF_FPS,
    CONF_IMGSZ,
    CONF_LABEL_MAP,
    CONF_LABELS,
    CONF_MIN_CONFIDENCE,
    CONF_MODEL,
    CONF_SNAPSHOTS,
    CONF_ZONES,
    LABEL_NMS_IOU,
    SNAPSHOT_URL,
    STATS_INTERVAL,
    STREAM_RETRY_DELAY,
)
from .event import END_CAMERA_GONE, END_STOPPED, EventChange, TrackedEvent
from .lifecycle import EventLifecycle
from .media_store import MediaStoreError, MediaStoreFull, media_key
from .motion import MotionGate
from .schema import motion_settings
from .snapshots import snapshot_jpegs
from .tracker import ObjectTracker
from .zones import Zone, allowed, parse_zones

if TYPE_CHECKING:
    from hub.core import Hub
    from hub.device_health import DeviceHealth
    from hub.stream_frame import Frame

    from .clips import ClipRecorder
    from .entities import CameraEntities
    from .pool import DetectorPool
    from .runtime import DetectionRuntime

__all__ = ["CameraDetection", "CameraSettings"]

_LOGGER = logging.getLogger(__name__)

#: Seconds the detector keeps running after the last motion: an object needs a few frames to become an event.
MOTION_HOLD = 1.0
#: Seconds between two checks that the stream still delivers while events are open.
WATCHDOG_INTERVAL = 1.0


@dataclass(frozen=True, slots=True)
class CameraSettings:
    """A detection entry's data, resolved: the model path against the config dir, zones parsed."""

    camera: str
    model: Path
    imgsz: int
    backend: str
    labels: frozenset[str]
    label_map: Mapping[str, str]
    min_confidence: float
    fps: float
    motion: tuple[float, float] | None
    zones: tuple[Zone, ...]
    snapshots: bool
    clips: bool

    @classmethod
    def from_entry(cls, data: Mapping[str, Any], config_dir: Path) -> CameraSettings:
        model = Path(str(data[CONF_MODEL])).expanduser()
        if not model.is_absolute():
            model = Path(config_dir) / model
        return cls(
            camera=data[CONF_CAMERA],
            model=model,
            imgsz=int(data[CONF_IMGSZ]),
            backend=data[CONF_BACKEND],
            labels=frozenset(data.get(CONF_LABELS) or ()),
            label_map=dict(data.get(CONF_LABEL_MAP) or {}),
            min_confidence=float(data[CONF_MIN_CONFIDENCE]),
            fps=float(data[CONF_FPS]),
            motion=motion_settings(data),
            zones=tuple(parse_zones(data.get(CONF_ZONES) or [])),
            snapshots=bool(data.get(CONF_SNAPSHOTS, True)),
            clips=bool(data.get(CONF_CLIPS, True)),
        )


def map_labels(boxes: Sequence[Box], settings: CameraSettings) -> list[Box]:
    """The model's boxes as this camera wants them: labels mapped, filtered by label and confidence, and one box
    per object: NMS per mapped label removes the second class a model gave the same object (``normal`` and
    ``fall`` both become ``person``)."""
    label_map, labels, minimum = settings.label_map, settings.labels, settings.min_confidence
    kept: list[Box] = []
    for box in boxes:
        label = label_map.get(box.label, box.label)
        if box.confidence < minimum or (labels and label not in labels):
            continue
        kept.append(box if label == box.label else dataclasses.replace(box, label=label))
    if len(kept) < 2:
        return kept
    return nms(kept, LABEL_NMS_IOU)


class CameraDetection:
    """The detection loop of one camera entry; ``start`` and ``stop`` it, read ``stats()``."""

    def __init__(
        self,
        hub: Hub,
        runtime: DetectionRuntime,
        settings: CameraSettings,
        pool: DetectorPool,
        entities: CameraEntities,
        health: DeviceHealth,
        *,
        tenant_id: str | None,
        entry_id: str = "",
    ) -> None:
        self.hub = hub
        self.runtime = runtime
        self.settings = settings
        self.pool = pool
        self.entities = entities
        self.health = health
        self.tenant_id = tenant_id
        self.entry_id = entry_id
        self.camera_id = settings.camera
        self.gate = (
            None if settings.motion is None else MotionGate(threshold=settings.motion[0], min_area=settings.motion[1])
        )
        self.tracker = ObjectTracker(fps=settings.fps)
        self.lifecycle = EventLifecycle(self.camera_id, tenant_id, settings.zones)
        self.recorder: ClipRecorder | None = None
        self.state = "starting"  # starting, running, waiting (for the camera), stopped
        self.frames = 0
        self.detected = 0
        self.skipped = 0
        self.dropped = 0
        self.events_started = 0
        self.last_error: str | None = None
        self.media_problem: str | None = None
        self._detected_rate = RateMeter(10.0)
        self._skipped_rate = RateMeter(10.0)
        self._dropped_rate = RateMeter(10.0)
        self._last_frame = 0.0
        self._last_motion = float("-inf")
        self._last_sighting = float("-inf")
        self._snapshots: dict[str, tuple[str, str]] = {}  # event id -> (snapshot key, clean key) written so far
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._housekeeping: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._lock = asyncio.Lock()  # one batch of changes published at a time (frames, watchdog, stop)

    def __repr__(self) -> str:
        return f"<CameraDetection {self.camera_id} {self.state}>"

    # ------------------------------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._task = self.hub.create_background_task(self._run(), f"detection {self.camera_id}")
        self._housekeeping = self.hub.create_background_task(self._keep_house(), f"detection stats {self.camera_id}")

    async def stop(self) -> None:
        """End open events (reason ``stopped``), stop the loop and the clip recorder, finish pending clips."""
        if self._stopping:
            return
        self._stopping = True
        for task in (self._task, self._housekeeping):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self._end_all(END_STOPPED)
        await self._stop_recorder()
        if self._background:
            await asyncio.wait(set(self._background), timeout=30.0)
        self.state = "stopped"

    # ----------------------------------------------------------------------------------------- the loop

    async def _run(self) -> None:
        while not self._stopping:
            camera = self._live_camera()
            if camera is None:
                await self._wait(f"{self.camera_id} is not available")
                continue
            await self._start_recorder(camera)
            reason = END_CAMERA_GONE
            try:
                async with self.hub.streams.frames(camera, fps=self.settings.fps, queue_size=1) as frames:
                    self.state = "running"
                    self.last_error = None
                    replaced = 0
                    async for frame in frames:
                        if frames.dropped != replaced:  # we were slower than the camera: newer frames won
                            self._count_dropped(frames.dropped - replaced, frame.time)
                            replaced = frames.dropped
                        await self.process(frame)
                if self.hub.streams.stopped:
                    reason = END_STOPPED
                self.last_error = f"the stream of {self.camera_id} ended"
            except StreamError as err:
                self.last_error = f"camera stream: {err}"
                if self.hub.streams.stopped:
                    reason = END_STOPPED
            if reason != END_STOPPED:
                self._camera_lost(self.last_error)
            await self._end_all(reason)
            await self._stop_recorder()
            self._forget_stream()
            if reason == END_STOPPED:
                self.state = "stopped"
                return
            await self._wait(self.last_error)

    def _live_camera(self) -> Camera | None:
        """The camera entity as it is now (a reloaded camera entry makes a new object)."""
        entity = self.hub.entities.entity(self.camera_id)
        return entity if isinstance(entity, Camera) else None

    def _camera_lost(self, reason: str | None) -> None:
        self.state = "waiting"
        self.last_error = reason
        if self.health.level is not HealthLevel.OFFLINE or self.health.last_error != reason:
            self.health.report_failure(reason or "waiting for the camera")
        self.entities.set_available(False)

    async def _wait(self, reason: str | None) -> None:
        self._camera_lost(reason)
        back = asyncio.Event()
        unlisten = self.hub.bus.listen(
            EVENT_STATE_CHANGED,
            lambda event: back.set(),
            lambda event: event.data.get("entity_id") == self.camera_id and event.data.get("new_state") is not None,
        )
        try:  # the camera's entity written again (its entry set up anew) wakes us at once
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STREAM_RETRY_DELAY):
                    await back.wait()
        finally:
            unlisten()

    def _forget_stream(self) -> None:
        """A new session starts from scratch: no background, no tracks."""
        if self.gate is not None:
            self.gate.reset()
        self.tracker.reset()
        self.entities.set_counts({})

    # ----------------------------------------------------------------------------------- one frame

    async def process(self, frame: Frame) -> None:
        """Everything one frame goes through. The benchmark calls it directly with decoded frames."""
        now = frame.time
        self.frames += 1
        self._last_frame = time.monotonic()
        if self.gate is not None:
            motion, _ = self.gate.check(frame)
            if motion:
                self._last_motion = now
            elif not self._should_detect(now):
                self.skipped += 1
                self._skipped_rate.add(now)
                self.entities.set_counts({})
                return
        image = await frame.async_ndarray("bgr24")
        try:
            found = await self.pool.detect(self.camera_id, image, self.settings.min_confidence)
        except Exception as err:  # the model failed on this frame (worker died...): counted, reported, go on
            self._model_failed(err)
            return
        if found is None:
            self._count_dropped(1, now)
            return
        self.detected += 1
        self._detected_rate.add(now)
        boxes = map_labels(found, self.settings)
        tracks = self.tracker.update(boxes, now)
        if tracks:
            self._last_sighting = now
        changes = self.lifecycle.observe(tracks, frame, now)
        await self._update_counts([box for _, box in tracks])
        if changes:
            await self._publish(changes)

    def _count_dropped(self, count: int, now: float) -> None:
        self.dropped += count
        for _ in range(count):
            self._dropped_rate.add(now)

    def _should_detect(self, now: float) -> bool:
        """Without motion: while events are open, tracks may still confirm one, or motion was just now."""
        return (
            bool(self.lifecycle.active)
            or now - self._last_sighting <= self.tracker.lost_after
            or now - self._last_motion <= MOTION_HOLD
        )

    async def _update_counts(self, boxes: Sequence[Box]) -> None:
        zones = self.settings.zones
        counts = Counter(box.label for box in boxes if allowed(zones, box))
        for label in counts:
            await self.entities.ensure(label)
        self.entities.set_counts(counts)

    def _model_failed(self, err: BaseException) -> None:
        reason = f"model {self.settings.model}: {type(err).__name__}: {err}"
        if reason != self.last_error:
            _LOGGER.error("%s: detection failed: %s", self.camera_id, reason)
        self.last_error = reason
        self.health.report_failure(reason)

    # ------------------------------------------------------------------------------------ publishing

    async def _end_all(self, reason: str) -> None:
        await self._publish(self.lifecycle.end_all(time.time(), reason))

    async def _publish(self, changes: Sequence[EventChange]) -> None:
        """Store, media, bus and entities for each change, in the order the contract gives."""
        if not changes:
            return
        async with self._lock:
            for change in changes:
                try:
                    await self._publish_one(change)
                except Exception:  # one event's trouble (a database hiccup) must not stop the camera
                    _LOGGER.exception(
                        "%s: publishing the %s of event %s failed", self.camera_id, change.type, change.event.event_id
                    )
                self.entities.set_open_events(Counter(event.label for event in self.lifecycle.active))

    async def _publish_one(self, change: EventChange) -> None:
        event, store = change.event, self.runtime.store
        if change.type == "start":
            self.events_started += 1
            await self.entities.ensure(event.label)
            await store.started(event)
            snapshot, error = await self._write_snapshots(event)
            if snapshot is not None:
                await store.media_ready(event.event_id, snapshot_key=snapshot[0], clean_key=snapshot[1])
            elif error is not None:
                await store.media_ready(event.event_id, media_error=error)
            self._fire(event, change.type)
        elif change.type == "update":
            await store.updated(event)
            self._fire(event, change.type)
        else:
            snapshot, error = await self._write_snapshots(event)
            if snapshot is None:
                snapshot = self._snapshots.get(event.event_id)  # the one written at start still shows the object
            await store.ended(
                event,
                snapshot_key=snapshot[0] if snapshot else None,
                clean_key=snapshot[1] if snapshot else None,
                clip_key=None,
                media_error=error,
                reason=change.reason,
            )
            self._fire(event, change.type, reason=change.reason)
            self._snapshots.pop(event.event_id, None)
            if self.settings.clips and self.recorder is not None and event.end is not None:
                self._spawn(self._write_clip(self.recorder, event), f"clip {event.event_id}")
            event.best_frame = None  # the frame is not needed any more: let its memory go

    def _fire(self, event: TrackedEvent, kind: DetectionType, reason: str = "") -> None:
        data = event.event_data(kind)
        if event.event_id in self._snapshots:
            data["snapshot"] = SNAPSHOT_URL.format(event_id=event.event_id)
        if reason:
            data["reason"] = reason
        self.hub.bus.fire(EVENT_DETECTION, data, tenant_id=event.tenant_id)

    # ------------------------------------------------------------------------------------------- media

    async def _write_snapshots(self, event: TrackedEvent) -> tuple[tuple[str, str] | None, str | None]:
        """The event's best sighting as JPEGs (box drawn, and clean) in the media store; (keys, media error)."""
        frame = event.best_frame
        if not self.settings.snapshots or frame is None:
            return None, None
        keys = (
            media_key(event.tenant_id, event.camera, event.event_id, "snapshot", event.start),
            media_key(event.tenant_id, event.camera, event.event_id, "clean", event.start),
        )
        try:
            annotated, clean = await asyncio.to_thread(
                snapshot_jpegs, frame, event.best_box, event.label, event.top_confidence
            )
            media = self.runtime.media
            await media.put(keys[0], annotated, "image/jpeg")
            await media.put(keys[1], clean, "image/jpeg")
        except Exception as err:
            return None, self._media_failed(err)
        self._media_ok()
        self._snapshots[event.event_id] = keys
        return keys, None

    async def _write_clip(self, recorder: ClipRecorder, event: TrackedEvent) -> None:
        assert event.end is not None
        try:
            data = await recorder.clip(event.start, event.end)
            if data is None:
                return
            key = media_key(event.tenant_id, event.camera, event.event_id, "clip", event.start)
            await self.runtime.media.put(key, data, "video/mp4")
        except Exception as err:
            error = self._media_failed(err)
            with contextlib.suppress(Exception):
                await self.runtime.store.media_ready(event.event_id, media_error=error)
            return
        self._media_ok()
        await self.runtime.store.media_ready(event.event_id, clip_key=key)

    def _media_failed(self, err: BaseException) -> str:
        """A media write failed: the event is kept without it; a full store also warns on the camera's health."""
        full = isinstance(err, MediaStoreFull) or (isinstance(err, OSError) and err.errno == errno.ENOSPC)
        if full:
            reason = f"media store full: {err}"
        elif isinstance(err, MediaStoreError | OSError):
            reason = f"media store: {err}"
        else:
            reason = f"media: {type(err).__name__}: {err}"
        if self.media_problem is None:  # logged once until it clears
            _LOGGER.warning("%s: event media not written (%s); events are still recorded", self.camera_id, reason)
        self.media_problem = reason
        self.health.report_degraded(reason)
        return reason

    def _media_ok(self) -> None:
        if self.media_problem is not None:
            _LOGGER.info("%s: event media are written again", self.camera_id)
            self.media_problem = None
            self.health.report_success()

    # ---------------------------------------------------------------------------------- clip recorder

    async def _start_recorder(self, camera: Camera) -> None:
        if not self.settings.clips or (self.recorder is not None and self.recorder.camera is camera):
            return
        await self._stop_recorder()
        self.recorder = self.runtime.clip_recorder(camera)
        await self.recorder.start()

    async def _stop_recorder(self) -> None:
        recorder, self.recorder = self.recorder, None
        if recorder is not None:
            await recorder.stop()

    def _spawn(self, coroutine: Any, name: str) -> None:
        task = self.hub.create_task(coroutine, name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -------------------------------------------------------------------------------- housekeeping

    async def _keep_house(self) -> None:
        """Every second: end events of a stream that stopped delivering; every few seconds: the figures."""
        next_stats = 0.0
        while True:
            await asyncio.sleep(WATCHDOG_INTERVAL)
            await self._watchdog()
            if time.monotonic() >= next_stats:
                next_stats = time.monotonic() + STATS_INTERVAL
                self._refresh_stats()

    async def _watchdog(self) -> None:
        if not self.lifecycle.active:
            return
        silent = time.monotonic() - self._last_frame
        if silent < self.lifecycle.end_after + 1.0:
            return
        stream = self.hub.streams.stats(self.camera_id)
        if stream.state != "streaming":
            self._stream_down(stream.last_error or stream.state)
            await self._end_all(END_CAMERA_GONE)
        else:
            await self._publish(self.lifecycle.tick(time.time()))

    def _stream_down(self, reason: str) -> None:
        """The stream is reconnecting (the subscription waits through it): say so on the health and sensors."""
        self.last_error = f"camera stream: {reason}"
        if self.health.level is not HealthLevel.OFFLINE or self.health.last_error != self.last_error:
            self.health.report_failure(self.last_error)
        self.entities.set_available(False)

    def _refresh_stats(self) -> None:
        stats = self.stats()
        attributes = {
            "detection_fps": {"dropped": stats["dropped"], "dropped_fps": stats["dropped_fps"]},
            "skipped_fps": {"motion_score": stats["motion_score"]},
            "inference_ms": {"backend": stats["backend"], "device": stats["device"]},
        }
        self.entities.set_stats(stats, attributes)
        if self.state != "running":
            return
        stream = self.hub.streams.stats(self.camera_id)
        if stream.state in ("retrying", "failed"):  # reconnecting: the subscription waits through it
            self._stream_down(stream.last_error or stream.state)
            return
        self.last_error = None
        self.entities.set_available(True)
        if self.media_problem is not None:
            self.health.report_degraded(self.media_problem)
        elif stats["camera_fps"] or stats["detection_fps"] or stats["skipped_fps"]:
            inference = stats["inference_ms"]
            self.health.report_success(inference if isinstance(inference, float) else None)

    def stats(self) -> dict[str, Any]:
        """The figures of this camera's pipeline, for the sensors and the system page."""
        now = time.time()
        stream = self.hub.streams.stats(self.camera_id)
        try:
            pool = self.pool.stats(self.camera_id)
            inference: float | None = float(pool.inference_ms) if pool.inference_ms else None
        except Exception:  # a pool that is closing
            inference = None
        info = self.pool.info
        return {
            "camera": self.camera_id,
            "entry_id": self.entry_id,
            "state": self.state,
            "model": str(info.path),
            "backend": info.backend,
            "device": info.device,
            "imgsz": info.imgsz,
            "fps": self.settings.fps,
            "camera_fps": round(stream.fps_received, 2),
            "detection_fps": round(self._detected_rate.rate(now), 2),
            "skipped_fps": round(self._skipped_rate.rate(now), 2),
            "dropped_fps": round(self._dropped_rate.rate(now), 2),
            "inference_ms": None if inference is None else round(inference, 1),
            "frames": self.frames,
            "detected": self.detected,
            "skipped": self.skipped,
            "dropped": self.dropped,
            "motion_score": None if self.gate is None else round(self.gate.score, 4),
            "active_events": len(self.lifecycle.active),
            "events": self.events_started,
            "last_error": self.last_error,
            "media_error": self.media_problem,
        }
