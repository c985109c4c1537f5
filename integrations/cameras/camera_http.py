"""HTTP requests to cameras: Digest when the camera asks for it, Basic when it asks for that, never in clear first.

Cameras answer 401 with either challenge (Axis and Dahua Digest, cheap webcams Basic); the first request goes
out without credentials and the answer decides, so a Digest camera never sees the password in clear.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

USER_AGENT = "Gatehouse cameras"


class CameraAuthError(Exception):
    """The camera refused the credentials (HTTP or RTSP 401)."""


class CameraHttpError(Exception):
    """The camera answered an HTTP error. The message has the status, never the URL (it may hold a password)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"HTTP {status} {reason}".strip())
        self.status = status


@asynccontextmanager
async def camera_get(
    session: aiohttp.ClientSession,
    url: str,
    *,
    username: str = "",
    password: str = "",
    verify_tls: bool = False,
    timeout: float = 10.0,
) -> AsyncIterator[aiohttp.ClientResponse]:
    """GET ``url`` with the camera's credentials; the response is open inside the block. 401 raises
    ``CameraAuthError``, other error statuses ``CameraHttpError``."""
    client_timeout = aiohttp.ClientTimeout(total=None, connect=timeout, sock_read=timeout)
    # Cameras mostly have self-signed certificates: verification is the entry's choice (``verify_tls``).
    options = {"ssl": verify_tls, "timeout": client_timeout, "headers": {"User-Agent": USER_AGENT}}
    middlewares = (aiohttp.DigestAuthMiddleware(username, password),) if username else ()
    response = await session.get(url, middlewares=middlewares, **options)  # type: ignore[arg-type]
    try:
        challenge = response.headers.get("WWW-Authenticate", "")
        if response.status == 401 and username and challenge.lower().startswith("basic"):
            response.release()
            basic = {"Authorization": aiohttp.encode_basic_auth(username, password), "User-Agent": USER_AGENT}
            response = await session.get(url, **{**options, "headers": basic})  # type: ignore[arg-type]
        if response.status == 401:
            raise CameraAuthError("the camera refused the credentials (HTTP 401)")
        if response.status >= 400:
            raise CameraHttpError(response.status, response.reason or "")
        yield response
    finally:
        response.release()


async def fetch_image(
    session: aiohttp.ClientSession,
    url: str,
    *,
    username: str = "",
    password: str = "",
    verify_tls: bool = False,
    timeout: float = 10.0,
    max_bytes: int = 20 * 1024 * 1024,
) -> bytes:
    """One JPEG from a snapshot URL; anything that is not a JPEG raises ``ValueError``."""
    async with camera_get(
        session, url, username=username, password=password, verify_tls=verify_tls, timeout=timeout
    ) as response:
        body = await response.content.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise ValueError(f"the snapshot is larger than {max_bytes} bytes")
    if not body.startswith(b"\xff\xd8"):
        kind = response.headers.get("Content-Type", "unknown")
        raise ValueError(f"the snapshot URL did not answer a JPEG (Content-Type {kind})")
    return body
