"""Health checks per connection type: the cheapest request that proves the camera would give us video.

Each check returns when the camera answered well and raises with a clear reason otherwise; the core's health
monitor times it (response-time levels) and retries on its back-off table. RTSP cameras get a ``DESCRIBE``
(wrong path and wrong credentials show as such), HTTP cameras a GET of the image, playlist or first MJPEG bytes,
RTMP servers the protocol's handshake, local files and devices a look at the file system.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import aiohttp

from .camera_http import camera_get, fetch_image
from .const import TYPE_FILE, TYPE_HLS, TYPE_HTTP_MJPEG, TYPE_HTTP_SNAPSHOT, TYPE_RTMP, TYPE_USB
from .rtsp_describe import describe
from .source import CameraSource
from .urls import split_userinfo

Check = Callable[[], Awaitable[object]]
RTMP_VERSION = 3
RTMP_HANDSHAKE_SIZE = 1536


async def rtmp_handshake(url: str, *, timeout: float = 5.0) -> None:
    """Send C0+C1, expect S0 (version 3) and S1: an RTMP server is listening and speaking the protocol."""
    parts = urlsplit(url)
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 1935)
        try:
            writer.write(bytes([RTMP_VERSION]) + bytes(RTMP_HANDSHAKE_SIZE))
            await writer.drain()
            answer = await reader.readexactly(1 + RTMP_HANDSHAKE_SIZE)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
    if answer[0] != RTMP_VERSION:
        raise ValueError(f"not an RTMP server (version byte {answer[0]})")


def _local_check(path: str, *, device: bool) -> Check:
    async def check() -> None:
        try:
            mode = (await asyncio.to_thread(os.stat, path)).st_mode
        except FileNotFoundError:
            raise FileNotFoundError(f"{path} does not exist") from None
        if device and not stat.S_ISCHR(mode):
            raise ValueError(f"{path} is not a video device")
        if not device and not stat.S_ISREG(mode):
            raise ValueError(f"{path} is not a file")
        if not os.access(path, os.R_OK):
            raise PermissionError(f"{path} is not readable by the hub")

    return check


def check_for(source: CameraSource, session: aiohttp.ClientSession, timeout: float) -> Check:
    """The check of one camera's source."""
    kind = source.connection_type
    auth = {"username": source.username, "password": source.password, "verify_tls": source.verify_tls}
    if kind == TYPE_FILE:
        return _local_check(source.stream_url or "", device=False)
    if kind == TYPE_USB:
        return _local_check(source.stream_url or "", device=True)
    if kind == TYPE_HTTP_SNAPSHOT:
        url = source.snapshot_url or ""

        async def snapshot_check() -> None:
            await fetch_image(session, url, timeout=timeout, **auth)  # type: ignore[arg-type]

        return snapshot_check
    url = source.stream_url or ""
    if kind == TYPE_RTMP:
        return lambda: rtmp_handshake(url, timeout=timeout)
    if kind in (TYPE_HTTP_MJPEG, TYPE_HLS):
        plain = split_userinfo(url)[0]

        async def http_check() -> None:
            async with camera_get(session, plain, timeout=timeout, **auth) as response:  # type: ignore[arg-type]
                first = await response.content.read(4096)
            if kind == TYPE_HLS and not first.lstrip().startswith(b"#EXTM3U"):
                raise ValueError("the HLS URL did not answer a playlist (#EXTM3U)")
            if kind == TYPE_HTTP_MJPEG and not first:
                raise ValueError("the MJPEG URL answered no data")

        return http_check
    return lambda: describe(url, timeout=timeout)
