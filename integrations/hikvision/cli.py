"""``gatehouse simulate hikvision device|gateway``: simulated ISAPI devices and a Hik Device Gateway for the demo
and for trying the integration by hand. They print their URLs and credentials and run until Ctrl-C (or
``--duration``).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from hub.cli import simulate_devices
from hub.hookspecs import hookimpl

KINDS = ("access", "camera", "nvr")
DEFAULT_SERIALS = {"access": "DS-K1T671M0001", "camera": "DS-2CD2143G20001", "nvr": "DS-7608NI0001"}


@hookimpl
def cli_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    devices = simulate_devices(subparsers)
    hikvision = devices.add_parser("hikvision", help="Hikvision ISAPI devices and a Hik Device Gateway")
    which = hikvision.add_subparsers(dest="hikvision_kind", required=True, metavar="WHAT")

    device = which.add_parser("device", help="ISAPI devices (access terminal, camera, NVR) on consecutive ports")
    device.add_argument("--port", type=int, default=8081, help="first device's HTTP port (default 8081; 0: any)")
    device.add_argument("--serial", default=None, help="first serial; more count up its last digits")
    device.add_argument("--kind", choices=KINDS, default="access", help="what it is (default: access)")
    device.add_argument("--count", type=int, default=1, help="how many devices (default: 1)")
    device.add_argument("--events-per-second", type=float, default=0.0, help="events each device emits (default 0)")
    device.add_argument("--push-to", default=None, metavar="URL", help="set httpHosts so events are POSTed to URL")
    device.add_argument("--channels", type=int, default=None, help="video channels (default: 1, NVR 4)")
    _common(device)
    device.set_defaults(func=_simulate_devices)

    gateway = which.add_parser("gateway", help="a Hik Device Gateway with simulated ISUP devices behind it")
    gateway.add_argument("--port", type=int, default=8082, help="the gateway's HTTP port (default 8082; 0: any)")
    gateway.add_argument("--devices", type=int, default=3, help="simulated devices registered to it (default 3)")
    gateway.add_argument("--serial", default=None, help="first device serial (= its EhomeID)")
    gateway.add_argument("--kind", choices=KINDS, default="access", help="what the devices are (default: access)")
    gateway.add_argument("--events-per-second", type=float, default=0.0, help="events each device emits")
    gateway.add_argument("--heartbeat", type=float, default=10.0, help="subscribeDeviceMgmt heartbeat, seconds")
    gateway.add_argument("--webhook-url", default=None, help="POST signed device status changes here")
    gateway.add_argument("--webhook-secret", default=None, help="HMAC-SHA256 secret shared with the hub")
    _common(gateway)
    gateway.set_defaults(func=_simulate_gateway)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--username", default="admin", help="account name (default admin)")
    parser.add_argument("--password", default="Passw0rd!", help="account password (default Passw0rd!)")
    parser.add_argument("--auth", choices=("digest", "basic"), default="digest", help="HTTP auth (default digest)")
    parser.add_argument("--keepalive", type=float, default=10.0, help="seconds between idle keep-alive parts")
    parser.add_argument("--duration", type=float, default=None, help="stop after this many seconds (default: Ctrl-C)")


def serials(first: str, count: int) -> list[str]:
    """``first`` and the next ``count - 1`` serials, counting up its trailing digits (``...0001``, ``...0002``)."""
    match = re.search(r"(\d+)$", first)
    if match is None:
        return [first] + [f"{first}-{number}" for number in range(2, count + 1)]
    stem, digits = first[: match.start()], match.group(1)
    return [f"{stem}{int(digits) + offset:0{len(digits)}d}" for offset in range(count)]


def _device_options(args: argparse.Namespace) -> dict[str, Any]:
    channels = args.channels if getattr(args, "channels", None) else (4 if args.kind == "nvr" else 1)
    return {
        "host": args.host,
        "username": args.username,
        "password": args.password,
        "auth": args.auth,
        "kind": args.kind,
        "channels": channels,
        "keepalive_interval": args.keepalive,
        "events_per_second": args.events_per_second,
    }


def _simulate_devices(args: argparse.Namespace) -> int:
    from .simulator import IsapiDeviceSimulator

    if args.count < 1:
        print("error: --count must be at least 1")
        return 2
    sims = [
        IsapiDeviceSimulator(serial, port=args.port + index if args.port else 0, **_device_options(args))
        for index, serial in enumerate(serials(args.serial or DEFAULT_SERIALS[args.kind], args.count))
    ]

    async def run(stop: asyncio.Event) -> None:
        started: list[IsapiDeviceSimulator] = []
        try:
            for sim in sims:
                await sim.start()
                started.append(sim)
                if args.push_to:
                    sim.pusher.set_target(args.push_to)
                print(
                    f"device {sim.serial} ({sim.kind}, {sim.model}) at {sim.url} "
                    f"user {sim.username} password {sim.password} ({args.auth})",
                    flush=True,
                )
            if args.push_to:
                print(f"pushing events to {args.push_to}", flush=True)
            await _until(stop, args.duration, lambda: _device_summary(started))
            print(_device_summary(started), flush=True)
        finally:
            for sim in started:
                await sim.stop()

    return _run(run)


def _device_summary(sims: list[Any]) -> str:
    streams = sum(sim.stream_count for sim in sims)
    history = sum(len(sim.access.history) for sim in sims)
    pushed = sum(sim.pusher.pushed for sim in sims)
    failed = sum(sim.pusher.failures for sim in sims)
    return (
        f"devices {len(sims)}, streams open {streams}, access events {history}, pushed {pushed}, push failures {failed}"
    )


def _simulate_gateway(args: argparse.Namespace) -> int:
    from .simulator import GatewaySimulator, IsapiDeviceSimulator

    if args.devices < 0:
        print("error: --devices must be 0 or more")
        return 2
    if args.webhook_url and not args.webhook_secret:
        print("error: --webhook-url needs --webhook-secret (webhooks are signed)")
        return 2
    gateway = GatewaySimulator(
        host=args.host,
        port=args.port,
        username=args.username,
        password=args.password,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        heartbeat_interval=args.heartbeat,
    )
    options = {**_device_options(args), "host": "127.0.0.1", "password": args.password}
    first = args.serial or DEFAULT_SERIALS[args.kind].replace("0001", "1001")
    sims = [IsapiDeviceSimulator(serial, **options) for serial in serials(first, args.devices)]

    async def run(stop: asyncio.Event) -> None:
        started: list[IsapiDeviceSimulator] = []
        await gateway.start()
        try:
            print(f"gateway at {gateway.url} user {gateway.username} password {gateway.password} (digest)", flush=True)
            for sim in sims:
                await sim.start()
                started.append(sim)
                dev_index = gateway.add_simulated_device(sim, sim.serial)
                print(f"device {sim.serial} ({sim.kind}) EhomeID {sim.serial} devIndex {dev_index}", flush=True)
            await _until(stop, args.duration, lambda: _gateway_summary(gateway, started))
            print(_gateway_summary(gateway, started), flush=True)
        finally:
            await gateway.stop()
            for sim in started:
                await sim.stop()

    return _run(run)


def _gateway_summary(gateway: Any, sims: list[Any]) -> str:
    online = sum(1 for device in gateway.devices.values() if device.reachable)
    return (
        f"gateway devices {len(gateway.devices)} ({online} online), subscriptions {gateway.subscription_count}, "
        f"access events {sum(len(sim.access.history) for sim in sims)}, webhooks sent {len(gateway.webhook_statuses)}"
    )


def _run(body: Callable[[asyncio.Event], Awaitable[None]]) -> int:
    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
            for number in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(number, stop.set)
        try:
            await body(stop)
        except OSError as err:  # a port in use, an address not on this machine
            print(f"error: {err}", flush=True)
            return 1
        return 0

    return asyncio.run(main())


async def _until(stop: asyncio.Event, duration: float | None, summary: Callable[[], str]) -> None:
    """Wait for Ctrl-C or ``duration``, printing a summary every 10 s."""
    loop = asyncio.get_running_loop()
    deadline = None if duration is None else loop.time() + duration
    while not stop.is_set():
        wait = 10.0 if deadline is None else min(10.0, deadline - loop.time())
        if wait <= 0:
            return
        try:
            await asyncio.wait_for(stop.wait(), wait)
        except TimeoutError:
            if deadline is None or loop.time() < deadline:
                print(summary(), flush=True)
