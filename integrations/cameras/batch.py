"""Batch test: many cameras at once, each either a URL to measure or an address to auto-detect.

Bounded: ``CONCURRENCY`` cameras at a time (each auto-detect runs its own bounded triage and shares the
integration's probe threads), answers in the order asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from hub.redact import redact_url

from .autodetect import auto_detect
from .const import TYPE_HTTP_MJPEG, TYPE_HTTP_SNAPSHOT, TYPE_USB
from .measure import measure_stream
from .runtime import CamerasRuntime
from .urls import CameraUrlError, parse_camera_url, with_credentials

CONCURRENCY = 4


async def batch_test(
    runtime: CamerasRuntime, cameras: Sequence[Mapping[str, Any]], *, timeout: float
) -> list[dict[str, Any]]:
    slots = asyncio.Semaphore(CONCURRENCY)

    async def one(index: int, camera: Mapping[str, Any]) -> dict[str, Any]:
        async with slots:
            if camera.get("url"):
                result = await _test_url(runtime, camera, timeout)
            else:
                detection = await auto_detect(
                    runtime,
                    camera["host"],
                    username=camera.get("username", ""),
                    password=camera.get("password", ""),
                    manufacturer=camera.get("manufacturer"),
                    port=camera.get("port"),
                    http_port=camera.get("http_port"),
                    onvif_port=camera.get("onvif_port"),
                    timeout=timeout,
                )
                result = detection.as_dict()
        return {"index": index, "name": camera.get("name"), **result}

    return list(await asyncio.gather(*(one(index, camera) for index, camera in enumerate(cameras))))


async def _test_url(runtime: CamerasRuntime, camera: Mapping[str, Any], timeout: float) -> dict[str, Any]:
    url = with_credentials(str(camera["url"]), camera.get("username", ""), camera.get("password", ""))
    try:
        fields = parse_camera_url(url)
    except CameraUrlError as err:
        return {"success": False, "url": redact_url(url), "error": str(err)}
    kind = fields["connection_type"]
    options = {"rtsp_transport": camera.get("rtsp_transport", "tcp")} if url.startswith("rtsp") else {}
    stream_format = {TYPE_HTTP_MJPEG: "mpjpeg", TYPE_USB: "v4l2"}.get(kind)
    if kind == TYPE_HTTP_SNAPSHOT:
        stream_format = "image2pipe"
    async with runtime.probe_slots:
        measurement = await measure_stream(
            url, options=options, stream_format=stream_format, timeout=timeout, executor=runtime.executor
        )
    return {"connection_type": kind, "url": redact_url(url), **measurement.as_dict()}
