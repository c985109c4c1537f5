"""TM20 terminals at scale: 2,000 simulated terminals against a real hub (SQLite, the whole tm20 integration).

The hub runs in this process (``start_hub`` with a ``tm20:`` section, no HTTP); the terminals run in ``--workers``
child processes (2 by default, ``TerminalSimulator`` over real sockets), so the hub's CPU is its own. Every serial
is claimed by a tenant first, so each terminal has its device, entities and health entry, as in production.
Phases, one JSON line each:

1. ``tm20_connect``: time to connect and register all terminals, and ``bytes_per_idle_terminal``: the hub's
   RSS growth (after a full collection) divided by the number of terminals (target < 50 KB).
2. ``tm20_throughput``: every terminal sends a ``sendlog`` batch of ``--batch`` records as soon as the previous
   one is acknowledged; committed logs per second counted in the database (target >= 5,000/s).
3. ``tm20_latency``: ``--rate`` logs per second in total (default 1,000), batches spread evenly; ack latency
   p50/p99 measured by the terminals (target p99 < 200 ms).
4. ``tm20_reconnect``: the hub is stopped and started again on the same database and port; time until every
   terminal has registered again (the simulators retry after 0.5-1.5 s, as firmware retries after a few seconds).
5. ``tm20_durability``: logs acknowledged to the terminals vs rows in ``tm20_logs``: ``lost`` must be 0.

``--bare`` runs the same phases against the endpoint alone (``Tm20Server`` with a no-op handler, no hub, no
database): the cost of the wire layer (sockets, parsing, sessions) apart from storage and the manager.

Run: ``.venv/bin/python benchmarks/tm20_bench.py [--terminals 2000] [--seconds 15] [--rate 1000] [--check]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench_support import ask_workers, emit, percentile, raise_open_files, rss_bytes

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

TARGET_LOGS_PER_S = 5000.0
TARGET_P99_MS = 200.0
TARGET_BYTES_PER_TERMINAL = 50 * 1024
PREFIX = "BENCH"


# ------------------------------------------------------------------------------------------------ terminals


def _worker(pipe: Connection, url: str, first: int, count: int, batch: int) -> None:
    from hub.memory import tune_garbage_collector

    raise_open_files()
    tune_garbage_collector()  # the simulated terminals' pauses would count in the latency they measure
    asyncio.run(_worker_main(pipe, url, first, count, batch))


async def _worker_main(pipe: Connection, url: str, first: int, count: int, batch: int) -> None:
    from integrations.tm20.simulator import TerminalSimulator

    loop = asyncio.get_running_loop()
    simulators = [
        TerminalSimulator(url, f"{PREFIX}{first + index:06d}", reconnect_delay=1.0, reply_timeout=60.0)
        for index in range(count)
    ]

    async def start(index: int, simulator: TerminalSimulator) -> None:
        await asyncio.sleep(index / 250)  # 250 connections per second per worker
        await simulator.start(timeout=120)

    while True:
        order, options = await loop.run_in_executor(None, pipe.recv)
        if order == "connect":
            began = time.perf_counter()
            await asyncio.gather(*(start(index, simulator) for index, simulator in enumerate(simulators)))
            pipe.send({"seconds": time.perf_counter() - began})
        elif order == "registered":
            pipe.send({"registered": sum(simulator.registered.is_set() for simulator in simulators)})
        elif order == "run":
            pipe.send(await _run_phase(simulators, batch, options["seconds"], options.get("rate")))
        elif order == "quit":
            await asyncio.gather(*(simulator.close() for simulator in simulators), return_exceptions=True)
            pipe.send({})
            return


async def _run_phase(simulators: list[Any], batch: int, seconds: float, rate: float | None) -> dict[str, Any]:
    """Closed loop (next batch on ack) without ``rate``; else batches spread evenly for ``rate`` logs/s."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    acked = failed = 0
    ends = loop.time() + seconds
    interval = len(simulators) * batch / rate if rate else 0.0

    async def one(simulator: Any) -> None:
        nonlocal acked, failed
        next_at = loop.time() + interval * (hash(simulator.sn) % 1000) / 1000
        while True:
            if interval:
                await asyncio.sleep(max(0.0, next_at - loop.time()))
                next_at += interval
            if loop.time() >= ends:
                return
            sent = time.perf_counter()
            try:
                ack = await simulator.send_logs(simulator.make_logs(batch))
            except Exception:
                failed += 1
                continue
            if ack.get("result") is True:
                acked += batch
                latencies.append(time.perf_counter() - sent)
            else:
                failed += 1

    await asyncio.gather(*(one(simulator) for simulator in simulators))
    return {"acked": acked, "failed": failed, "latencies": latencies}


# ------------------------------------------------------------------------------------------------------ hub


