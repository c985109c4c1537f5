"""``gatehouse simulate camera``: an HTTP camera (MJPEG, snapshots, an HLS clip) to add to a hub or demo with.

    gatehouse simulate camera --port 8081 --username admin --password secret --manufacturer axis --hls

The ``simulate`` command is shared: the first integration to add a device creates it, the others add theirs
under it (the hook is called once per plugin with the same ``subparsers``).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import threading
from typing import Any

from hub.cli import simulate_devices
from hub.hookspecs import hookimpl

from .profiles import manufacturer_keys


@hookimpl
def cli_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    devices = simulate_devices(subparsers)
    camera = devices.add_parser("camera", help="an HTTP camera: MJPEG stream, JPEG snapshots, an HLS clip")
    camera.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    camera.add_argument("--port", type=int, default=8081, help="port (default: 8081; 0: any free port)")
    camera.add_argument("--width", type=int, default=640)
    camera.add_argument("--height", type=int, default=360)
    camera.add_argument("--fps", type=int, default=10)
    camera.add_argument("--username", default="", help="require these credentials (default: none)")
    camera.add_argument("--password", default="")
    camera.add_argument("--auth", choices=("digest", "basic"), default="digest")
    camera.add_argument("--manufacturer", choices=manufacturer_keys(), help="serve at this brand's HTTP paths")
    camera.add_argument("--mjpeg", action="store_true", help="accepted for clarity: MJPEG is always served")
    camera.add_argument("--hls", action="store_true", help="also serve a 4 s H.264 HLS clip at /hls/stream.m3u8")
    camera.add_argument("--garbage", action="store_true", help="send parts that are not JPEG (a broken camera)")
    camera.add_argument("--duration", type=float, default=None, help="stop after this many seconds (default: Ctrl-C)")
    camera.set_defaults(func=_simulate_camera)


def _simulate_camera(args: argparse.Namespace) -> int:
    from .simulator import CameraSimulator

    if args.port < 0 or args.port > 65535 or args.fps < 1 or args.width < 16 or args.height < 16:
        print("error: --port must be 0-65535, --fps at least 1, --width and --height at least 16")
        return 2

    async def run() -> int:
        simulator = CameraSimulator(
            host=args.host,
            port=args.port,
            width=args.width,
            height=args.height,
            fps=args.fps,
            username=args.username,
            password=args.password,
            auth=args.auth,
            manufacturer=args.manufacturer,
            hls=args.hls,
            garbage=args.garbage,
        )
        stop = asyncio.Event()
        if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
            for number in (signal.SIGINT, signal.SIGTERM):
                asyncio.get_running_loop().add_signal_handler(number, stop.set)
        try:
            await simulator.start()
        except OSError as err:
            print(f"error: cannot listen on {args.host}:{args.port}: {err}")
            return 1
        print(f"MJPEG     {simulator.mjpeg_url}", flush=True)
        print(f"snapshot  {simulator.snapshot_url}", flush=True)
        if args.hls:
            print(f"HLS       {simulator.hls_url}", flush=True)
        try:
            if args.duration is None:
                await stop.wait()
            else:
                await asyncio.wait_for(stop.wait(), args.duration)
        except TimeoutError:
            pass
        finally:
            await simulator.stop()
        return 0

    return asyncio.run(run())
