"""A long-lived ``multipart/mixed`` response fed from a queue: the device's alertStream and the gateway's
subscribeDeviceMgmt stream both use it.

The response writes what is queued and, when nothing came for ``keepalive_interval`` seconds, a keep-alive part
(an inactive ``videoloss`` on devices, a heartbeat on the gateway). A reader that falls ``max_backlog`` parts
behind is dropped, as firmware drops slow clients. ``abort()`` cuts the TCP connection mid-stream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Final

from aiohttp import web

from .events import BOUNDARY

_CLOSE: Final = b""


class PartStream:
    """One open stream's queue of ``(seq, bytes)`` items; ``seq`` >= 0 marks an event whose write time counts."""

    __slots__ = ("_queue", "closed", "max_backlog")

    def __init__(self, max_backlog: int = 1000) -> None:
        self._queue: asyncio.Queue[tuple[int, bytes, bool]] = asyncio.Queue()
        self.max_backlog = max_backlog
        self.closed = False

    def offer(self, seq: int, data: bytes, *, abort_after: bool = False) -> None:
        if self.closed:
            return
        if self._queue.qsize() >= self.max_backlog:
            self.abort()  # a reader this far behind is gone or stuck
            return
        self._queue.put_nowait((seq, data, abort_after))

    async def next(self, timeout: float) -> tuple[int, bytes, bool] | None:
        """The next item, or None when nothing came for ``timeout`` seconds."""
        try:
            async with asyncio.timeout(timeout):
                return await self._queue.get()
        except TimeoutError:
            return None

    def close(self) -> None:
        """End the stream cleanly (the chunked body is terminated)."""
        self._queue.put_nowait((-1, _CLOSE, False))

    def abort(self) -> None:
        """Cut the connection without ending the body, as a device that reboots or loses its link does."""
        self._queue.put_nowait((-1, _CLOSE, True))


async def serve_stream(
    request: web.Request,
    stream: PartStream,
    *,
    keepalive: Callable[[], bytes],
    keepalive_interval: float,
    on_write: Callable[[int, float], None] | None = None,
    headers: dict[str, str] | None = None,
) -> web.StreamResponse:
    """Write ``stream`` to the client until it is closed, aborted, or the client goes away."""
    response = web.StreamResponse(headers=headers)
    response.content_type = "multipart/mixed"
    response.headers["Content-Type"] = f"multipart/mixed; boundary={BOUNDARY}"
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        while True:
            item = await stream.next(keepalive_interval)
            seq, data, abort_after = item if item is not None else (-1, keepalive(), False)
            if data:
                if seq >= 0 and on_write is not None:
                    on_write(seq, time.time())
                await response.write(data)
            if abort_after:
                _cut(request)
                return response
            if not data:
                break
        await response.write_eof()
    except ConnectionError:
        _cut(request)  # the client went away
    finally:
        stream.closed = True
    return response


def _cut(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.close()
