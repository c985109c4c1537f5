"""Event clips: the camera's own encoded packets around an event, remuxed into MP4 without re-encoding.

A ``ClipRecorder`` subscribes to the camera's packets (``hub.streams.packets``) and keeps a ring of them: the
last ``pre_roll`` seconds back to a keyframe, plus everything since the start of each detection event still open
on that camera (it follows the ``detection`` bus events), never more than ``max_length`` seconds (plus the rolls)
or ``max_bytes``: a longer event's clip is its last ``max_length`` seconds.
``clip(start, end)`` waits for the post-roll, then muxes the packets from the keyframe at or before
``start - pre_roll`` up to ``end + post_roll`` into a faststart MP4 in a worker thread: H.264 in MP4 plays in
every browser, and the pixels are the camera's own.

    recorder = ClipRecorder(hub, camera, pre_roll=5, post_roll=5)
    await recorder.start()
    mp4 = await recorder.clip(event.start, event.end)   # None: nothing recorded, or MJPEG
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import contextlib
import datetime as dt
import functools
import io
import itertools
import logging
import os
import struct
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import av

from hub.detection import EVENT_DETECTION
from hub.stream_consumers import PacketSubscription, StreamError
from hub.stream_frame import EncodedPacket, StreamInfo

if TYPE_CHECKING:
    from hub.camera import Camera
    from hub.core import Event, Hub

__all__ = ["CLIP_CODECS", "ClipRecorder", "remux_mp4"]

_LOGGER = logging.getLogger(__name__)

#: Codecs an MP4 carries as they come from the camera (MJPEG would need re-encoding: no clip).
CLIP_CODECS = frozenset({"h264", "hevc"})
DEFAULT_MAX_BYTES = 32 * 1024 * 1024
#: How long past ``end + post_roll`` a clip waits for a stalled stream before muxing what it has.
WAIT_GRACE = 10.0
#: An open event's hold is dropped this long after its ``end`` (the clip has been taken by then).
HOLD_AFTER_END = 60.0
RESUBSCRIBE_DELAY = 5.0


class ClipRecorder:
    """One camera's pre-roll ring and clip maker; runs while started (it keeps the camera's stream open)."""

    def __init__(
        self,
        hub: Hub,
        camera: Camera,
        *,
        pre_roll: float = 5.0,
        post_roll: float = 5.0,
        max_length: float = 120.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.hub = hub
        self.camera = camera
        self.pre_roll = max(0.0, pre_roll)
        self.post_roll = max(0.0, post_roll)
        self.max_length = max(1.0, max_length)
        self.max_bytes = max_bytes
        self.wait_grace = WAIT_GRACE
        self.ring: collections.deque[EncodedPacket] = collections.deque()
        self.ring_bytes = 0
        self.sessions: dict[int, tuple[StreamInfo, bytes | None]] = {}  # session -> (info, stream template)
        self.last_time = 0.0  # receive time of the newest packet
        self._holds: dict[str, float] = {}  # event id -> start of the event (epoch s)
        self._releases: dict[str, asyncio.TimerHandle] = {}
        self._clip_ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unlisten: Callable[[], None] | None = None
        self._streaming = False

    def __repr__(self) -> str:
        return f"<ClipRecorder {self.camera.entity_id} {len(self.ring)} packets, {self.ring_bytes} bytes>"

    # ------------------------------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self._task is not None:
            return
        self.ring.clear()  # a restarted stream numbers its sessions afresh: never mix old packets in
        self.ring_bytes = 0
        self.sessions = {}
        self._unlisten = self.hub.bus.listen(EVENT_DETECTION, self._on_detection, self._is_mine)
        self._task = self.hub.create_background_task(self._run(), f"clip recorder {self.camera.entity_id}")

    async def stop(self) -> None:
        """Stop recording; clips still waiting are made at once from what was recorded."""
        task, self._task = self._task, None
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        for handle in self._releases.values():
            handle.cancel()
        self._releases.clear()
        self._holds.clear()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._changed.set()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def streaming(self) -> bool:
        """Subscribed to the camera's packets right now."""
        return self._streaming

    async def _run(self) -> None:
        while True:
            try:
                await self._record()
            except StreamError as err:
                _LOGGER.debug("%s: clip recorder: %s", self.camera.entity_id, err)
            if self.hub.streams.stopped:
                return
            await asyncio.sleep(RESUBSCRIBE_DELAY)  # the stream closed under us (camera set up again): resubscribe

    async def _record(self) -> None:
        subscription = _TemplateSubscription(self.hub.loop)
        stream = self.hub.streams.stream(self.camera)
        stream.hold()
        stream.add_sink(subscription)
        self._streaming = True
        try:
            async for item in subscription:
                if isinstance(item, StreamInfo):
                    template = subscription.templates.pop(item.session, None)
                    self.sessions = {s: v for s, v in self.sessions.items() if s >= item.session - 1}
                    self.sessions[item.session] = (item, template)
                elif item.session in self.sessions and self.sessions[item.session][1] is not None:
                    self._add(item)
                else:  # MJPEG and other codecs MP4 cannot carry as they are: not kept
                    self.last_time = item.time
        finally:
            self._streaming = False
            self._changed.set()
            subscription.close()
            stream.remove_sink(subscription)
            stream.release()

    # ------------------------------------------------------------------------------------------------ ring

    def _add(self, packet: EncodedPacket) -> None:
        self.ring.append(packet)
        self.ring_bytes += len(packet.data)
        self.last_time = packet.time
        self._trim(packet.time)
        self._changed.set()

    def _keep_from(self, now: float) -> float:
        """The oldest receive time the ring must still cover."""
        oldest = now - self.pre_roll
        if self._holds:
            oldest = min(oldest, min(self._holds.values()) - self.pre_roll)
        return max(oldest, now - (self.pre_roll + self.max_length + self.post_roll))

    def _trim(self, now: float) -> None:
        """Drop whole groups of pictures older than needed or over the byte budget; the ring starts on a keyframe."""
        ring = self.ring
        keep_from = self._keep_from(now)
        while len(ring) > 1:
            cut = next((i for i in range(1, len(ring)) if ring[i].is_keyframe), None)
            if cut is None:  # a single group of pictures: kept whole (the newest is always decodable)
                break
            if self.ring_bytes <= self.max_bytes and ring[cut].time > keep_from:
                break
            for _ in range(cut):
                self.ring_bytes -= len(ring.popleft().data)

    # ------------------------------------------------------------------------------------ event holds

    def _is_mine(self, event: Event[Any]) -> bool:
        data = event.data
        return isinstance(data, Mapping) and data.get("camera") == self.camera.entity_id

    def _on_detection(self, event: Event[Any]) -> None:
        """Open events keep their packets from their start on; an ended one lets go once its clip is taken."""
        data = event.data
        event_id = str(data.get("event_id") or data.get("track_id") or "")
        if not event_id:
            return
        start = _epoch(data.get("start")) or time.time() - self.pre_roll
        if data.get("type") == "end":
            self.hold(event_id, start)
            self.release(event_id, after=self.post_roll + HOLD_AFTER_END)
        else:
            self.hold(event_id, start)

    def hold(self, key: str, start: float) -> None:
        """Keep the packets from ``start - pre_roll`` on (at most ``max_length``) until ``release(key)``."""
        self._holds.setdefault(key, start)

    def release(self, key: str, *, after: float = 0.0) -> None:
        handle = self._releases.pop(key, None)
        if handle is not None:
            handle.cancel()
        if after > 0:
            self._releases[key] = self.hub.loop.call_later(after, self.release, key)
        else:
            self._holds.pop(key, None)

    # ------------------------------------------------------------------------------------------------ clips

    async def clip(self, start: float, end: float) -> bytes | None:
        """MP4 bytes of ``start - pre_roll`` .. ``end + post_roll`` (after waiting for the post-roll to arrive).

        None when no packets cover the window (the stream was gone) or the codec cannot go into MP4 (MJPEG).
        """
        if self.sessions and self.sessions[max(self.sessions)][1] is None:
            info = self.sessions[max(self.sessions)][0]
            _LOGGER.debug("%s: no clip: %s cannot go into MP4 as it is", self.camera.entity_id, info.codec)
            return None
        until = end + self.post_roll
        deadline = time.monotonic() + max(0.0, until - time.time()) + self.wait_grace
        hold = f"clip {next(self._clip_ids)}"
        self.hold(hold, start)  # the window's start stays in the ring while the post-roll comes in
        try:
            while self.last_time < until and self.running and self.hub.streams.is_open(self.camera.entity_id):
                self._changed.clear()
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(left):
                        await self._changed.wait()
            packets, session = self.select(start - self.pre_roll, until)
        finally:
            self.release(hold)
        if not packets or session is None:
            return None
        info, template = session
        if info.codec not in CLIP_CODECS or template is None:
            _LOGGER.debug("%s: no clip: %s cannot go into MP4 as it is", self.camera.entity_id, info.codec)
            return None
        return await asyncio.to_thread(functools.partial(remux_mp4, template, packets, annex_b=is_annex_b(info)))

    def select(self, begin: float, until: float) -> tuple[list[EncodedPacket], tuple[StreamInfo, bytes | None] | None]:
        """The packets from the keyframe at or before ``begin`` to the last one received by ``until``, one session.

        A window longer than ``max_length`` (plus the rolls) keeps its last part, the one the ring still holds.
        """
        begin = max(begin, until - (self.pre_roll + self.max_length + self.post_roll))
        inside = [packet for packet in self.ring if packet.time <= until]
        if not inside or inside[-1].time < begin:
            return [], None
        # the session that recorded the window's start (a reconnection starts a new one: clips never mix them)
        times = [packet.time for packet in inside]
        anchor = inside[min(bisect.bisect_left(times, begin), len(inside) - 1)]
        same = [packet for packet in inside if packet.session == anchor.session]
        first = 0
        for index, packet in enumerate(same):
            if packet.is_keyframe and packet.time <= begin:
                first = index
        while first < len(same) and not same[first].is_keyframe:
            first += 1
        return same[first:], self.sessions.get(anchor.session)


