"""``gatehouse simulate onvif``: a simulated ONVIF camera on this machine; ``gatehouse onvif discover``: find cameras.

gatehouse simulate onvif --port 8000 --rtsp-url rtsp://127.0.0.1:8554/live --password secret
gatehouse onvif discover --timeout 3            # multicast WS-Discovery on the LAN
gatehouse onvif discover --address 192.168.1.64 # one host
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import threading
from typing import Any

from hub.cli import simulate_devices
from hub.hookspecs import hookimpl

from .const import WS_DISCOVERY_PORT


@hookimpl
def cli_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    devices = simulate_devices(subparsers)
    sim = devices.add_parser("onvif", help="a simulated ONVIF camera (SOAP, events, PTZ, snapshot, WS-Discovery)")
    sim.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sim.add_argument("--port", type=int, default=8000, help="SOAP port (default 8000)")
    sim.add_argument("--rtsp-url", required=True, help="the stream GetStreamUri returns (e.g. an RTSP server's URL)")
    sim.add_argument("--sub-rtsp-url", default=None, help="a second, smaller profile's stream")
    sim.add_argument("--username", default="admin")
    sim.add_argument("--password", default="admin")
    sim.add_argument("--serial", default="SIM-ONVIF-0001", help="the serial number it reports")
    sim.add_argument("--name", default="Simulated camera", help="the name in its WS-Discovery scopes")
    sim.add_argument("--clock-offset", type=float, default=0.0, help="seconds its clock is ahead (negative: behind)")
    sim.add_argument("--snapshot-auth", choices=("digest", "basic", "none"), default="digest")
    sim.add_argument("--no-ptz", action="store_true", help="no PTZ service")
    sim.add_argument("--no-events", action="store_true", help="no event service")
    sim.add_argument("--broken-xml", default="", help="operations answered with broken XML (comma-separated, or *)")
    sim.add_argument("--discovery", action="store_true", help=f"answer WS-Discovery Probes on UDP {WS_DISCOVERY_PORT}")
    sim.add_argument("--motion-every", type=float, default=0.0, help="toggle motion every N seconds (0: never)")
    sim.add_argument("--duration", type=float, default=None, help="stop after this many seconds (default: Ctrl-C)")
    sim.set_defaults(func=_simulate_onvif)

    onvif = subparsers.add_parser("onvif", help="ONVIF tools")
    tools = onvif.add_subparsers(dest="onvif_command", required=True, metavar="COMMAND")
    discover = tools.add_parser("discover", help="find ONVIF devices with WS-Discovery (one JSON line each)")
    discover.add_argument("--timeout", type=float, default=3.0, help="seconds to collect answers (default 3)")
    discover.add_argument("--address", default=None, help="probe this host only (unicast) instead of multicast")
    discover.add_argument("--port", type=int, default=WS_DISCOVERY_PORT)
    discover.add_argument("--interface", default=None, help="local IPv4 address to send the multicast Probe from")
    discover.set_defaults(func=_discover)


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, stop.set)
    return stop


def _simulate_onvif(args: argparse.Namespace) -> int:
    from .simulator import OnvifSimulator

    broken = frozenset(name.strip() for name in args.broken_xml.split(",") if name.strip())

    async def run() -> int:
        stop = _stop_event()
        simulator = OnvifSimulator(
            host=args.host,
            port=args.port,
            rtsp_url=args.rtsp_url,
            sub_rtsp_url=args.sub_rtsp_url,
            username=args.username,
            password=args.password,
            serial_number=args.serial,
            name=args.name,
            clock_offset=args.clock_offset,
            snapshot_auth=args.snapshot_auth,
            ptz=not args.no_ptz,
            events=not args.no_events,
            broken_xml=broken,
        )
        try:
            await simulator.start()
            if args.discovery:
                await simulator.start_discovery(port=WS_DISCOVERY_PORT, multicast=True)
        except OSError as err:
            print(f"error: cannot listen on {args.host}:{args.port}: {err}")
            return 1
        print(f"ONVIF camera at {simulator.url} (user {args.username}), stream {args.rtsp_url}", flush=True)
        motion = asyncio.create_task(_toggle_motion(simulator, args.motion_every)) if args.motion_every > 0 else None
        try:
            async with asyncio.timeout(args.duration):
                await stop.wait()
        except TimeoutError:
            pass
        finally:
            if motion is not None:
                motion.cancel()
            await simulator.stop()
        print(f"stopped after {len(simulator.calls)} requests", flush=True)
        return 0

    return asyncio.run(run())


async def _toggle_motion(simulator: Any, every: float) -> None:
    on = False
    while True:
        await asyncio.sleep(every)
        on = not on
        simulator.emit("tns1:RuleEngine/CellMotionDetector/Motion", {"IsMotion": "true" if on else "false"})


def _discover(args: argparse.Namespace) -> int:
    from .discovery import async_discover

    async def run() -> int:
        devices = await async_discover(
            timeout=args.timeout, address=args.address, port=args.port, interface=args.interface
        )
        for device in devices:
            print(json.dumps(device.as_dict()), flush=True)
        return 0 if devices else 1

    return asyncio.run(run())