class _BareHandler:
    """``--bare``: the endpoint alone, every batch "committed" at once, to see the wire layer's own cost."""

    def __init__(self) -> None:
        self.logs = 0

    async def on_register(self, session: Any, devinfo: dict[str, Any]) -> Any:
        from integrations.tm20.session import RegisterDecision

        return RegisterDecision(True)

    async def on_logs(self, session: Any, records: list[dict[str, Any]], *, count: Any, logindex: Any) -> Any:
        from integrations.tm20.session import LogDecision

        self.logs += len(records)
        return LogDecision()

    async def on_user(self, session: Any, user: dict[str, Any]) -> None:
        return None

    async def on_qrcode(self, session: Any, text: str) -> Any:
        return None

    async def on_pin(self, session: Any, pin: str, time: str | None) -> Any:
        return None

    async def on_registered(self, session: Any) -> None:
        return None

    async def on_seen(self, session: Any) -> None:
        return None

    async def on_disconnected(self, session: Any, reason: str) -> None:
        return None


class _BareHub:
    def __init__(self, server: Any, handler: _BareHandler) -> None:
        self.data = {"tm20": server}
        self.handler = handler
        server.server = server  # _registered() reads hub.data["tm20"].server.sessions

    async def stop(self) -> None:
        await self.data["tm20"].stop()


_BARE: list[_BareHandler] = []  # one handler across restarts: the log count survives, as rows would


async def _start_hub(config_dir: Path, port: int, bare: bool = False) -> Any:
    from hub.bootstrap import start_hub

    if bare:
        from integrations.tm20.server import Tm20Server

        handler = _BARE[0] if _BARE else _BareHandler()
        _BARE[:] = [handler]
        server = Tm20Server(handler, host="127.0.0.1", port=port)
        await server.start()
        return _BareHub(server, handler)

    from hub.memory import freeze_startup_objects, tune_garbage_collector

    config = {"tm20": {"host": "127.0.0.1", "port": port, "time_zone": "UTC"}}
    tune_garbage_collector()  # as `gatehouse run` does
    hub = await start_hub(config_dir, raw_config=config, http=False, load_entry_points=False)
    freeze_startup_objects()
    return hub


async def _count_logs(hub: Any) -> int:
    from sqlalchemy import func, select

    if isinstance(hub, _BareHub):
        return hub.handler.logs

    from integrations.tm20.models import Tm20Log

    async with hub.database.session() as session:
        return int((await session.execute(select(func.count()).select_from(Tm20Log))).scalar_one())


def _registered(hub: Any) -> int:
    return len(hub.data["tm20"].server.sessions)


async def _wait_registered(hub: Any, expected: int, limit: float) -> float:
    began = time.perf_counter()
    while _registered(hub) < expected and time.perf_counter() - began < limit:
        await asyncio.sleep(0.02)
    return time.perf_counter() - began


