"""What the stream manager hands its consumers: decoded frames, copies of packets, and the stream's description.

A ``Frame`` is shared by every consumer that receives it, so conversions (a BGR array for detection, a JPEG for
snapshots and MJPEG) are made once per frame and format, on first use, and cached. Conversions cost milliseconds:
call the ``async_`` variants from the event loop, they run in a worker thread.
"""

from __future__ import annotations

import asyncio
import io
import threading
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import av
    import numpy as np

__all__ = ["DEFAULT_JPEG_QUALITY", "EncodedPacket", "Frame", "StreamInfo", "codec_string"]

DEFAULT_JPEG_QUALITY = 80


class Frame:
    """One decoded picture. ``time``: when it was decoded (epoch seconds); ``media_time``: its place in the stream
    (seconds, from the camera's timestamps; restarts with each connection); ``index`` counts frames per stream."""

    __slots__ = ("_cache", "_lock", "image", "index", "media_time", "time")

    def __init__(self, image: av.VideoFrame, time: float, index: int, media_time: float | None = None) -> None:
        self.image = image
        self.time = time
        self.index = index
        self.media_time = time if media_time is None else media_time
        self._cache: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()

    @property
    def width(self) -> int:
        return int(self.image.width)

    @property
    def height(self) -> int:
        return int(self.image.height)

    def ndarray(self, format: str = "bgr24") -> np.ndarray[Any, Any]:
        """The picture as a numpy array (``bgr24`` for OpenCV and YOLO, ``gray``, ``rgb24``...), cached."""
        key = ("array", format)
        with self._lock:
            cached = self._cache.get(key)
            if cached is None:
                cached = self._cache[key] = self.image.to_ndarray(format=format)
            return cached

    def jpeg(self, width: int | None = None, quality: int = DEFAULT_JPEG_QUALITY) -> bytes:
        """The picture as JPEG, scaled to ``width`` (aspect kept, never enlarged), cached per size and quality."""
        width = None if width is None or width >= self.width else max(16, width)
        key = ("jpeg", width, quality)
        with self._lock:
            cached = self._cache.get(key)
            if cached is None:
                cached = self._cache[key] = _encode_jpeg(self.image, width, quality)
            return cached

    async def async_ndarray(self, format: str = "bgr24") -> np.ndarray[Any, Any]:
        return await asyncio.to_thread(self.ndarray, format)

    async def async_jpeg(self, width: int | None = None, quality: int = DEFAULT_JPEG_QUALITY) -> bytes:
        return await asyncio.to_thread(self.jpeg, width, quality)

    def __repr__(self) -> str:
        return f"<Frame #{self.index} {self.width}x{self.height} at {self.time:.3f}>"


def _encode_jpeg(image: av.VideoFrame, width: int | None, quality: int) -> bytes:
    if width is None:
        picture = image.to_image()
    else:
        height = max(2, round(image.height * width / image.width / 2) * 2)
        picture = image.to_image(width=width, height=height)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """The video stream of one open session. ``session`` grows at every (re)connection."""

    codec: str
    width: int
    height: int
    fps: float | None
    time_base: Fraction | None
    extradata: bytes | None
    session: int
    container_format: str

    @property
    def codec_string(self) -> str | None:
        """The RFC 6381 codec string a browser needs (``avc1.640028``), when it can be told from the stream."""
        return codec_string(self.codec, self.extradata)


@dataclass(frozen=True, slots=True)
class EncodedPacket:
    """A copy of one demuxed video packet, safe to keep after the decoder moved on (clips, re-streaming)."""

    data: bytes
    pts: int | None
    dts: int | None
    duration: int | None
    time_base: Fraction | None
    is_keyframe: bool
    session: int
    time: float

    @property
    def seconds(self) -> float | None:
        """Presentation time in seconds, when the packet has one."""
        if self.pts is None or self.time_base is None:
            return None
        return float(self.pts * self.time_base)


def codec_string(codec: str, extradata: bytes | None) -> str | None:
    """``avc1.PPCCLL`` from an H.264 avcC record or Annex B SPS; a generic ``hvc1`` for H.265; None otherwise."""
    if codec == "hevc":
        return "hvc1.1.6.L93.B0"
    if codec != "h264" or not extradata:
        return None
    if extradata[0] == 1 and len(extradata) >= 4:  # avcC: version, profile, compatibility, level
        profile, compatibility, level = extradata[1], extradata[2], extradata[3]
        return f"avc1.{profile:02x}{compatibility:02x}{level:02x}"
    start = extradata.find(b"\x00\x00\x01")
    while start != -1 and start + 7 <= len(extradata):
        nal = extradata[start + 3]
        if nal & 0x1F == 7:  # sequence parameter set
            profile, compatibility, level = extradata[start + 4], extradata[start + 5], extradata[start + 6]
            return f"avc1.{profile:02x}{compatibility:02x}{level:02x}"
        start = extradata.find(b"\x00\x00\x01", start + 3)
    return None
