"""``gatehouse simulate tm20``: TM20 terminal simulators against a running hub (demo, load, firmware quirks).

The ``simulate`` command is shared: the first integration to add a device creates it, the others add their
device under it (the hook is called once per plugin with the same ``subparsers``).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import threading
from typing import Any

from hub.cli import simulate_devices
from hub.hookspecs import hookimpl

DEFAULT_URL = "ws://127.0.0.1:7788/ws/tm20/"


@hookimpl
def cli_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    devices = simulate_devices(subparsers)
    tm20 = devices.add_parser("tm20", help="TM20 biometric terminals speaking the WebSocket + JSON protocol")
    tm20.add_argument("--count", type=int, default=1, help="how many terminals (default: 1)")
    tm20.add_argument("--url", default=DEFAULT_URL, help=f"the hub's TM20 endpoint (default: {DEFAULT_URL})")
    tm20.add_argument("--logs-per-batch", type=int, default=10, help="records per sendlog batch (0: none)")
    tm20.add_argument("--interval", type=float, default=5.0, help="seconds between a terminal's batches (default 5)")
    tm20.add_argument("--serial-prefix", default="SIM", help="serials are PREFIX000001, PREFIX000002, ...")
    tm20.add_argument("--quirks", default="", help="comma-separated firmware quirks: flat_reg, cmd_echo, retransmit")
    tm20.add_argument("--duration", type=float, default=None, help="stop after this many seconds (default: Ctrl-C)")
    tm20.set_defaults(func=_simulate_tm20)


def _simulate_tm20(args: argparse.Namespace) -> int:
    from .simulator import QUIRKS, SimulationStats, simulate_many

    quirks = {quirk.strip() for quirk in args.quirks.split(",") if quirk.strip()}
    if quirks - QUIRKS:
        print(f"error: unknown quirks {', '.join(sorted(quirks - QUIRKS))}; known: {', '.join(sorted(QUIRKS))}")
        return 2
    if args.count < 1:
        print("error: --count must be at least 1")
        return 2

    async def run() -> int:
        stats = SimulationStats(record=False)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
            for number in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(number, stop.set)
        reporter = asyncio.create_task(_report(stats, stop))
        try:
            await simulate_many(
                args.url,
                args.count,
                batch=args.logs_per_batch,
                interval=args.interval,
                prefix=args.serial_prefix,
                quirks=quirks,
                duration=args.duration,
                stats=stats,
                stop=stop,
            )
        finally:
            reporter.cancel()
        print(_summary(stats), flush=True)
        return 0 if stats.connected else 1

    return asyncio.run(run())


async def _report(stats: Any, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await asyncio.sleep(10)
        print(_summary(stats), flush=True)


def _summary(stats: Any) -> str:
    return (
        f"connected {stats.connected}, refused {stats.refused}, batches acked {stats.batches}, "
        f"logs acked {stats.logs}, failures {stats.failed}"
    )
