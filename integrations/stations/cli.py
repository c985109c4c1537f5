"""``gatehouse simulate station``: station agents against a running hub (a demo station, or many for load).

One station: ``--address`` and ``--token`` (shown when the station was created). Many: ``--token-file``, a JSON
object of ``address -> token``, and ``--count`` to use only the first N of them. ``--code`` types an access code
on the (first) station once connected. Every message from the hub is printed as one line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import threading
from pathlib import Path
from typing import Any

from hub.cli import simulate_devices
from hub.hookspecs import hookimpl

DEFAULT_HUB = "http://127.0.0.1:8123"


@hookimpl
def cli_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    devices = simulate_devices(subparsers)
    station = devices.add_parser("station", help="public computer station agents (heartbeats, codes, countdown)")
    station.add_argument("--hub", default=DEFAULT_HUB, help=f"the hub's URL (default: {DEFAULT_HUB})")
    station.add_argument("--address", help="the station's IP address or name, as registered on the hub")
    station.add_argument("--token", help="the station's agent token")
    station.add_argument("--token-file", type=Path, help="JSON object of address -> token, for many stations")
    station.add_argument("--count", type=int, help="with --token-file: use the first N stations (default: all)")
    station.add_argument("--code", help="type this access code on the (first) station once connected")
    station.add_argument("--heartbeat", type=float, help="seconds between heartbeats (default: what the hub says)")
    station.add_argument("--duration", type=float, help="stop after this many seconds (default: Ctrl-C)")
    station.add_argument("--quiet", action="store_true", help="print only the summary, not every hub message")
    station.set_defaults(func=_simulate_station)


def _tokens(args: argparse.Namespace) -> dict[str, str] | str:
    """The stations to run, or an error message."""
    if args.token_file is not None:
        try:
            tokens = json.loads(args.token_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            return f"--token-file: cannot read {args.token_file}: {error}"
        if not isinstance(tokens, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in tokens.items()
        ):
            return "--token-file: expected a JSON object of address -> token strings"
        if args.count is not None:
            if args.count < 1:
                return "--count: must be at least 1"
            if args.count > len(tokens):
                return f"--count: the token file has only {len(tokens)} stations"
            tokens = dict(list(tokens.items())[: args.count])
        return dict(tokens)
    if not args.address or not args.token:
        return "give --address and --token (or --token-file for many stations)"
    if args.count not in (None, 1):
        return "--count needs --token-file (one token per station)"
    return {args.address: args.token}


def _simulate_station(args: argparse.Namespace) -> int:
    from .simulator import StationAgent, run_agents

    tokens = _tokens(args)
    if isinstance(tokens, str):
        print(f"error: {tokens}")
        return 2

    def show(agent: StationAgent, message: dict[str, Any]) -> None:
        if not args.quiet:
            print(f"{agent.address}: {json.dumps(message, separators=(',', ':'))}", flush=True)

    async def run() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
            for number in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(number, stop.set)
        if args.duration is not None:
            loop.call_later(args.duration, stop.set)
        agents = await run_agents(
            args.hub, tokens, stop=stop, code=args.code, heartbeat_interval=args.heartbeat, on_message=show
        )
        connected = sum(agent.connections > 0 for agent in agents)
        refused = [agent for agent in agents if agent.refused is not None]
        for agent in refused:
            print(f"{agent.address}: refused: {agent.refused}", flush=True)
        print(f"stations {len(agents)}, connected {connected}, refused {len(refused)}", flush=True)
        return 0 if connected == len(agents) else 1

    return asyncio.run(run())
