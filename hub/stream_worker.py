"""One camera's shared decoder: a PyAV container read in its own thread, and the consumers it feeds.

The thread demuxes every packet (stream statistics, packet sinks such as the HLS segmenter) but decodes only
what someone needs: nothing when only packets are wanted; keyframes alone when every frame consumer asks for
fewer frames per second than the camera sends keyframes (and for snapshots); every packet otherwise, since
H.264 P-frames need their predecessors. A supervisor task on the event loop restarts the thread on the core's
back-off table when the stream fails, and tells the camera's device health.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import av

from hub.backoff import Backoff
from hub.redact import redact_url
from hub.stream_consumers import FrameSubscription, PacketSink, StreamError
from hub.stream_frame import Frame, StreamInfo
from hub.stream_stats import RateMeter, StreamStats

if TYPE_CHECKING:
    from hub.camera import Camera
    from hub.streams import StreamManager

_LOGGER = logging.getLogger(__name__)

STATE_IDLE = "idle"
STATE_CONNECTING = "connecting"
STATE_STREAMING = "streaming"
STATE_RETRYING = "retrying"
STATE_FAILED = "failed"

#: Container formats that are live even when they report a duration.
LIVE_FORMATS = frozenset({"rtsp", "rtp", "sdp", "v4l2", "video4linux2", "mpjpeg", "flv", "live_flv", "mjpeg"})

#: Options every stream opens with unless the camera sets them: probe half a second, not five.
DEFAULT_OPTIONS: dict[str, str] = {"analyzeduration": "500000"}


class CameraStream:
    """The decoder of one camera and everything attached to it. Lives on the event loop except ``_read``."""

    def __init__(self, manager: StreamManager, camera: Camera) -> None:
        self.manager = manager
        self.camera = camera
        self.entity_id = camera.entity_id
        self.loop = manager.hub.loop
        self.state = STATE_IDLE
        self.users = 0
        self.closed = False
        self.frame_subscriptions: tuple[FrameSubscription, ...] = ()
        self.sinks: tuple[PacketSink, ...] = ()
        self.latest: Frame | None = None
        self.info: StreamInfo | None = None
        self.last_error: str | None = None
        self.opened_at: float | None = None
        self.sessions = 0
        self.failures = 0
        self.retry_delay: float | None = None
        self.next_retry_at: float | None = None
        self.frames_dropped = 0
        self.bytes_received = 0
        self.keyframe_interval: float | None = None
        self.snapshot_until = 0.0  # snapshots were asked for lately: keep a fresh frame until then
        self.received = RateMeter()
        self.decoded = RateMeter()
        self.backoff = Backoff(manager.retry_delays, cap=manager.max_retry_delay)
        self._waiters: list[asyncio.Future[Frame]] = []
        self._waiting = 0  # len(self._waiters), read by the decoder thread
        self._stop = threading.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._idle_timer: asyncio.TimerHandle | None = None
        self._frame_index = 0
        self._broken_sinks: set[int] = set()  # decoder thread: sinks that raised, until the loop detaches them

    def __repr__(self) -> str:
        return f"<CameraStream {self.entity_id} {self.state} users={self.users}>"

    # ----------------------------------------------------------------------------------- users (loop)

    def hold(self) -> None:
        """Someone needs the stream: open it if it is not, and cancel a pending idle close."""
        if self.closed:
            raise StreamError(f"the stream of {self.entity_id} is closed")
        self.users += 1
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        if self._task is None:
            self._task = self.manager.hub.create_background_task(self._supervise(), f"stream {self.entity_id}")

    def release(self) -> None:
        """One user left; the last one starts the idle grace, after which the decoder closes."""
        self.users = max(0, self.users - 1)
        if self.users == 0 and not self.closed and self._idle_timer is None:
            self._idle_timer = self.loop.call_later(self.manager.idle_timeout, self._idle)

    def _idle(self) -> None:
        self._idle_timer = None
        if self.users == 0 and not self.closed:
            self.manager.hub.create_task(self.manager.close_stream(self), f"close stream {self.entity_id}")

    def add_frames(self, subscription: FrameSubscription) -> None:
        self.frame_subscriptions = (*self.frame_subscriptions, subscription)
        if self.state == STATE_FAILED:
            subscription.close(StreamError(self.last_error or "the camera cannot stream"))

    def remove_frames(self, subscription: FrameSubscription) -> None:
        self.frame_subscriptions = tuple(sub for sub in self.frame_subscriptions if sub is not subscription)

    def add_sink(self, sink: PacketSink) -> None:
        self.sinks = (*self.sinks, sink)

    def remove_sink(self, sink: PacketSink) -> None:
        self.sinks = tuple(existing for existing in self.sinks if existing is not sink)

    # -------------------------------------------------------------------------------------- frames (loop)

    async def fresh_frame(self, max_age: float, timeout: float) -> Frame:
        """The latest frame if it is at most ``max_age`` s old, else the next one decoded (within ``timeout``)."""
        now = time.time()
        self.snapshot_until = now + self.manager.idle_timeout
        latest = self.latest
        if latest is not None and now - latest.time <= max_age:
            return latest
        return await self.next_frame(timeout)

    async def next_frame(self, timeout: float) -> Frame:
        """The next frame decoded; fails at once while the stream is retrying or failed, with the reason."""
        if self.state in (STATE_RETRYING, STATE_FAILED):
            raise StreamError(self.last_error or "the stream is not available")
        future: asyncio.Future[Frame] = self.loop.create_future()
        self._waiters.append(future)
        self._waiting = len(self._waiters)
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            reason = f"no frame within {timeout:g} s"
            raise StreamError(f"{reason} ({self.last_error})" if self.last_error else reason) from None
        finally:
            if future in self._waiters:
                self._waiters.remove(future)
            self._waiting = len(self._waiters)

    def _deliver(self, frame: Frame, targets: tuple[FrameSubscription, ...]) -> None:
        for subscription in targets:
            if not subscription.closed:
                self.frames_dropped += subscription.put(frame)
        waiters, self._waiters = self._waiters, []
        self._waiting = 0
        for future in waiters:
            if not future.done():
                future.set_result(frame)

    # ------------------------------------------------------------------------------------ lifecycle (loop)

    async def close(self, error: StreamError | None = None) -> None:
        """Stop the decoder, end every subscription, and wait (bounded) for the thread to let go of the source."""
        if self.closed:
            return
        self.closed = True
        self._stop.set()
        self._wake.set()
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        for subscription in self.frame_subscriptions:
            subscription.close(error)
        for sink in self.sinks:
            closer = getattr(sink, "close", None)
            if callable(closer):
                closer(error)
        self._fail_waiters(error or StreamError(f"the stream of {self.entity_id} was closed"))
        if self._task is not None:
            await asyncio.wait([self._task], timeout=self.manager.close_timeout)
        if self.state != STATE_FAILED:
            self.state = STATE_IDLE
        self.camera.set_stream_state(streaming=False)

    async def wait_thread_ended(self, timeout: float) -> bool:
        """True once the decoder thread has closed its container (the socket is released)."""
        thread = self._thread
        if thread is None:
            return True
        await asyncio.to_thread(thread.join, timeout)
        return not thread.is_alive()

    def _fail_waiters(self, error: StreamError) -> None:
        waiters, self._waiters = self._waiters, []
        self._waiting = 0
        for future in waiters:
            if not future.done():
                future.set_exception(error)

    async def _supervise(self) -> None:
        """Open, read until the session ends, and on failure wait the back-off delay before the next try."""
        while not self.closed:
            try:
                source = await self.camera.stream_source()
            except Exception as err:  # an integration's lookup (ONVIF GetStreamUri) failed: retry like a failure
                error: str | None = f"finding the stream failed: {_describe(err)}"
                opened = False
            else:
                if source is None:
                    self._fail_permanently(f"{self.entity_id} has no video stream (snapshot-only camera)")
                    return
                self.state = STATE_CONNECTING
                opened, error = await self._run_session(source)
            if self.closed:
                return
            if error is None:
                continue  # a file reached its end: play it again from the start
            if opened:
                self.backoff.reset()
            delay = self.backoff.failed() or self.backoff.cap
            self._failed(error, delay)
            self._wake.clear()
            try:
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def _run_session(self, source: str) -> tuple[bool, str | None]:
        options = {**DEFAULT_OPTIONS, **dict(self.camera.stream_options)}
        done: asyncio.Future[tuple[bool, str | None]] = self.loop.create_future()
        thread = threading.Thread(
            target=self._read,
            args=(source, self.camera.stream_format, options, done),
            name=f"stream {self.entity_id}",
            daemon=True,
        )
        self._thread = thread
        thread.start()
        try:
            return await asyncio.shield(done)
        except asyncio.CancelledError:
            self._stop.set()
            raise

    def _opened(self, info: StreamInfo, open_ms: float) -> None:
        if self.closed:
            return
        recovered = self.failures > 0
        self.info = info
        self.sessions += 1
        self.state = STATE_STREAMING
        self.opened_at = time.time()
        self.failures = 0
        self.retry_delay = None
        self.next_retry_at = None
        self.camera.set_stream_state(streaming=True, available=True)
        if (health := self.camera.health) is not None:
            health.report_success()
        log = _LOGGER.info if recovered else _LOGGER.debug
        log("%s: stream open (%s %dx%d) in %.0f ms", self.entity_id, info.codec, info.width, info.height, open_ms)

    def _failed(self, error: str, delay: float) -> None:
        self.failures += 1
        self.last_error = error
        self.state = STATE_RETRYING
        self.retry_delay = delay
        self.next_retry_at = time.time() + delay
        self.received.clear()
        self.decoded.clear()
        self.camera.set_stream_state(streaming=False, available=False)
        if (health := self.camera.health) is not None:
            health.report_failure(error)
        self._fail_waiters(StreamError(error))
        log = _LOGGER.warning if self.failures == 1 else _LOGGER.debug
        log("%s: stream failed (%s); retrying in %g s", self.entity_id, error, delay)

    def _fail_permanently(self, error: str) -> None:
        self.state = STATE_FAILED
        self.last_error = error
        failure = StreamError(error)
        for subscription in self.frame_subscriptions:
            subscription.close(failure)
        for sink in self.sinks:
            closer = getattr(sink, "close", None)
            if callable(closer):
                closer(failure)
        self._fail_waiters(failure)

    def stats(self) -> StreamStats:
        now = time.time()
        info = self.info
        return StreamStats(
            entity_id=self.entity_id,
            state=self.state,
            open=self.state == STATE_STREAMING,
            consumers=self.users,
            fps_received=self.received.rate(now),
            fps_decoded=self.decoded.rate(now),
            frames_decoded=self.decoded.total,
            frames_dropped=self.frames_dropped,
            packets_received=self.received.total,
            bytes_received=self.bytes_received,
            width=info.width if info else None,
            height=info.height if info else None,
            codec=info.codec if info else None,
            last_error=self.last_error,
            opened_at=self.opened_at,
            sessions=self.sessions,
            failures=self.failures,
            retry_delay=self.retry_delay,
            next_retry_at=self.next_retry_at,
            keyframe_interval=self.keyframe_interval,
        )

    # ---------------------------------------------------------------------------------- decoder thread

    def _call(self, callback: Callable[..., Any], *args: Any) -> None:
        try:
            self.loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the loop closed under us (the hub is gone): stop reading
            self._stop.set()

    def _read(
        self, source: str, format: str | None, options: dict[str, str], done: asyncio.Future[tuple[bool, str | None]]
    ) -> None:
        opened = False
        error: str | None = None
        container: Any = None
        started: list[PacketSink] = []
        manager = self.manager
        try:
            began = time.perf_counter()
            container = av.open(
                source, format=format, options=options, timeout=(manager.open_timeout, manager.stall_timeout)
            )
            if not container.streams.video:
                raise StreamError("the source has no video stream")
            video = container.streams.video[0]
            video.codec_context.thread_count = manager.decoder_threads
            info = StreamInfo(
                codec=video.codec_context.name,
                width=video.codec_context.width,
                height=video.codec_context.height,
                fps=float(video.average_rate) if video.average_rate else None,
                time_base=video.time_base,
                extradata=video.codec_context.extradata,
                session=self.sessions + 1,
                container_format=container.format.name,
            )
            opened = True
            self._call(self._opened, info, (time.perf_counter() - began) * 1000.0)
            duration = container.duration
            live = duration is None or duration <= 0 or container.format.name in LIVE_FORMATS
            packets = self._pump(container, video, info, live, started)
            if self._stop.is_set():
                pass
            elif live:
                error = "the stream ended"
            elif packets == 0:
                error = "the file has no video to play"  # replaying it at once would spin
        except av.error.ExitError:
            limit = manager.stall_timeout if opened else manager.open_timeout
            error = f"no data for {limit:g} s" if opened else f"no answer within {limit:g} s"
        except av.FFmpegError as err:
            error = _describe_av_error(err)
        except StreamError as err:
            error = str(err)
        except Exception as err:
            _LOGGER.exception("%s: stream reader failed on %s", self.entity_id, redact_url(source))
            error = _describe(err)
        finally:
            for sink in started:
                self._stop_sink(sink)
            if container is not None:
                container.close()
            if self._stop.is_set():
                error = None
            self._call(_resolve, done, (opened, error))

    def _pump(
        self, container: Any, video: av.VideoStream, info: StreamInfo, live: bool, started: list[PacketSink]
    ) -> int:
        """Read until the source ends or the stream is closed; returns how many packets came."""
        decoder = video.codec_context
        count = 0
        synced = False  # the decoder has had every packet since the last keyframe
        last_keyframe: float | None = None
        origin: float | None = None  # files: wall-clock time of pts 0, to play them at their own pace
        frame_spacing = 1.0 / info.fps if info.fps else 0.04
        clock: float | None = None  # media time (pts) of the packet: consumers' rates follow it, not arrival jitter
        estimated = False  # the clock counts frames because packets had no timestamp yet
        self._reset_schedules()
        for packet in container.demux(video):
            if self._stop.is_set():
                return count
            if packet.size == 0:
                continue
            count += 1
            now = time.time()
            position = float(packet.pts * packet.time_base) if packet.pts is not None and packet.time_base else None
            if not live and position is not None:
                if origin is None:
                    origin = now - position
                elif (wait := origin + position - now) > 0:
                    if self._stop.wait(min(wait, 1.0)):
                        return count
                    now = time.time()
            if position is None:  # no timestamp yet (RTSP before its first sync): count frames
                position = 0.0 if clock is None else clock + frame_spacing
                estimated = True
            elif clock is not None and estimated:
                self._shift_schedules(position - clock - frame_spacing)  # counted time becomes the camera's
                last_keyframe = None if last_keyframe is None else last_keyframe + position - clock - frame_spacing
                estimated = False
            elif clock is not None and not -1.0 < position - clock < 10.0:
                self._reset_schedules()  # a timestamp jump (camera clock reset): start the rates afresh
                last_keyframe = None
            else:
                estimated = False
            clock = position
            self.received.add(now)
            self.bytes_received += packet.size
            keyframe = packet.is_keyframe
            if keyframe:
                if last_keyframe is not None and clock > last_keyframe:
                    gap = clock - last_keyframe
                    previous = self.keyframe_interval
                    self.keyframe_interval = gap if previous is None else 0.7 * previous + 0.3 * gap
                last_keyframe = clock
            if self._wants_decode(now, clock, keyframe, synced):
                synced = self._decode(decoder, packet, now, clock, frame_spacing)
            else:
                synced = False
            self._feed_sinks(video, info, packet, started)
        return count

    def _reset_schedules(self) -> None:
        for subscription in self.frame_subscriptions:
            subscription.next_due = float("-inf")

    def _shift_schedules(self, delta: float) -> None:
        for subscription in self.frame_subscriptions:
            subscription.next_due += delta

    def _wants_decode(self, now: float, clock: float, keyframe: bool, synced: bool) -> bool:
        """Decode this packet? Only when a consumer is due, or continuously for high-rate consumers."""
        if not (keyframe or synced):
            return False  # a P-frame without its predecessors decodes to garbage
        gop = self.keyframe_interval
        for subscription in self.frame_subscriptions:
            if gop is None or subscription.interval < 0.9 * gop:
                return True  # wants more frames than keyframes: keep the decoder's reference chain
            if clock >= subscription.next_due - gop / 2:
                return True
        if self._waiting:
            return True
        if now < self.snapshot_until:
            # Snapshots asked lately: keep the latest frame younger than their maximum age. Keyframes suffice when
            # they come often enough; otherwise (long or unknown spacing) every frame is decoded meanwhile.
            max_age = self.manager.snapshot_max_age
            if gop is None or 1.2 * gop >= max_age:
                return True
            latest = self.latest
            return latest is None or now - latest.time >= max_age - 1.2 * gop
        return False

    def _decode(self, decoder: Any, packet: av.Packet, now: float, clock: float, frame_spacing: float) -> bool:
        try:
            images = decoder.decode(packet)
        except av.FFmpegError as err:  # a corrupt packet: skip to the next keyframe
            _LOGGER.debug("%s: undecodable packet: %s", self.entity_id, err)
            return False
        gop = self.keyframe_interval
        for image in images:
            self._frame_index += 1
            frame = Frame(image, now, self._frame_index, clock)
            self.latest = frame
            self.decoded.add(now)
            targets: list[FrameSubscription] = []
            for subscription in self.frame_subscriptions:
                sparse = gop is not None and subscription.interval >= 0.9 * gop
                slack = gop / 2 if sparse and gop is not None else frame_spacing / 2
                due = subscription.next_due
                if clock >= due - slack:
                    targets.append(subscription)
                    # Anchored to the schedule (no drift from jitter), re-anchored after a gap.
                    following = clock + subscription.interval
                    subscription.next_due = (
                        following if due == float("-inf") else max(due + subscription.interval, following - slack)
                    )
            if targets or self._waiting:
                self._call(self._deliver, frame, tuple(targets))
        return True

    def _feed_sinks(
        self, video: av.VideoStream, info: StreamInfo, packet: av.Packet, started: list[PacketSink]
    ) -> None:
        sinks = self.sinks
        for sink in started[:]:
            if sink not in sinks:
                started.remove(sink)
                self._stop_sink(sink)
        for sink in sinks:
            if id(sink) in self._broken_sinks:
                continue
            try:
                if sink not in started:
                    started.append(sink)
                    sink.start(video, info)
                sink.write(packet)
            except Exception:
                _LOGGER.exception("%s: packet consumer %r failed; detaching it", self.entity_id, sink)
                self._broken_sinks.add(id(sink))
                self._call(self.remove_sink, sink)

    def _stop_sink(self, sink: PacketSink) -> None:
        try:
            sink.stop()
        except Exception:
            _LOGGER.exception("%s: packet consumer %r failed to stop", self.entity_id, sink)


def _resolve(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _describe(err: BaseException) -> str:
    text = str(err)
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _describe_av_error(err: av.FFmpegError) -> str:
    """FFmpeg's reason without the URL it names (which may carry a password)."""
    reason = err.strerror or type(err).__name__
    if isinstance(err, av.error.HTTPUnauthorizedError | av.error.HTTPForbiddenError):
        return f"authentication failed: {reason}"
    return str(reason)
