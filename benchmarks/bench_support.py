"""What the benchmark scripts share: percentiles, JSON lines, process limits and their worker processes' pipes."""

from __future__ import annotations

import asyncio
import json
import resource
from collections.abc import Mapping
from multiprocessing.connection import Connection
from typing import Any


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` lie (nearest rank); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def emit(figure: Mapping[str, Any]) -> dict[str, Any]:
    """Print one figure as a JSON line (what `make bench` collects) and give it back."""
    line = dict(figure)
    print(json.dumps(line), flush=True)
    return line


def raise_open_files() -> None:
    """Thousands of simulated devices need thousands of sockets: lift the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else hard
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def rss_bytes() -> int:
    """This process's resident memory."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


async def ask_workers(pipes: list[Connection], order: str, **options: Any) -> list[Any]:
    """Send an order to every worker process and wait for all their answers, off the event loop."""
    loop = asyncio.get_running_loop()
    for pipe in pipes:
        pipe.send((order, options))
    return list(await asyncio.gather(*(loop.run_in_executor(None, pipe.recv) for pipe in pipes)))
