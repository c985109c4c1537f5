"""The consumers of a camera stream: frame subscriptions, packet subscriptions, and packet sinks.

A frame subscription says how many frames per second it wants; the decoder thread decides from all of them which
packets to decode at all, and hands each subscription only its share. A subscription keeps the newest frames
(``queue_size``): a slow consumer skips frames instead of making the decoder wait, and the skips are counted.

Packet sinks run inside the decoder thread (the HLS segmenter remuxes there, with the input stream at hand);
``PacketSubscription`` is the sink that copies packets out to the event loop for anyone else.
"""

from __future__ import annotations

import asyncio
import collections
import time
from typing import TYPE_CHECKING, Protocol

from hub.exceptions import HubError
from hub.stream_frame import EncodedPacket, Frame, StreamInfo

if TYPE_CHECKING:
    import av

__all__ = ["FrameSubscription", "PacketSink", "PacketSubscription", "StreamError"]


class StreamError(HubError):
    """The camera's stream cannot give what was asked (unreachable, wrong credentials, no video, closed)."""


class FrameSubscription:
    """``async for frame in subscription``: frames at up to ``fps`` (None: every decoded frame).

    Iteration waits through reconnections; it ends when the stream is closed, and raises ``StreamError`` when the
    camera can never stream (no source).
    """

    __slots__ = ("_error", "_event", "_queue", "closed", "dropped", "interval", "next_due", "queue_size")

    def __init__(self, fps: float | None, queue_size: int = 2) -> None:
        if fps is not None and fps <= 0:
            raise ValueError("fps must be positive (or None for every frame)")
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self.interval = 0.0 if fps is None else 1.0 / fps
        self.next_due = float("-inf")  # media time of the next frame due; the decoder thread's only
        self.queue_size = queue_size
        self.dropped = 0
        self.closed = False
        self._queue: collections.deque[Frame] = collections.deque()
        self._event = asyncio.Event()
        self._error: StreamError | None = None

    def __aiter__(self) -> FrameSubscription:
        return self

    async def __anext__(self) -> Frame:
        while True:
            if self._queue:
                return self._queue.popleft()
            if self._error is not None:
                raise self._error
            if self.closed:
                raise StopAsyncIteration
            self._event.clear()
            await self._event.wait()

    def put(self, frame: Frame) -> int:
        """Queue a frame (event loop); returns how many older frames were dropped to make room."""
        dropped = 0
        while len(self._queue) >= self.queue_size:
            self._queue.popleft()
            dropped += 1
        self._queue.append(frame)
        self.dropped += dropped
        self._event.set()
        return dropped

    def close(self, error: StreamError | None = None) -> None:
        self.closed = True
        self._error = error
        self._event.set()


class PacketSink(Protocol):
    """Receives every demuxed video packet inside the decoder thread. Must be quick; must not block."""

    def start(self, stream: av.VideoStream, info: StreamInfo) -> None:
        """A session opened (first packet to come, or a reconnection): (re)build what depends on the stream."""

    def write(self, packet: av.Packet) -> None:
        """One packet, in decoding order. It was decoded already; a sink may rebase or mux it."""

    def stop(self) -> None:
        """The session ended or the sink was removed: flush and release."""


class PacketSubscription:
    """``async for item in subscription``: a ``StreamInfo`` at each (re)connection, then ``EncodedPacket`` copies.

    Up to ``queue_size`` items wait; beyond that the oldest are dropped and counted (``dropped``), and the next
    packet handed out after a drop is a keyframe, so a decoder or muxer downstream can resume cleanly.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, queue_size: int = 512) -> None:
        self._loop = loop
        self.queue_size = queue_size
        self.dropped = 0
        self.closed = False
        self.info: StreamInfo | None = None
        self._queue: collections.deque[StreamInfo | EncodedPacket] = collections.deque()
        self._event = asyncio.Event()
        self._error: StreamError | None = None
        self._session = 0
        self._need_keyframe = True  # decoder thread side

    # --------------------------------------------------------------------------- decoder thread (PacketSink)

    def start(self, stream: av.VideoStream, info: StreamInfo) -> None:
        self._session = info.session
        self._need_keyframe = True
        self._send(info)

    def write(self, packet: av.Packet) -> None:
        if self._need_keyframe and not packet.is_keyframe:
            return
        self._need_keyframe = False
        copy = EncodedPacket(
            data=bytes(packet),
            pts=packet.pts,
            dts=packet.dts,
            duration=packet.duration,
            time_base=packet.time_base,
            is_keyframe=packet.is_keyframe,
            session=self._session,
            time=time.time(),
        )
        self._send(copy)

    def stop(self) -> None:
        """Nothing to release: the queue stays readable until the subscription closes."""

    def _send(self, item: StreamInfo | EncodedPacket) -> None:
        try:
            self._loop.call_soon_threadsafe(self._push, item)
        except RuntimeError:  # the loop is closed: the hub is gone
            self.closed = True

    # ------------------------------------------------------------------------------------------ event loop

    def _push(self, item: StreamInfo | EncodedPacket) -> None:
        if self.closed:
            return
        if isinstance(item, StreamInfo):
            self.info = item
        elif len(self._queue) >= self.queue_size:
            self._queue.clear()
            self.dropped += self.queue_size
            self._need_keyframe = True
            return
        self._queue.append(item)
        self._event.set()

    def __aiter__(self) -> PacketSubscription:
        return self

    async def __anext__(self) -> StreamInfo | EncodedPacket:
        while True:
            if self._queue:
                return self._queue.popleft()
            if self._error is not None:
                raise self._error
            if self.closed:
                raise StopAsyncIteration
            self._event.clear()
            await self._event.wait()

    def close(self, error: StreamError | None = None) -> None:
        self.closed = True
        self._error = error
        self._event.set()
