"""The stream manager (``hub.streams``): one PyAV decoder per camera, shared by every consumer.

Snapshots, the MJPEG endpoint, HLS live view and detection all read the same decoder. It opens in its own thread
when the first consumer comes, decodes off the event loop and only as much as the consumers ask for, closes
``idle_timeout`` s after the last one leaves, and reconnects on the core's back-off table when the camera drops.

    async with hub.streams.frames(camera, fps=5) as frames:
        async for frame in frames:
            boxes = detector(await frame.async_ndarray("bgr24"))

    jpeg = await hub.streams.snapshot(camera, width=640)
    print(hub.streams.stats(camera.entity_id).fps_received)
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from hub.device_health import MAX_DELAY, RECONNECT_DELAYS
from hub.stream_consumers import FrameSubscription, PacketSubscription, StreamError
from hub.stream_frame import DEFAULT_JPEG_QUALITY, EncodedPacket, Frame, StreamInfo
from hub.stream_stats import StreamStats
from hub.stream_worker import CameraStream

if TYPE_CHECKING:
    from hub.camera import Camera
    from hub.core import Hub
    from hub.stream_hls import HlsSession

__all__ = [
    "EncodedPacket",
    "Frame",
    "FrameSubscription",
    "PacketSubscription",
    "StreamError",
    "StreamInfo",
    "StreamManager",
    "StreamStats",
]

_LOGGER = logging.getLogger(__name__)


class StreamManager:
    """Every open camera stream of the hub. Timings are attributes so tests and deployments can tune them.

    ``idle_timeout``: grace after the last consumer before the decoder closes. ``open_timeout`` /
    ``stall_timeout``: seconds to wait for the camera to answer / for the next packet (a stall is a failure).
    ``snapshot_max_age``: a snapshot reuses the latest frame up to this age. ``retry_delays``: the back-off table
    (the device-health one), capped at ``max_retry_delay``; streams with consumers retry forever.
    """

    def __init__(
        self,
        hub: Hub,
        *,
        idle_timeout: float = 10.0,
        open_timeout: float = 15.0,
        stall_timeout: float = 10.0,
        snapshot_max_age: float = 2.0,
        retry_delays: Sequence[float] = RECONNECT_DELAYS,
        max_retry_delay: float = MAX_DELAY,
        decoder_threads: int = 1,
        close_timeout: float = 5.0,
        hls_idle_timeout: float = 30.0,
        hls_segments: int = 6,
    ) -> None:
        self.hub = hub
        self.idle_timeout = idle_timeout
        self.open_timeout = open_timeout
        self.stall_timeout = stall_timeout
        self.snapshot_max_age = snapshot_max_age
        self.retry_delays = tuple(retry_delays)
        self.max_retry_delay = max_retry_delay
        self.decoder_threads = decoder_threads
        self.close_timeout = close_timeout
        self.hls_idle_timeout = hls_idle_timeout
        self.hls_segments = hls_segments
        self._streams: dict[str, CameraStream] = {}
        self._last_stats: dict[str, StreamStats] = {}
        self._hls: dict[str, HlsSession] = {}
        self.stopped = False

    # ------------------------------------------------------------------------------------------ consumers

    def stream(self, camera: Camera) -> CameraStream:
        """The camera's stream object, created (not opened) on first use."""
        if self.stopped:
            raise StreamError("the hub is stopping")
        if not camera.entity_id:
            raise StreamError(f"{camera!r} was not added to the hub; use hub.entities.add()")
        stream = self._streams.get(camera.entity_id)
        if stream is not None and stream.camera is not camera:  # the entity was set up again: a new object
            self.hub.create_task(self.close_stream(stream), f"close stream {stream.entity_id}")
            stream = None
        if stream is None:
            stream = self._streams[camera.entity_id] = CameraStream(self, camera)
        return stream

    @contextlib.asynccontextmanager
    async def frames(
        self, camera: Camera, *, fps: float | None = None, queue_size: int = 2
    ) -> AsyncIterator[FrameSubscription]:
        """Decoded frames at up to ``fps`` per second (None: all); the newest ``queue_size`` wait for you."""
        subscription = FrameSubscription(fps, queue_size)
        stream = self.stream(camera)
        stream.hold()
        stream.add_frames(subscription)
        try:
            yield subscription
        finally:
            subscription.close()
            stream.remove_frames(subscription)
            stream.release()

    @contextlib.asynccontextmanager
    async def packets(self, camera: Camera, *, queue_size: int = 512) -> AsyncIterator[PacketSubscription]:
        """Demuxed packets (copies) for recording or re-streaming: a ``StreamInfo`` at each (re)connection first."""
        subscription = PacketSubscription(self.hub.loop, queue_size)
        stream = self.stream(camera)
        stream.hold()
        stream.add_sink(subscription)
        try:
            yield subscription
        finally:
            subscription.close()
            stream.remove_sink(subscription)
            stream.release()

    async def latest_frame(self, camera: Camera, *, timeout: float = 10.0, max_age: float | None = None) -> Frame:
        """The latest decoded frame, at most ``max_age`` s old (opening the stream on demand)."""
        stream = self.stream(camera)
        stream.hold()
        try:
            return await stream.fresh_frame(self.snapshot_max_age if max_age is None else max_age, timeout)
        finally:
            stream.release()

    async def snapshot(
        self,
        camera: Camera,
        *,
        width: int | None = None,
        timeout: float = 10.0,
        quality: int = DEFAULT_JPEG_QUALITY,
        max_age: float | None = None,
    ) -> bytes:
        """A JPEG of the latest frame (``width`` pixels wide when given). Raises ``StreamError`` with the reason."""
        frame = await self.latest_frame(camera, timeout=timeout, max_age=max_age)
        return await frame.async_jpeg(width, quality)

    async def hls(self, camera: Camera) -> HlsSession:
        """The camera's live HLS session (fMP4 segments remuxed from the stream), started on first request."""
        from hub.stream_hls import HlsSession

        session = self._hls.get(camera.entity_id)
        if session is None or session.closed or session.camera is not camera:
            session = self._hls[camera.entity_id] = HlsSession(self, camera)
            session.start()
        session.touch()
        return session

    def _hls_ended(self, session: HlsSession) -> None:
        if self._hls.get(session.camera.entity_id) is session:
            del self._hls[session.camera.entity_id]

    # ---------------------------------------------------------------------------------------------- state

    def is_open(self, entity_id: str) -> bool:
        stream = self._streams.get(entity_id)
        return stream is not None and stream.state == "streaming"

    def stats(self, entity_id: str) -> StreamStats:
        """The stream's figures now; for a closed stream, the last ones seen (``open`` false)."""
        stream = self._streams.get(entity_id)
        if stream is not None:
            return stream.stats()
        return self._last_stats.get(entity_id) or StreamStats.idle(entity_id)

    def open_streams(self) -> list[str]:
        return sorted(self._streams)

    # ------------------------------------------------------------------------------------------ lifecycle

    async def async_close(self, entity_id: str) -> None:
        """Close a camera's decoder now (its entity was removed, or it sat idle): consumers' iterations end."""
        session = self._hls.pop(entity_id, None)
        if session is not None:
            await session.close()
        stream = self._streams.get(entity_id)
        if stream is not None:
            await self.close_stream(stream)

    async def close_stream(self, stream: CameraStream) -> None:
        """Close one stream object and wait (bounded) until its thread has released the source."""
        if self._streams.get(stream.entity_id) is stream:
            del self._streams[stream.entity_id]
        await stream.close()
        await stream.wait_thread_ended(self.close_timeout)
        self._last_stats[stream.entity_id] = dataclasses.replace(
            stream.stats(), open=False, consumers=0, fps_received=0.0, fps_decoded=0.0
        )

    async def async_stop(self) -> None:
        """Close every stream (the hub is stopping); threads get ``close_timeout`` s in all to let go."""
        self.stopped = True
        started = time.monotonic()
        for entity_id in list(self._hls):
            session = self._hls.pop(entity_id)
            await session.close()
        streams = list(self._streams.values())
        self._streams.clear()
        await asyncio.gather(*(stream.close() for stream in streams))
        for stream in streams:
            left = self.close_timeout - (time.monotonic() - started)
            if not await stream.wait_thread_ended(max(0.0, left)):
                _LOGGER.warning("%s: stream reader still busy at stop; abandoning it", stream.entity_id)