class _TemplateSubscription(PacketSubscription):
    """The packet subscription, plus each session's stream template made in the decoder thread at its start."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop, queue_size=1024)
        self.templates: dict[int, bytes | None] = {}

    def start(self, stream: av.VideoStream, info: StreamInfo) -> None:
        template: bytes | None = None
        if info.codec in CLIP_CODECS:
            try:
                template = stream_template(stream)
            except (av.FFmpegError, ValueError) as err:
                _LOGGER.warning("%s stream cannot be recorded as MP4: %s", info.codec, err)
        self.templates[info.session] = template  # set before the StreamInfo is queued to the loop
        super().start(stream, info)


def _epoch(value: Any) -> float | None:
    """Epoch seconds from an event's ``start`` (ISO string or number)."""
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.timestamp()
    return None


def stream_template(stream: av.VideoStream) -> bytes:
    """BLOCKING: an MP4 header (``ftyp`` + ``moov``, no samples) carrying ``stream``'s codec parameters.

    Opened again later, its stream is the template the clip muxer copies: the camera's own extradata, no encoder.
    """
    buffer = io.BytesIO()
    output = av.open(buffer, "w", format="mp4", options={"movflags": "frag_keyframe+empty_moov+default_base_moof"})
    try:
        output.add_stream_from_template(stream)
        output.start_encoding()
    finally:
        output.close()
    return buffer.getvalue()


