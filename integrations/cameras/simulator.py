"""An HTTP camera for tests and demos: MJPEG (``multipart/x-mixed-replace``), JPEG snapshots and an HLS clip,
behind Basic or Digest authentication, at the paths a chosen manufacturer uses.

    simulator = CameraSimulator(username="admin", password="secret", manufacturer="axis")
    await simulator.start()            # http://127.0.0.1:<port>/axis-cgi/mjpg/video.cgi ...
    simulator.mjpeg_url, simulator.snapshot_url, simulator.hls_url
    await simulator.stop()

Frames are a moving bar over a gradient with a frame counter, rendered once (one second's worth) and looped, so a
simulator costs almost no CPU. ``garbage=True`` makes it send parts that are not JPEG (a broken camera);
``stall_after`` stops the MJPEG stream after that many seconds without closing it (a hung camera).
``gatehouse simulate camera`` runs one from the command line (``cli.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import logging
import re
import secrets
import tempfile
from fractions import Fraction
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from .profiles import STREAM_MJPEG, STREAM_SNAPSHOT, profile_for
from .urls import fill_template

_LOGGER = logging.getLogger(__name__)

BOUNDARY = "gatehouseframe"
REALM = "Gatehouse camera simulator"
DEFAULT_MJPEG_PATH = "/video.mjpg"
DEFAULT_SNAPSHOT_PATH = "/snapshot.jpg"
HLS_PLAYLIST = "stream.m3u8"
_DIGEST_ITEM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]+))')


def render_frames(width: int, height: int, count: int, *, quality: int = 80) -> list[bytes]:
    """``count`` JPEG frames of a bar sweeping over a gradient, numbered in the corner."""
    from PIL import Image, ImageDraw

    frames = []
    for index in range(count):
        image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
        draw = ImageDraw.Draw(image)
        column = index * width // max(count, 1)
        draw.rectangle((column, 0, column + max(4, width // 40), height), fill=(255, 200, 0))
        draw.text((8, 8), f"frame {index}", fill=(255, 255, 255))
        output = io.BytesIO()
        image.save(output, format="JPEG", quality=quality)
        frames.append(output.getvalue())
    return frames


def write_hls(folder: Path, *, width: int, height: int, fps: int, seconds: int = 4) -> Path:
    """A finished HLS playlist of H.264 segments (1 s each), written with PyAV; returns the playlist."""
    import av
    import numpy as np

    playlist = folder / HLS_PLAYLIST
    options = {"hls_time": "1", "hls_list_size": "0", "hls_playlist_type": "vod"}
    with av.open(str(playlist), "w", format="hls", options=options) as container:
        stream = container.add_stream("h264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = fps
        stream.codec_context.options = {"preset": "ultrafast", "tune": "zerolatency"}
        gradient = np.tile(np.linspace(0, 255, width, dtype=np.uint8), (height, 1))
        for index in range(seconds * fps):
            image = np.stack([gradient, np.roll(gradient, index * 8, axis=1), np.full_like(gradient, 96)], axis=2)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return playlist


class CameraSimulator:
    """One simulated HTTP camera on ``host:port`` (0: a free port, known after ``start``)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        width: int = 640,
        height: int = 360,
        fps: int = 10,
        username: str = "",
        password: str = "",
        auth: str = "digest",
        manufacturer: str | None = None,
        hls: bool = False,
        garbage: bool = False,
        stall_after: float | None = None,
    ) -> None:
        if auth not in ("digest", "basic"):
            raise ValueError("auth must be digest or basic")
        self.host, self.port = host, port
        self.width, self.height, self.fps = width, height, fps
        self.username, self.password, self.auth = username, password, auth
        self.garbage, self.stall_after, self.hls = garbage, stall_after, hls
        self.mjpeg_path, self.snapshot_path = DEFAULT_MJPEG_PATH, DEFAULT_SNAPSHOT_PATH
        self.query_credentials = False
        if manufacturer is not None:
            self._use_manufacturer(manufacturer)
        self.requests: list[str] = []  # paths asked for, for tests
        self.clients = 0  # MJPEG clients connected now
        self._frames: list[bytes] = []
        self._nonces: set[str] = set()
        self._runner: web.AppRunner | None = None
        self._hls_dir: tempfile.TemporaryDirectory[str] | None = None

    def _use_manufacturer(self, name: str) -> None:
        profile = profile_for(name)
        if profile is None:
            raise ValueError(f"unknown manufacturer {name!r}")
        for template in profile.templates:
            path = fill_template(template.path, channel=1, username=self.username, password=self.password)
            if template.stream == STREAM_MJPEG and self.mjpeg_path == DEFAULT_MJPEG_PATH:
                self.mjpeg_path = path
            elif template.stream == STREAM_SNAPSHOT and self.snapshot_path == DEFAULT_SNAPSHOT_PATH:
                self.snapshot_path = path
                self.query_credentials = "{password}" in template.path

    # ------------------------------------------------------------------------------------------------ URLs

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def mjpeg_url(self) -> str:
        return self.base_url + self.mjpeg_path

    @property
    def snapshot_url(self) -> str:
        return self.base_url + self.snapshot_path

    @property
    def hls_url(self) -> str:
        return f"{self.base_url}/hls/{HLS_PLAYLIST}"

    # ------------------------------------------------------------------------------------------ life cycle

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._frames = await loop.run_in_executor(None, render_frames, self.width, self.height, self.fps)
        app = web.Application()
        app.router.add_get(urlsplit(self.mjpeg_path).path, self._mjpeg)
        app.router.add_get(urlsplit(self.snapshot_path).path, self._snapshot)
        if self.hls:
            self._hls_dir = tempfile.TemporaryDirectory(prefix="gatehouse-hls-")
            folder = Path(self._hls_dir.name)
            await loop.run_in_executor(None, lambda: write_hls(folder, width=self.width, height=self.height,
                                                               fps=self.fps))  # fmt: skip
            app.router.add_get("/hls/{name}", self._hls_file)
        app.router.add_get("/", self._index)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        if self.port == 0 and server is not None:
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        _LOGGER.info("Camera simulator on %s (MJPEG %s, snapshot %s)", self.base_url, self.mjpeg_path,
                     self.snapshot_path)  # fmt: skip

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._hls_dir is not None:
            self._hls_dir.cleanup()
            self._hls_dir = None

    # ------------------------------------------------------------------------------------------- handlers

    async def _index(self, request: web.Request) -> web.Response:
        return web.Response(text="Gatehouse camera simulator\n", headers={"Server": "Gatehouse-SimCam/1.0"})

    async def _snapshot(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request.path_qs)
        if (refused := self._refuse(request)) is not None:
            return refused
        body = b"<html>not an image</html>" if self.garbage else self._frames[0]
        kind = "text/html" if self.garbage else "image/jpeg"
        return web.Response(body=body, content_type=kind, headers={"Server": "Gatehouse-SimCam/1.0"})

    async def _mjpeg(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request.path_qs)
        if (refused := self._refuse(request)) is not None:
            return refused
        response = web.StreamResponse(headers={"Server": "Gatehouse-SimCam/1.0", "Cache-Control": "no-store"})
        response.headers["Content-Type"] = f"multipart/x-mixed-replace;boundary={BOUNDARY}"
        await response.prepare(request)
        self.clients += 1
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            index = 0
            while True:
                if self.stall_after is not None and loop.time() - started > self.stall_after:
                    await asyncio.sleep(3600)  # hung: the connection stays open, nothing more comes
                frame = b"\x00garbage\x00" * 50 if self.garbage else self._frames[index % len(self._frames)]
                part = (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(frame)}\r\n\r\n").encode()
                await response.write(part + frame + b"\r\n")
                index += 1
                await asyncio.sleep(1 / self.fps)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.clients -= 1
        return response

    async def _hls_file(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request.path_qs)
        if (refused := self._refuse(request)) is not None:
            return refused
        assert self._hls_dir is not None
        name = request.match_info["name"]
        path = Path(self._hls_dir.name) / name
        if "/" in name or not path.is_file():
            raise web.HTTPNotFound()
        kind = "application/vnd.apple.mpegurl" if name.endswith(".m3u8") else "video/mp2t"
        return web.Response(body=path.read_bytes(), content_type=kind)

    # --------------------------------------------------------------------------------------- authentication

    def _refuse(self, request: web.Request) -> web.Response | None:
        """None when the request may pass; else the 401 with this camera's challenge."""
        if not self.username:
            return None
        if self.query_credentials and request.path == urlsplit(self.snapshot_path).path:
            query = request.query
            given = (query.get("usr") or query.get("user"), query.get("pwd") or query.get("password"))
            return None if given == (self.username, self.password) else self._challenge()
        header = request.headers.get("Authorization", "")
        if self.auth == "basic" and header.startswith("Basic "):
            import base64

            with contextlib.suppress(ValueError):
                if base64.b64decode(header[6:]).decode() == f"{self.username}:{self.password}":
                    return None
        if self.auth == "digest" and header.startswith("Digest ") and self._digest_ok(request, header[7:]):
            return None
        return self._challenge()

    def _challenge(self) -> web.Response:
        if self.auth == "basic":
            challenge = f'Basic realm="{REALM}"'
        else:
            nonce = secrets.token_hex(16)
            self._nonces.add(nonce)
            challenge = f'Digest realm="{REALM}", nonce="{nonce}", qop="auth", algorithm=MD5'
        return web.Response(status=401, text="401 Unauthorized", headers={"WWW-Authenticate": challenge})

    def _digest_ok(self, request: web.Request, header: str) -> bool:
        values = {key.lower(): quoted or bare for key, quoted, bare in _DIGEST_ITEM.findall(header)}
        if values.get("username") != self.username or values.get("nonce") not in self._nonces:
            return False

        def md5(text: str) -> str:
            return hashlib.md5(text.encode()).hexdigest()

        ha1 = md5(f"{self.username}:{REALM}:{self.password}")
        ha2 = md5(f"{request.method}:{values.get('uri', '')}")
        if values.get("qop"):
            expected = md5(f"{ha1}:{values['nonce']}:{values.get('nc', '')}:{values.get('cnonce', '')}:"
                           f"{values['qop']}:{ha2}")  # fmt: skip
        else:
            expected = md5(f"{ha1}:{values['nonce']}:{ha2}")
        return secrets.compare_digest(expected, values.get("response", ""))
