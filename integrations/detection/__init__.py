"""Object detection on camera streams: a YOLO model (ONNX Runtime, or ultralytics on CUDA) over the frames of the
hub's shared decoders, gated by motion, tracked into ``detection`` events with snapshots and clips.

``detection:`` in configuration.yaml sets the hub-wide parts (media store, retention, clip rolls, batching,
threads: ``schema.CONFIG_SCHEMA``); without it the defaults apply. Each config entry (tenant-owned,
``schema.CONFIG_ENTRY_SCHEMA``) runs one camera's pipeline (``pipeline.CameraDetection``) with its model, labels,
label map, zones and fps; cameras sharing a model share one loaded detector (``pool``).

The hooks of the other modules are re-exported here because pluggy registers this package, not its modules:
``http_routes`` (api), ``dashboard_pages`` (pages), ``cli_commands`` (``gatehouse detection export|info``) and
``migration_folders`` (the ``detection`` Alembic branch).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from functools import partial
from typing import Any

from hub.camera import Camera
from hub.config_entries import EVENT_CONFIG_ENTRY_UPDATED, ConfigEntry, EntryState
from hub.core import Event, Hub, HubPhase
from hub.exceptions import ConfigEntryNotReady, HubError
from hub.hookspecs import hookimpl
from hub.integration import Integration, IotClass

from .api import http_routes
from .cli import cli_commands
from .const import CAMERA_WAIT, DOMAIN, INTEGRATION_NAME
from .entities import CameraEntities, camera_display_name
from .model import ModelError
from .models import migration_folders
from .pages import dashboard_pages
from .pipeline import CameraDetection, CameraSettings
from .runtime import configure_runtime, detection_health_key, runtime_of
from .schema import CONFIG_ENTRY_SCHEMA, CONFIG_SCHEMA

__all__ = ["cli_commands", "dashboard_pages", "http_routes", "integration", "migration_folders"]

_LOGGER = logging.getLogger(__name__)


class DetectionSetupError(HubError):
    """The entry cannot run as configured (unknown camera, camera of another tenant, camera taken)."""


@hookimpl
def integration() -> Integration:
    return Integration(
        domain=DOMAIN,
        name=INTEGRATION_NAME,
        iot_class=IotClass.CALCULATED,
        config_schema=CONFIG_SCHEMA,
        config_entry_schema=CONFIG_ENTRY_SCHEMA,
        async_setup=async_setup,
        async_setup_entry=async_setup_entry,
        async_unload_entry=async_unload_entry,
        documentation="Object detection on camera streams (YOLO through ONNX Runtime or ultralytics): motion "
        "gating, tracking, detection events with snapshots and clips, statistics.",
    )


async def async_setup(hub: Hub, config: Mapping[str, Any]) -> None:
    """The ``detection:`` section: media store, retention, clips, batching (before any camera entry)."""
    runtime = configure_runtime(hub, config)
    await runtime.async_start()
    _LOGGER.info("Detection media in %s", runtime.media.describe())


async def async_setup_entry(hub: Hub, entry: ConfigEntry) -> None:
    """One camera: check the camera, load (or share) the model, add the entities, start the pipeline."""
    runtime = runtime_of(hub)
    await runtime.async_start()
    settings = CameraSettings.from_entry(entry.data, hub.config_dir)
    camera = await _camera_of(hub, entry, settings.camera)
    running = runtime.cameras.get(settings.camera)
    if running is not None and running.entry_id != entry.entry_id:
        raise DetectionSetupError(f"{settings.camera} already has object detection (entry {running.entry_id})")
    device = hub.devices.get(camera.device_id) if camera.device_id else None
    display = camera_display_name(settings.camera, camera.name)
    key = detection_health_key(settings.camera)
    health = hub.health.track(key, f"{display} detection", device_id=camera.device_id, tenant_id=camera.tenant_id)
    try:
        pool = await runtime.pools.acquire(settings.model, imgsz=settings.imgsz, backend=settings.backend)
    except ModelError as err:
        # The camera is untouched (it keeps streaming to its other consumers); the health key says why.
        health.report_failure(str(err))
        runtime.remember_failure(entry.entry_id, settings.camera)
        raise
    runtime.forget_failure(entry.entry_id)
    entry.on_unload(partial(hub.health.untrack, key))
    entry.on_unload(partial(runtime.pools.release, pool))
    entities = CameraEntities(hub, entry, settings.camera, display, device)
    await entities.add_stats()
    for label in sorted(settings.labels):
        await entities.ensure(label)
    pipeline = CameraDetection(
        hub, runtime, settings, pool, entities, health, tenant_id=camera.tenant_id, entry_id=entry.entry_id
    )
    runtime.cameras[settings.camera] = pipeline
    entry.runtime_data = pipeline
    pipeline.start()
    _LOGGER.info(
        "Detection on %s: %s (%s on %s, imgsz %d) at %g fps",
        settings.camera,
        pool.info.path,
        pool.info.backend,
        pool.info.device,
        pool.info.imgsz,
        settings.fps,
    )


async def async_unload_entry(hub: Hub, entry: ConfigEntry) -> None:
    """Stop the pipeline (open events end with reason ``stopped``) and take its entities off the bus."""
    pipeline = entry.runtime_data
    if isinstance(pipeline, CameraDetection):
        await pipeline.stop()
        runtime = runtime_of(hub)
        if runtime.cameras.get(pipeline.camera_id) is pipeline:
            del runtime.cameras[pipeline.camera_id]
    await hub.entities.remove_entry_entities(entry.entry_id)


async def _camera_of(hub: Hub, entry: ConfigEntry, camera_id: str) -> Camera:
    """The live camera entity of the entry's tenant; waits a little for a camera entry still being set up and
    says "not ready" (retried) when the camera's entry is not loaded."""
    registered = hub.entities.get(camera_id)
    if hub.entities.entity(camera_id) is None and registered is not None and registered.config_entry_id:
        await _wait_for_entry(hub, registered.config_entry_id, camera_id)
    live = hub.entities.entity(camera_id)
    visible = (live or registered) is not None and (
        entry.tenant_id is None or getattr(live or registered, "tenant_id", None) == entry.tenant_id
    )
    if not visible:
        raise DetectionSetupError(f"camera {camera_id}: no such camera for this tenant")
    if not isinstance(live, Camera):
        raise ConfigEntryNotReady(f"camera {camera_id} is not loaded yet")
    return live


async def _wait_for_entry(hub: Hub, entry_id: str, camera_id: str) -> None:
    """Up to ``CAMERA_WAIT`` s for the camera's entry to settle, when it is being set up right now (hub start)."""
    owner = hub.config_entries.get(entry_id)
    pending = {EntryState.SETUP_IN_PROGRESS}
    if hub.phase in (HubPhase.NOT_RUNNING, HubPhase.STARTING):
        pending.add(EntryState.NOT_LOADED)  # every stored entry is about to be set up
    if owner is None or owner.disabled or owner.state not in pending:
        return
    settled = asyncio.Event()

    def changed(event: Event[Any]) -> None:
        if event.data.get("entry_id") == entry_id or hub.entities.entity(camera_id) is not None:
            settled.set()

    unlisten = hub.bus.listen(EVENT_CONFIG_ENTRY_UPDATED, changed)
    try:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CAMERA_WAIT):
                while hub.entities.entity(camera_id) is None and owner.state in pending:
                    settled.clear()
                    await settled.wait()
    finally:
        unlisten()