def is_annex_b(info: StreamInfo) -> bool:
    """Packets with start codes (RTSP, MPEG-TS) rather than length prefixes: the extradata is not an avcC/hvcC."""
    return not info.extradata or info.extradata[0] != 1


def length_prefixed(data: bytes) -> bytes:
    """An Annex B access unit re-framed for MP4: each NAL unit after a 4-byte length instead of a start code.

    The NAL units themselves are untouched (this is what FFmpeg's MP4 muxer does to Annex B input).
    """
    out = bytearray()
    start = data.find(b"\x00\x00\x01")
    while start != -1:
        begin = start + 3
        start = data.find(b"\x00\x00\x01", begin)
        end = len(data) if start == -1 else start
        while end > begin and data[end - 1] == 0:  # trailing zeros and the 4-byte start code's leading zero
            end -= 1
        if end > begin:
            out += struct.pack(">I", end - begin) + data[begin:end]
    return bytes(out)


def remux_mp4(template: bytes, packets: Sequence[EncodedPacket], *, annex_b: bool = False) -> bytes:
    """BLOCKING: the packets (decode order, from a keyframe) as a faststart MP4 with timestamps from zero.

    ``annex_b``: the packets carry start codes (the template's parameter sets are an avcC/hvcC record already).
    """
    with tempfile.TemporaryDirectory(prefix="gatehouse-clip-") as folder:  # faststart rewrites the file
        path = os.path.join(folder, "clip.mp4")
        with av.open(io.BytesIO(template)) as source:
            _mux(path, source.streams.video[0], packets, annex_b)
        with open(path, "rb") as stream:
            return stream.read()


