"""Camera fixtures: a real RTSP server on loopback that tests can kill and restart, and H.264 video files.

    async def test_camera_recovers(hub, rtsp_server):
        camera = Camera(name="Gate", unique_id="gate", source=rtsp_server.url)
        ...
        await rtsp_server.async_stop()     # the camera drops off the network mid-stream
        await rtsp_server.async_start()    # and comes back on the same port

Fixtures:

- ``rtsp_server``: GStreamer's RTSP server (Debian's, through GObject introspection under ``/usr/bin/python3``)
  on a free 127.0.0.1 port, serving a live 1280x720 25 fps H.264 test pattern at ``rtsp://127.0.0.1:PORT/live``
  and a 640x360 10 fps one at ``/sub``; RTSP over TCP and UDP both work. ``stop()`` kills it (SIGKILL, like a
  camera losing power), ``start()`` brings it back on the same port.
- ``rtsp_server_factory``: start more servers, with credentials (digest or basic), another codec (h265, mjpeg)
  other mounts or keyframe spacing (``gop`` frames; default one a second): ``await rtsp_server_factory(
  username="admin", password="secret", mounts={"/ch1": (640, 360, 10)})``.
- ``video_file``: a 3 s 640x360 25 fps H.264 MP4 written with PyAV (session-wide, read-only for tests);
  ``make_video_file()`` writes others.

Tests using them are skipped with a reason where GStreamer's RTSP server is not installed (``make install``
installs it). One difference from a real camera: a mount's encoder shuts down when its last client leaves, and a
client that connects in that instant may be refused; a test that churns connections keeps one client connected.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import pytest

__all__ = [
    "SYSTEM_PYTHON",
    "RtspServer",
    "RtspServerFactory",
    "gstreamer_rtsp_available",
    "make_video_file",
]

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER_SCRIPT = Path(__file__).with_name("gst_rtsp_server.py")
START_TIMEOUT = 15.0

#: Default mounts: path -> (width, height, fps).
DEFAULT_MOUNTS: Mapping[str, tuple[int, int, int]] = {"/live": (1280, 720, 25), "/sub": (640, 360, 10)}


def gstreamer_rtsp_available() -> bool:
    """True when the system interpreter can import GStreamer's RTSP server bindings."""
    if not os.path.exists(SYSTEM_PYTHON):
        return False
    probe = 'import gi; gi.require_version("GstRtspServer", "1.0"); from gi.repository import GstRtspServer'
    result = subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True, timeout=30)
    return result.returncode == 0


class RtspServer:
    """One GStreamer RTSP server subprocess on 127.0.0.1; ``url`` is its main mount."""

    def __init__(
        self,
        *,
        mounts: Mapping[str, tuple[int, int, int]] = DEFAULT_MOUNTS,
        codec: str = "h264",
        username: str = "",
        password: str = "",
        auth: str = "digest",
        pattern: str = "ball",
        gop: int = 0,
        motion: int = 0,
        port: int = 0,
    ) -> None:
        if not mounts:
            raise ValueError("an RTSP server needs at least one mount")
        self.mounts = dict(mounts)
        self.codec = codec
        self.username = username
        self.password = password
        self.auth = auth
        self.pattern = pattern
        self.gop = gop
        self.motion = motion
        self.port = port
        self.host = "127.0.0.1"
        self._process: subprocess.Popen[bytes] | None = None

    # ----------------------------------------------------------------------------------------------- URLs

    @property
    def path(self) -> str:
        return next(iter(self.mounts))

    @property
    def url(self) -> str:
        """The first mount's URL, with the credentials when the server asks for them."""
        return self.url_for(self.path)

    def url_for(self, path: str, *, username: str | None = None, password: str | None = None) -> str:
        """A mount's URL; pass other credentials to try wrong ones."""
        user = self.username if username is None else username
        secret = self.password if password is None else password
        userinfo = f"{user}:{secret}@" if user else ""
        return f"rtsp://{userinfo}{self.host}:{self.port}{path}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    # ------------------------------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the server (again on the same port after ``stop``) and wait until it listens."""
        if self.running:
            return
        command = [SYSTEM_PYTHON, str(SERVER_SCRIPT), "--port", str(self.port), "--codec", self.codec]
        command += [
            "--pattern",
            self.pattern,
            "--auth",
            self.auth,
            "--gop",
            str(self.gop),
            "--motion",
            str(self.motion),
        ]
        if self.username:
            command += ["--username", self.username, "--password", self.password]
        for path, (width, height, fps) in self.mounts.items():
            command += ["--mount", f"{path}={width}x{height}@{fps}"]
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            line = _read_line(process, deadline)
            if line.startswith("READY "):
                self._process = process
                self.port = int(line.split()[1])
                return
            _kill(process)
            # Restarting on the same port can race the old socket's release: retry until the deadline.
            if time.monotonic() > deadline or not line.startswith("ERROR cannot listen"):
                raise RuntimeError(f"RTSP server did not start: {line or 'no output'}")
            time.sleep(0.1)

    def stop(self) -> None:
        """Kill the server at once (SIGKILL: no RTSP TEARDOWN, like a camera losing power)."""
        process, self._process = self._process, None
        if process is not None:
            _kill(process)

    async def async_start(self) -> None:
        await asyncio.to_thread(self.start)

    async def async_stop(self) -> None:
        await asyncio.to_thread(self.stop)

    def __repr__(self) -> str:
        return f"<RtspServer {self.url_for(self.path, password='***' if self.password else '')} pid={self.pid}>"


