"""Live HLS for the dashboard: the camera's H.264/H.265 packets remuxed (never re-encoded) into fMP4 segments.

The segmenter is a packet sink in the decoder thread: it muxes each packet into one long fragmented MP4
(``frag_keyframe``: a fragment per group of pictures) written to memory, and cuts the byte stream at box
boundaries: ``ftyp`` + ``moov`` is the init segment, each ``moof`` + ``mdat`` a media segment. The session on the
event loop keeps the last few segments and answers the playlist, init and segment requests, waiting for a
segment that is about to come. A reconnection starts a new init (``#EXT-X-DISCONTINUITY``). Nobody asking for
``hls_idle_timeout`` s closes the session and lets the decoder go.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import struct
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import av

from hub.stream_consumers import StreamError
from hub.stream_frame import StreamInfo

if TYPE_CHECKING:
    from hub.camera import Camera
    from hub.stream_worker import CameraStream
    from hub.streams import StreamManager

__all__ = ["HLS_CODECS", "HlsSession", "HlsUnsupported", "Mp4BoxSplitter", "Segment"]

_LOGGER = logging.getLogger(__name__)

#: Codecs an fMP4 HLS stream carries as they are.
HLS_CODECS = frozenset({"h264", "hevc"})
MP4_OPTIONS = {"movflags": "frag_keyframe+empty_moov+default_base_moof+skip_trailer", "flush_packets": "1"}


class HlsUnsupported(StreamError):
    """The camera's codec cannot go into fMP4 HLS without re-encoding (MJPEG): use the MJPEG endpoint."""


@dataclass(frozen=True, slots=True)
class Segment:
    sequence: int
    session: int
    duration: float
    data: bytes
    created: float