def _timestamps(packets: Sequence[EncodedPacket]) -> list[tuple[int, int] | None]:
    """(pts, dts) per packet; a missing pts (RTSP before its first sync) is filled from its neighbours."""
    known: list[int | None] = [packet.pts if packet.pts is not None else packet.dts for packet in packets]
    spacing = next((packet.duration for packet in packets if packet.duration), None)
    for index in range(1, len(known)):  # forwards: the previous one plus a frame
        previous, step = known[index - 1], packets[index - 1].duration or spacing
        if known[index] is None and previous is not None and step:
            known[index] = previous + step
    for index in range(len(known) - 2, -1, -1):  # backwards, for the first packets: the next one less a frame
        following, step = known[index + 1], packets[index].duration or spacing
        if known[index] is None and following is not None and step:
            known[index] = following - step
    return [
        None if pts is None else (pts, packet.dts if packet.dts is not None else pts)
        for packet, pts in zip(packets, known, strict=True)
    ]


def _mux(path: str, template: av.VideoStream, packets: Sequence[EncodedPacket], annex_b: bool) -> None:
    output = av.open(path, "w", format="mp4", options={"movflags": "+faststart"})
    try:
        stream = output.add_stream_from_template(template)
        time_base = packets[0].time_base or template.time_base
        if time_base is None:
            raise ValueError("the stream has no time base")
        stream.time_base = time_base
        origin: int | None = None
        last_dts: int | None = None
        for item, stamps in zip(packets, _timestamps(packets), strict=True):
            if stamps is None or (origin is None and not item.is_keyframe):
                continue  # no timestamp at all, or before the first keyframe that has one
            pts, dts = stamps
            if origin is None:
                origin = dts
            if last_dts is not None and dts - origin <= last_dts:
                continue  # the muxer refuses non-increasing timestamps (a camera glitch)
            packet = av.Packet(length_prefixed(item.data) if annex_b else item.data)
            packet.pts = pts - origin
            packet.dts = dts - origin
            packet.duration = item.duration or 0
            packet.time_base = item.time_base or time_base
            packet.is_keyframe = item.is_keyframe
            packet.stream = stream
            output.mux(packet)
            last_dts = dts - origin
    finally:
        output.close()
