"""Open a stream with PyAV, decode its first frame and measure it: response time, resolution, fps, codec.

Auto-detect and batch test run this on every candidate URL. It blocks (FFmpeg's own network code), so it runs
in the integration's small thread pool with FFmpeg's socket timeout as well as an asyncio deadline: a camera
that never answers costs one thread for at most ``timeout`` seconds, and the container is always closed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import av

#: Stream probing kept short: cameras send their parameters in the first packets.
FAST_OPEN = {"probesize": "262144", "analyzeduration": "1000000"}
#: Frames (or seconds) used to measure the frame rate when the container does not state it.
RATE_FRAMES = 6
RATE_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Measurement:
    """The outcome of opening one URL. ``error`` is None on success; nothing here carries credentials."""

    ok: bool
    response_time_ms: float | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    codec: str | None = None
    error: str | None = None
    auth_failed: bool = False

    @property
    def resolution(self) -> str | None:
        return f"{self.width}x{self.height}" if self.width and self.height else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "success": self.ok,
            "response_time_ms": None if self.response_time_ms is None else round(self.response_time_ms, 1),
            "resolution": self.resolution,
            "width": self.width,
            "height": self.height,
            "fps": None if self.fps is None else round(self.fps, 2),
            "codec": self.codec,
            "error": self.error,
        }


def _describe(err: BaseException) -> str:
    text = str(err)
    # FFmpeg errors end with ": '<url>'": the URL may carry credentials.
    if ": '" in text:
        text = text.split(": '", 1)[0]
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def open_and_measure(url: str, options: Mapping[str, str], stream_format: str | None, timeout: float) -> Measurement:
    """Blocking: open ``url``, decode one frame, measure. Never raises for a camera's failure."""
    started = time.perf_counter()
    try:
        container = av.open(url, format=stream_format, options={**FAST_OPEN, **options}, timeout=(timeout, timeout))
    except av.error.HTTPUnauthorizedError as err:
        return Measurement(False, error=_describe(err), auth_failed=True)
    except (av.error.FFmpegError, OSError, ValueError) as err:
        return Measurement(False, error=_describe(err))
    try:
        if not container.streams.video:
            return Measurement(False, error="no video stream")
        video = container.streams.video[0]
        video.thread_type = "AUTO"
        frame = _first_frame(container, video, started + timeout)
        if frame is None:
            return Measurement(False, error=f"no video frame within {timeout:g} s")
        response_ms = (time.perf_counter() - started) * 1000.0
        rate = video.average_rate or video.guessed_rate
        fps = float(rate) if rate else _measured_rate(container, video)
        return Measurement(True, response_ms, frame.width, frame.height, fps, video.codec_context.name)
    except (av.error.FFmpegError, OSError, ValueError) as err:
        return Measurement(False, error=_describe(err))
    finally:
        container.close()


def _first_frame(container: Any, video: Any, deadline: float) -> Any:
    for packet in container.demux(video):
        for frame in packet.decode():
            return frame
        if time.perf_counter() > deadline:
            return None
    return None


def _measured_rate(container: Any, video: Any) -> float | None:
    """Frames per second of wall clock over a few frames (MJPEG over HTTP states no rate); None when the
    stream stalls or breaks meanwhile (the first frame came: the stream still counts as working)."""
    started, frames = time.perf_counter(), 0
    try:
        for packet in container.demux(video):
            frames += len(packet.decode())
            elapsed = time.perf_counter() - started
            if frames >= RATE_FRAMES or elapsed > RATE_SECONDS:
                return frames / elapsed if elapsed > 0 and frames else None
    except (av.error.FFmpegError, OSError, ValueError):
        return None
    return None


async def measure_stream(
    url: str,
    *,
    options: Mapping[str, str] | None = None,
    stream_format: str | None = None,
    timeout: float = 10.0,
    executor: Executor | None = None,
) -> Measurement:
    """``open_and_measure`` off the event loop, within ``timeout`` (plus the rate measurement)."""
    loop = asyncio.get_running_loop()
    job = loop.run_in_executor(executor, open_and_measure, url, dict(options or {}), stream_format, timeout)
    try:
        return await asyncio.wait_for(asyncio.shield(job), timeout + RATE_SECONDS + 1.0)
    except TimeoutError:
        return Measurement(False, error=f"no answer within {timeout:g} s")