async def bench(args: argparse.Namespace) -> list[dict[str, Any]]:
    from hub.testing import free_port
    from integrations.tm20.const import MANUFACTURER

    raise_open_files()
    figures: list[dict[str, Any]] = []
    config_dir = Path(tempfile.mkdtemp(prefix="tm20-bench-"))
    port = free_port()
    hub = await _start_hub(config_dir, port, args.bare)
    if not args.bare:
        tenant = await hub.tenants.create("bench", "Bench")
        for number in range(1, args.terminals + 1):
            await hub.devices.claim(tenant.id, MANUFACTURER, f"{PREFIX}{number:06d}", f"Terminal {number}")

    context = multiprocessing.get_context("spawn")
    pipes: list[Connection] = []
    processes = []
    share = args.terminals // args.workers
    for worker in range(args.workers):
        count = share if worker < args.workers - 1 else args.terminals - share * (args.workers - 1)
        parent, child = context.Pipe()
        process = context.Process(
            target=_worker, args=(child, f"ws://127.0.0.1:{port}/ws/tm20/", 1 + worker * share, count, args.batch)
        )
        process.start()
        pipes.append(parent)
        processes.append(process)
    try:
        # 1. connect, memory per idle terminal
        await asyncio.sleep(1.0)
        gc.collect()
        rss_before = rss_bytes()
        cpu_before = time.process_time()
        began = time.perf_counter()
        await ask_workers(pipes, "connect")
        await _wait_registered(hub, args.terminals, 60)
        connect_seconds = time.perf_counter() - began
        await asyncio.sleep(2.0)  # on_registered tasks (settime, getnewlog drain) settle
        gc.collect()
        per_terminal = (rss_bytes() - rss_before) / args.terminals
        figures.append(
            emit(
                {
                    "figure": "tm20_connect",
                    "bare": args.bare,
                    "terminals": args.terminals,
                    "registered": _registered(hub),
                    "seconds": round(connect_seconds, 2),
                    "hub_cpu_s": round(time.process_time() - cpu_before, 2),
                    "bytes_per_idle_terminal": round(per_terminal),
                    "target_bytes": TARGET_BYTES_PER_TERMINAL,
                    "ok": per_terminal < TARGET_BYTES_PER_TERMINAL and _registered(hub) == args.terminals,
                }
            )
        )

        # 2. throughput, closed loop (phases 2 and 3 are the ones --profile records)
        profile = None
        if args.profile is not None:
            import cProfile

            profile = cProfile.Profile()
            profile.enable()
        rows_before = await _count_logs(hub)
        cpu_before, began = time.process_time(), time.perf_counter()
        results = await ask_workers(pipes, "run", seconds=args.seconds)
        await asyncio.sleep(0.5)
        elapsed = time.perf_counter() - began
        committed = await _count_logs(hub) - rows_before
        acked = sum(result["acked"] for result in results)
        latencies = [value for result in results for value in result["latencies"]]
        logs_per_s = committed / (elapsed - 0.5)
        figures.append(
            emit(
                {
                    "figure": "tm20_throughput",
                    "bare": args.bare,
                    "terminals": args.terminals,
                    "batch": args.batch,
                    "seconds": args.seconds,
                    "committed": committed,
                    "acked": acked,
                    "failed": sum(result["failed"] for result in results),
                    "logs_per_s": round(logs_per_s),
                    "hub_cpu_s": round(time.process_time() - cpu_before, 2),
                    "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
                    "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
                    "target_logs_per_s": TARGET_LOGS_PER_S,
                    "ok": logs_per_s >= TARGET_LOGS_PER_S,
                }
            )
        )

        # 3. latency at a fixed rate, in a steady state: first let the hub write what the saturation phase left
        # queued (the recorder's events and states), as a hub between two bursts would
        if not args.bare:
            await hub.recorder.commit_barrier()
        await asyncio.sleep(2.0)
        cpu_before = time.process_time()
        results = await ask_workers(pipes, "run", seconds=args.seconds, rate=args.rate / args.workers)
        latencies = [value for result in results for value in result["latencies"]]
        p99 = percentile(latencies, 0.99) * 1000
        figures.append(
            emit(
                {
                    "figure": "tm20_latency",
                    "bare": args.bare,
                    "rate_logs_per_s": args.rate,
                    "acks": len(latencies),
                    "acked": sum(result["acked"] for result in results),
                    "failed": sum(result["failed"] for result in results),
                    "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
                    "p99_ms": round(p99, 1),
                    "max_ms": round(max(latencies, default=0.0) * 1000, 1),
                    "hub_cpu_s": round(time.process_time() - cpu_before, 2),
                    "target_p99_ms": TARGET_P99_MS,
                    "ok": p99 < TARGET_P99_MS,
                }
            )
        )
        total_acked = sum(figure.get("acked", 0) for figure in figures)
        if profile is not None:
            profile.disable()
            profile.dump_stats(args.profile)

        # 4. restart, time to get every terminal back
        await hub.stop()
        stopped = time.perf_counter()
        hub = await _start_hub(config_dir, port, args.bare)
        started = time.perf_counter()
        await _wait_registered(hub, args.terminals, 120)
        back = time.perf_counter()
        figures.append(
            emit(
                {
                    "figure": "tm20_reconnect",
                    "terminals": args.terminals,
                    "registered": _registered(hub),
                    "hub_start_s": round(started - stopped, 2),
                    "seconds_after_start": round(back - started, 2),
                    "seconds_after_stop": round(back - stopped, 2),
                    "ok": _registered(hub) == args.terminals,
                }
            )
        )

        # 5. every acknowledged log is in the database
        rows = await _count_logs(hub)
        figures.append(
            emit(
                {
                    "figure": "tm20_durability",
                    "acked": total_acked,
                    "rows": rows,
                    "lost": max(0, total_acked - rows),
                    "ok": rows >= total_acked,
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
    parser.add_argument("--terminals", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2, help="processes running the simulated terminals")
    parser.add_argument("--batch", type=int, default=10, help="records per sendlog batch")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of the throughput and latency phases")
    parser.add_argument("--rate", type=float, default=1000.0, help="logs per second in the latency phase")
    parser.add_argument("--check", action="store_true", help="exit 1 if a figure misses its target")
    parser.add_argument("--bare", action="store_true", help="the endpoint alone with a no-op handler (no hub, no DB)")
    parser.add_argument("--profile", type=Path, help="write the hub process's cProfile stats to this file")
    args = parser.parse_args()
    figures = asyncio.run(bench(args))
    if args.check and not all(figure["ok"] for figure in figures):
        sys.exit(1)


if __name__ == "__main__":
    main()