def _read_line(process: subprocess.Popen[bytes], deadline: float) -> str:
    """The server's first line of output (READY or an error), or "" when it exits or the deadline passes."""
    assert process.stdout is not None
    buffer = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.1)
        if ready:
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                break
            buffer += chunk
            if b"\n" in buffer:
                return buffer.split(b"\n", 1)[0].decode(errors="replace").strip()
        elif process.poll() is not None:
            break
    return buffer.decode(errors="replace").strip()


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    if process.stdout is not None:
        process.stdout.close()


class RtspServerFactory(Protocol):
    async def __call__(
        self,
        *,
        mounts: Mapping[str, tuple[int, int, int]] = DEFAULT_MOUNTS,
        codec: str = "h264",
        username: str = "",
        password: str = "",
        auth: str = "digest",
        gop: int = 0,
    ) -> RtspServer: ...


@pytest.fixture(scope="session")
def _gstreamer_rtsp() -> bool:
    return gstreamer_rtsp_available()


@pytest.fixture
async def rtsp_server_factory(_gstreamer_rtsp: bool) -> AsyncIterator[RtspServerFactory]:
    """Start RTSP servers; every one is killed after the test."""
    if not _gstreamer_rtsp:
        pytest.skip("GStreamer's RTSP server is not installed for /usr/bin/python3 (run `make install`)")
    servers: list[RtspServer] = []

    async def start(
        *,
        mounts: Mapping[str, tuple[int, int, int]] = DEFAULT_MOUNTS,
        codec: str = "h264",
        username: str = "",
        password: str = "",
        auth: str = "digest",
        gop: int = 0,
    ) -> RtspServer:
        server = RtspServer(mounts=mounts, codec=codec, username=username, password=password, auth=auth, gop=gop)
        servers.append(server)
        await server.async_start()
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
async def rtsp_server(rtsp_server_factory: RtspServerFactory) -> RtspServer:
    """A live 1280x720 25 fps H.264 camera at ``rtsp_server.url`` (``/live``; ``/sub`` is 640x360 10 fps)."""
    return await rtsp_server_factory()


# ------------------------------------------------------------------------------------------------ video files


def make_video_file(
    path: Path | str,
    *,
    width: int = 640,
    height: int = 360,
    fps: int = 25,
    seconds: float = 3.0,
    codec: str = "h264",
    gop: int | None = None,
) -> Path:
    """Write a moving test pattern (a bar sweeping over a gradient) as MP4 with PyAV; keyframe every ``gop``."""
    import av
    import numpy as np

    path = Path(path)
    frame_count = max(1, round(seconds * fps))
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        stream.codec_context.gop_size = gop or fps
        if codec in ("h264", "libx264"):
            stream.codec_context.options = {"preset": "ultrafast", "tune": "zerolatency"}
        gradient = np.tile(np.linspace(0, 255, width, dtype=np.uint8), (height, 1))
        for index in range(frame_count):
            image = np.stack([gradient, np.roll(gradient, index * 8, axis=1), np.full_like(gradient, 96)], axis=2)
            column = (index * width // frame_count) % width
            image[:, column : column + max(4, width // 40)] = 255
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


@pytest.fixture(scope="session")
def video_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A 3 s 640x360 25 fps H.264 MP4 (keyframe every second), shared by the session: do not modify it."""
    yield make_video_file(tmp_path_factory.mktemp("video") / "pattern.mp4")


def _main() -> None:  # pragma: no cover - a manual helper: `python -m hub.testing.rtsp` serves until Ctrl-C
    server = RtspServer(port=int(sys.argv[1]) if len(sys.argv) > 1 else 8554)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # run the finally below: no orphaned server
    server.start()
    print(server.url, flush=True)
    try:
        signal.pause()
    finally:
        server.stop()


if __name__ == "__main__":  # pragma: no cover
    if shutil.which(SYSTEM_PYTHON) is None:
        raise SystemExit(f"{SYSTEM_PYTHON} not found")
    _main()
