"""Public computer stations at scale: 1,000 station agents heartbeating every 10 s against a whole hub.

The hub runs in this process (``start_hub`` with a ``stations:`` section, its real HTTP server on 127.0.0.1,
SQLite); the agents run in ``--workers`` child processes (``StationAgent``, the simulator ``gatehouse simulate
station`` uses, over real sockets), so ``time.process_time()`` of this process is the hub's CPU alone.
``--busy`` of the stations (default half) have an active session, started by their agent typing its code, so
their heartbeats carry a code and a remaining time that the hub checks against its own clock, and they move
each station's remaining-time entity.

Heartbeat-to-state latency: each agent notes ``time.monotonic()`` just before it writes a heartbeat; the hub
notes ``time.monotonic()`` when ``StationManager.heartbeat`` has returned for that station (``last_seen``,
status and remaining-time entity updated, replies queued) through a thin wrapper around that one method.
``CLOCK_MONOTONIC`` is one clock for every process of the machine, so the difference is the time from the
agent's send to the state being updated in the hub: client write, loopback, aiohttp's frame parsing, our JSON
parsing and validation, the manager. Each hub stamp is matched with the station's latest send before it
(heartbeats of one station are 10 s apart, far more than any latency).

Figures, one JSON line each:

1. ``stations_connect``: time to connect every agent (and start the busy stations' sessions), and
   ``bytes_per_connected_station``: this process's RSS growth (after a full collection) from before the first
   connection to after the last, divided by the number of stations (the stations themselves, their device and
   entities, were created before and are reported as ``bytes_per_station_record``).
2. ``stations_heartbeats``: ``--seconds`` of heartbeats every ``--interval`` s from every station, each station's
   first one at a random point of the interval: hub CPU in cores (CPU seconds / wall seconds), heartbeats
   seen by the hub, latency p50/p99/max.

Run: ``.venv/bin/python benchmarks/stations_bench.py [--stations 1000] [--interval 10] [--seconds 60] [--check]``.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import gc
import multiprocessing
import random
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench_support import ask_workers, emit, percentile, raise_open_files, rss_bytes

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

TARGET_P99_MS = 50.0
TARGET_CPU_CORES = 0.1


# --------------------------------------------------------------------------------------------------- agents


def _worker(pipe: Connection, hub_url: str, stations: list[tuple[str, str, str | None]]) -> None:
    from hub.memory import tune_garbage_collector

    raise_open_files()
    tune_garbage_collector()  # the agents' own pauses would count in the latency they help measure
    asyncio.run(_worker_main(pipe, hub_url, stations))


async def _worker_main(pipe: Connection, hub_url: str, stations: list[tuple[str, str, str | None]]) -> None:
    import aiohttp

    from integrations.stations.simulator import StationAgent

    loop = asyncio.get_running_loop()
    sent: dict[str, list[float]] = {address: [] for address, _, _ in stations}

    def stamp(address: str) -> None:
        sent[address].append(time.monotonic())

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        agents = [
            StationAgent(hub_url, address, token, http=http, auto_heartbeat=False, reconnect=False, on_heartbeat=stamp)
            for address, token, _ in stations
        ]
        codes = {address: code for address, _, code in stations}
        # Codes are typed one at a time: every agent here comes from 127.0.0.1, and the hub counts an attempt
        # against its client address until the code proves right (5 pending at once would lock the address).
        typing = asyncio.Lock()

        async def connect(index: int, agent: StationAgent) -> bool:
            await asyncio.sleep(index / 250)  # 250 connections per second per worker
            await agent.start(timeout=60)
            code = codes[agent.address]
            if code is None:
                return False
            async with typing:
                await agent.validate(code)
                await agent.next_message("session", timeout=60)
            return True

        while True:
            order, options = await loop.run_in_executor(None, pipe.recv)
            if order == "connect":
                began = time.perf_counter()
                started = await asyncio.gather(*(connect(index, agent) for index, agent in enumerate(agents)))
                pipe.send({"seconds": time.perf_counter() - began, "sessions": sum(started)})
            elif order == "run":
                for stamps in sent.values():
                    stamps.clear()
                await _heartbeats(agents, options["interval"], options["seconds"])
                pipe.send({"sent": sent, "errors": sum(len(agent.errors) for agent in agents)})
            elif order == "quit":
                await asyncio.gather(*(agent.close() for agent in agents), return_exceptions=True)
                pipe.send({})
                return


async def _heartbeats(agents: list[Any], interval: float, seconds: float) -> None:
    """Every agent heartbeats every ``interval`` s for ``seconds``, starting at a random point of the interval."""
    loop = asyncio.get_running_loop()
    ends = loop.time() + seconds

    async def beat(agent: Any) -> None:
        next_at = loop.time() + random.uniform(0, interval)
        while True:
            await asyncio.sleep(max(0.0, min(next_at, ends) - loop.time()))
            if loop.time() >= ends:
                return
            await agent.heartbeat()
            next_at += interval

    await asyncio.gather(*(beat(agent) for agent in agents))


# ------------------------------------------------------------------------------------------------------ hub


def _observe_heartbeats(manager: Any, seen: list[tuple[str, float]]) -> None:
    """Note when the manager has finished each heartbeat (its state is then updated)."""
    heartbeat = manager.heartbeat
    monotonic = time.monotonic

    async def timed(station_id: str, **kwargs: Any) -> Any:
        result = await heartbeat(station_id, **kwargs)
        seen.append((station_id, monotonic()))
        return result

    manager.heartbeat = timed


def _latencies(seen: list[tuple[str, float]], sent: dict[str, list[float]], ids: dict[str, str]) -> list[float]:
    by_station = {ids[address]: sorted(stamps) for address, stamps in sent.items()}
    latencies = []
    for station_id, at in seen:
        stamps = by_station.get(station_id)
        if not stamps:
            continue
        index = bisect.bisect_right(stamps, at) - 1
        if index >= 0:
            latencies.append(at - stamps[index])
    return latencies


async def bench(args: argparse.Namespace) -> list[dict[str, Any]]:
    from hub.bootstrap import start_hub
    from hub.memory import freeze_startup_objects, tune_garbage_collector
    from hub.testing import free_port
    from integrations.stations.manager import manager_of

    raise_open_files()
    figures: list[dict[str, Any]] = []
    config_dir = Path(tempfile.mkdtemp(prefix="stations-bench-"))
    port = free_port()
    config = {
        "stations": {"heartbeat_interval": args.interval, "offline_after": 3 * args.interval},
        "http": {"host": "127.0.0.1", "port": port},
    }
    tune_garbage_collector()  # as `gatehouse run` does
    hub = await start_hub(config_dir, raw_config=config, http=True, load_entry_points=False)
    freeze_startup_objects()
    manager = manager_of(hub)
    assert manager is not None, "the stations integration did not start"
    tenant = await hub.tenants.create("bench", "Bench")

    gc.collect()
    rss_before_records = rss_bytes()
    stations: list[tuple[str, str, str | None]] = []
    ids: dict[str, str] = {}
    busy = round(args.stations * args.busy)
    for number in range(args.stations):
        address = f"10.{number // 65536}.{number // 256 % 256}.{number % 256}"
        record, token = await manager.create_station(tenant.id, f"PC-{number:04d}", address=address, actor="bench")
        code = None
        if number < busy:
            session = await manager.create_session(tenant.id, 600, station_id=record.id, actor="bench")
            code = session.code
        stations.append((address, token, code))
        ids[address] = record.id
    await hub.recorder.commit_barrier()
    gc.collect()
    per_record = (rss_bytes() - rss_before_records) / args.stations

    seen: list[tuple[str, float]] = []
    _observe_heartbeats(manager, seen)
    context = multiprocessing.get_context("spawn")
    pipes: list[Connection] = []
    processes = []
    for worker in range(args.workers):
        parent, child = context.Pipe()
        share = stations[worker :: args.workers]
        process = context.Process(target=_worker, args=(child, hub.http.url, share))
        process.start()
        pipes.append(parent)
        processes.append(process)
    try:
        await asyncio.sleep(1.0)
        gc.collect()
        rss_before = rss_bytes()
        cpu_before, began = time.process_time(), time.perf_counter()
        results = await ask_workers(pipes, "connect")
        connect_seconds = time.perf_counter() - began
        connect_cpu = time.process_time() - cpu_before
        await hub.recorder.commit_barrier()
        await asyncio.sleep(1.0)
        gc.collect()
        per_station = (rss_bytes() - rss_before) / args.stations
        connected = len(hub.data.get("stations_agent_connections", ()))
        figures.append(
            emit(
                {
                    "figure": "stations_connect",
                    "stations": args.stations,
                    "connected": connected,
                    "sessions_started": sum(result["sessions"] for result in results),
                    "seconds": round(connect_seconds, 2),
                    "hub_cpu_s": round(connect_cpu, 2),
                    "bytes_per_connected_station": round(per_station),
                    "bytes_per_station_record": round(per_record),
                    "ok": connected == args.stations,
                }
            )
        )

        seen.clear()
        cpu_before, began = time.process_time(), time.perf_counter()
        results = await ask_workers(pipes, "run", interval=args.interval, seconds=args.seconds)
        wall = time.perf_counter() - began
        cpu = time.process_time() - cpu_before
        sent: dict[str, list[float]] = {}
        for result in results:
            sent.update(result["sent"])
        latencies = _latencies(seen, sent, ids)
        p99 = percentile(latencies, 0.99) * 1000
        cores = cpu / wall
        figures.append(
            emit(
                {
                    "figure": "stations_heartbeats",
                    "stations": args.stations,
                    "busy": busy,
                    "interval_s": args.interval,
                    "seconds": round(wall, 1),
                    "heartbeats_sent": sum(len(stamps) for stamps in sent.values()),
                    "heartbeats_seen": len(seen),
                    "agent_errors": sum(result["errors"] for result in results),
                    "hub_cpu_s": round(cpu, 2),
                    "hub_cpu_cores": round(cores, 4),
                    "p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
                    "p99_ms": round(p99, 2),
                    "max_ms": round(max(latencies, default=0.0) * 1000, 2),
                    "target_p99_ms": TARGET_P99_MS,
                    "target_cpu_cores": TARGET_CPU_CORES,
                    "ok": p99 < TARGET_P99_MS and cores < TARGET_CPU_CORES,
                }
            )
        )
        await ask_workers(pipes, "quit")
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
        await hub.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="processes running the station agents")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between a station's heartbeats")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the heartbeat phase")
    parser.add_argument("--busy", type=float, default=0.5, help="fraction of stations with an active session")
    parser.add_argument("--check", action="store_true", help="exit 1 if a figure misses its target")
    args = parser.parse_args()
    figures = asyncio.run(bench(args))
    if args.check and not all(figure["ok"] for figure in figures):
        sys.exit(1)


if __name__ == "__main__":
    main()
