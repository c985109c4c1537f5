"""A real RTSP camera for tests: GStreamer's RTSP server serving live test patterns on loopback.

Runs under the system interpreter (``/usr/bin/python3``), where Debian's GObject bindings live; it imports
nothing from Gatehouse. ``hub.testing.rtsp`` starts it as a subprocess and kills it to simulate a camera that
drops off the network. It prints ``READY <port>`` once it listens.

    /usr/bin/python3 gst_rtsp_server.py --port 8554 --mount /live=1280x720@25 --mount /sub=640x360@10
"""

from __future__ import annotations

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

ENCODERS = {
    "h264": "x264enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} ! rtph264pay name=pay0 pt=96",
    "h265": "x265enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} ! rtph265pay name=pay0 pt=96",
    "mjpeg": "video/x-raw,format=I420 ! jpegenc quality=80 ! rtpjpegpay name=pay0 pt=26",
}


def launch_line(width: int, height: int, fps: int, codec: str, pattern: str, gop: int = 0, motion: int = 0) -> str:
    """The pipeline one mount serves: a live, moving test pattern, encoded like a camera does (keyframe every
    ``gop`` frames; 0: one a second). ``motion`` scrolls the whole picture by that many pixels a frame (a scene
    that changes everywhere costs the decoder what a busy real one does)."""
    encoder = ENCODERS[codec].format(gop=gop or fps)
    return (
        f"( videotestsrc is-live=true pattern={pattern} horizontal-speed={motion} ! "
        f"video/x-raw,width={width},height={height},framerate={fps}/1 ! "
        f"videoconvert ! {encoder} )"
    )


def parse_mount(text: str) -> tuple[str, int, int, int]:
    """``/live=1280x720@25`` -> ("/live", 1280, 720, 25)."""
    path, _, spec = text.partition("=")
    size, _, fps = spec.partition("@")
    width, _, height = size.partition("x")
    if not path.startswith("/"):
        raise SystemExit(f"--mount {text!r}: the path must start with /")
    return path, int(width), int(height), int(fps or 25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed on READY)")
    parser.add_argument("--mount", action="append", default=[], help="PATH=WIDTHxHEIGHT@FPS (repeatable)")
    parser.add_argument("--codec", choices=sorted(ENCODERS), default="h264")
    parser.add_argument("--pattern", default="ball")
    parser.add_argument("--gop", type=int, default=0, help="frames between keyframes (0: one second)")
    parser.add_argument("--motion", type=int, default=0, help="scroll the picture this many pixels a frame")
    parser.add_argument("--username", default="")
    parser.add_argument("--password", default="")
    parser.add_argument("--auth", choices=("digest", "basic"), default="digest", help="how credentials are asked for")
    args = parser.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    if args.username:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "camera-user")
        if args.auth == "basic":
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.username, args.password), token)
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
        else:
            auth.add_digest(args.username, args.password, token)
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        server.set_auth(auth)
    mounts = server.get_mount_points()
    for text in args.mount or ["/live=1280x720@25"]:
        path, width, height, fps = parse_mount(text)
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch_line(width, height, fps, args.codec, args.pattern, args.gop, args.motion))
        factory.set_shared(True)  # one encoder per mount, however many clients: like a camera
        factory.set_stop_on_disconnect(False)  # one client vanishing must not stop the others' stream
        if args.username:
            factory.add_role_from_structure(
                Gst.Structure.new_from_string(
                    "camera-user, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"
                )
            )
        mounts.add_factory(path, factory)

    loop = GLib.MainLoop()
    if server.attach(None) == 0:
        print(f"ERROR cannot listen on {args.host}:{args.port}", flush=True)
        sys.exit(2)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    print(f"READY {server.get_bound_port()}", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