class Mp4BoxSplitter:
    """A file-like sink for PyAV's MP4 muxer that cuts its output into the init segment and fragments."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._init = bytearray()
        self._moof: bytes | None = None
        self.init: bytes | None = None
        self.fragments: collections.deque[bytes] = collections.deque()

    def write(self, data: Any) -> int:
        self._buffer += data
        self._split()
        return len(data)

    def _split(self) -> None:
        buffer = self._buffer
        while len(buffer) >= 8:
            size, kind = struct.unpack(">I4s", buffer[:8])
            if size == 1 and len(buffer) >= 16:
                size = struct.unpack(">Q", buffer[8:16])[0]
            if size < 8 or len(buffer) < size:
                return
            box = bytes(buffer[:size])
            del buffer[:size]
            if kind == b"moof":
                self._moof = box
            elif kind == b"mdat" and self._moof is not None:
                self.fragments.append(self._moof + box)
                self._moof = None
            elif self.init is None:
                self._init += box
                if kind == b"moov":
                    self.init = bytes(self._init)


class HlsSegmenter:
    """The packet sink (decoder thread): remux into fMP4 and hand finished segments to the session."""

    def __init__(self, session: HlsSession) -> None:
        self.session = session
        self._output: Any = None
        self._splitter: Mp4BoxSplitter | None = None
        self._out_stream: Any = None
        self._session_id = 0
        self._waiting_for_keyframe = True
        self._starts: collections.deque[float] = collections.deque()  # start time of each open fragment
        self._last_dts: int | None = None
        self._last_end: float | None = None
        self._init_sent = False

    def __repr__(self) -> str:
        return f"<HlsSegmenter {self.session.camera.entity_id}>"

    def start(self, stream: av.VideoStream, info: StreamInfo) -> None:
        self._close_output()
        self._session_id = info.session
        if info.codec not in HLS_CODECS:
            reason = f"live view needs H.264 or H.265 video; this camera sends {info.codec} (use the MJPEG stream)"
            self.session.call(self.session.unsupported, reason)
            return
        self._splitter = Mp4BoxSplitter()
        self._output = av.open(self._splitter, "w", format="mp4", options=dict(MP4_OPTIONS))
        self._out_stream = self._output.add_stream_from_template(stream)
        self._waiting_for_keyframe = True
        self._starts.clear()
        self._last_dts = None
        self._last_end = None
        self._init_sent = False

    def write(self, packet: av.Packet) -> None:
        if self._output is None or packet.time_base is None:
            return
        if self._waiting_for_keyframe and not packet.is_keyframe:
            return
        if packet.pts is None:
            if packet.dts is None:
                return
            packet.pts = packet.dts
        if packet.dts is not None and self._last_dts is not None and packet.dts <= self._last_dts:
            return  # the muxer refuses non-increasing timestamps (a camera glitch): drop the packet
        start = float(packet.pts * packet.time_base)
        duration = float(packet.duration * packet.time_base) if packet.duration else 0.0
        keyframe = packet.is_keyframe
        packet.stream = self._out_stream
        try:
            self._output.mux(packet)
        except av.FFmpegError as err:
            _LOGGER.debug("%s: packet not muxed: %s", self.session.camera.entity_id, err)
            return
        self._last_dts = packet.dts
        self._waiting_for_keyframe = False
        if keyframe:
            self._starts.append(start)
        self._last_end = max(self._last_end or start, start + duration)
        self._collect()

    def stop(self) -> None:
        self._close_output()

    def _close_output(self) -> None:
        output, self._output = self._output, None
        if output is None:
            return
        try:
            output.close()  # flushes the open fragment
        except av.FFmpegError as err:
            _LOGGER.debug("%s: closing the muxer: %s", self.session.camera.entity_id, err)
        if self._last_end is not None:
            self._starts.append(self._last_end)  # the end of the last fragment
        self._collect()

    def _collect(self) -> None:
        splitter = self._splitter
        if splitter is None:
            return
        if not self._init_sent and splitter.init is not None:
            self._init_sent = True
            self.session.call(self.session.add_init, self._session_id, splitter.init)
        while splitter.fragments and len(self._starts) >= 2:
            data = splitter.fragments.popleft()
            begin = self._starts.popleft()
            duration = max(0.001, self._starts[0] - begin)
            self.session.call(self.session.add_segment, self._session_id, duration, data)


class HlsSession:
    """One camera's live HLS: the segmenter attached to its stream, the segments kept, the waiting requests."""

    def __init__(self, manager: StreamManager, camera: Camera) -> None:
        self.manager = manager
        self.camera = camera
        self.loop = manager.hub.loop
        self.segments: collections.deque[Segment] = collections.deque(maxlen=max(3, manager.hls_segments))
        self.inits: dict[int, bytes] = {}
        self.error: str | None = None
        self.closed = False
        self.last_access = time.monotonic()
        self._next_sequence = 0
        self._changed = asyncio.Event()
        self._stream: CameraStream | None = None
        self._segmenter = HlsSegmenter(self)
        self._watchdog: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        stream = self.manager.stream(self.camera)
        stream.hold()
        stream.add_sink(self._segmenter)
        self._stream = stream
        self._arm_watchdog()

    def touch(self) -> None:
        self.last_access = time.monotonic()

    def _arm_watchdog(self) -> None:
        self._watchdog = self.loop.call_later(max(0.05, self.manager.hls_idle_timeout / 2), self._check_idle)

    def _check_idle(self) -> None:
        self._watchdog = None
        if self.closed:
            return
        if time.monotonic() - self.last_access >= self.manager.hls_idle_timeout:
            self.manager.hub.create_task(self.close(), f"close HLS {self.camera.entity_id}")
        else:
            self._arm_watchdog()

    async def close(self, error: StreamError | None = None) -> None:
        if self.closed:
            return
        self.closed = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        self.manager._hls_ended(self)
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.remove_sink(self._segmenter)
            stream.release()
        self._changed.set()

    # ---------------------------------------------------------------------------- from the decoder thread

    def call(self, callback: Any, *args: Any) -> None:
        try:
            self.loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the loop is gone
            self.closed = True

    def unsupported(self, reason: str) -> None:
        self.error = reason
        self._changed.set()

    def add_init(self, session: int, data: bytes) -> None:
        self.inits[session] = data
        self.error = None
        self._changed.set()

    def add_segment(self, session: int, duration: float, data: bytes) -> None:
        if session not in self.inits:
            return
        self.segments.append(Segment(self._next_sequence, session, duration, data, time.time()))
        self._next_sequence += 1
        kept = {segment.session for segment in self.segments} | {max(self.inits)}
        for old in [key for key in self.inits if key not in kept]:
            del self.inits[old]
        self._changed.set()

    # ----------------------------------------------------------------------------------------- requests

    async def _wait(self, ready: Any, timeout: float) -> None:
        """Wait until ``ready()`` is true; raise the reason the stream cannot give it, or a timeout."""
        async with asyncio.timeout(timeout):
            while not ready():
                if self.error is not None:
                    raise HlsUnsupported(self.error)
                if self.closed:
                    raise StreamError("the live stream was closed")
                stream = self._stream
                if stream is not None and stream.state in ("retrying", "failed"):
                    raise StreamError(stream.last_error or "the camera's stream is not available")
                self._changed.clear()
                await self._changed.wait()

    async def playlist(self, timeout: float = 20.0) -> str:
        """The live media playlist, once there is at least one segment."""
        self.touch()
        try:
            await self._wait(lambda: bool(self.segments), timeout)
        except TimeoutError:
            raise StreamError(f"no video segment within {timeout:g} s") from None
        return render_playlist(list(self.segments))

    async def init_segment(self, session: int | None = None, timeout: float = 20.0) -> bytes:
        self.touch()
        try:
            await self._wait(lambda: bool(self.inits), timeout)
        except TimeoutError:
            raise StreamError(f"no video within {timeout:g} s") from None
        data = self.inits.get(session if session is not None else max(self.inits))
        if data is None:
            raise KeyError(session)
        return data

    async def segment(self, sequence: int, timeout: float = 15.0) -> bytes | None:
        """Segment ``sequence``: at once if kept, after a wait if it is the next one or two, else None."""
        self.touch()

        def find() -> Segment | None:
            for segment in self.segments:
                if segment.sequence == sequence:
                    return segment
            return None

        found = find()
        if found is None and self._next_sequence <= sequence <= self._next_sequence + 1:
            try:
                await self._wait(lambda: find() is not None, timeout)
            except TimeoutError:
                return None
            found = find()
        return None if found is None else found.data


def render_playlist(segments: list[Segment]) -> str:
    """An HLS v7 live playlist: fMP4 segments, each session's init in ``EXT-X-MAP``, discontinuities marked."""
    target = max(1, math.ceil(max(segment.duration for segment in segments)))
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{target}",
        f"#EXT-X-MEDIA-SEQUENCE:{segments[0].sequence}",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    session: int | None = None
    for segment in segments:
        if segment.session != session:
            if session is not None:
                lines.append("#EXT-X-DISCONTINUITY")
            lines.append(f'#EXT-X-MAP:URI="init.mp4?session={segment.session}"')
            session = segment.session
        lines.append(f"#EXTINF:{segment.duration:.3f},")
        lines.append(f"segment/{segment.sequence}.m4s")
    return "\n".join(lines) + "\n"
