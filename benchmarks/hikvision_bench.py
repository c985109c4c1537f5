"""Hikvision at scale: one hub following 200 simulated ISAPI devices' alert streams at 5 events/s each.

The hub runs in this process (``start_hub``, SQLite, no HTTP: stream mode needs none), with every device a tenant's
config entry in ``stream`` mode, exactly as in production: deviceInfo, claim, entities, health check every 60 s,
the alert stream, the AcsEvent backfill at connection. The devices (``IsapiDeviceSimulator``, real aiohttp servers
with Digest auth on 127.0.0.1) run in one child process, so the hub's CPU figure is its own. One JSON line each:

1. ``hikvision_connect``: time to set up every config entry and have every alert stream open; the hub's CPU.
2. ``hikvision_stream``: every device emits ``--rate`` events per second for ``--seconds``: events per second
   that reached the hub's bus, events lost, the delay from the device's write (the simulator's ``time.time()``
   just before it writes the part to the socket) to the bus event (p50, p99, max), and CPU use of the hub and of
   the devices' process (percent of one core). The devices' emitters are spread over one period, as independent
   devices are (in phase, 200 events would leave together every 0.2 s). ``--kind access`` (the default): access
   grants, each stored and de-duplicated on its serialNo in the database before its ``access`` event fires;
   ``--kind camera``: motion events (``hikvision_event`` and a binary sensor each); ``--kind both``: one, then
   the other.

Run: ``.venv/bin/python benchmarks/hikvision_bench.py [--devices 200] [--rate 5] [--seconds 20] [--kind access]
[--check]`` (``--check`` exits 1 when an event is lost or p99 is over ``TARGET_P99_MS``).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench_support import emit, percentile, raise_open_files

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

TARGET_P99_MS = 500.0
PREFIX = "DS-BENCH"


# -------------------------------------------------------------------------------------------------- devices


def _devices_process(pipe: Connection, count: int, kind: str) -> None:
    raise_open_files()
    asyncio.run(_devices_main(pipe, count, kind))


async def _devices_main(pipe: Connection, count: int, kind: str) -> None:
    from integrations.hikvision.simulator import IsapiDeviceSimulator

    loop = asyncio.get_running_loop()
    simulators = [IsapiDeviceSimulator(f"{PREFIX}{kind[0].upper()}{n:05d}", kind=kind) for n in range(count)]  # type: ignore[arg-type]
    for simulator in simulators:
        await simulator.start()
    pipe.send([(simulator.serial, simulator.port, simulator.username, simulator.password) for simulator in simulators])
    cpu_at = time.process_time()
    while True:
        order, options = await loop.run_in_executor(None, pipe.recv)
        if order == "streams":
            pipe.send(sum(simulator.stream_count for simulator in simulators))
        elif order == "rate":
            cpu_at = time.process_time()
            for simulator in simulators:
                simulator.write_times.clear()
            # Independent devices are not in phase: their emitters start spread over one period.
            step = 1.0 / options["rate"] / len(simulators)
            for simulator in simulators:
                simulator.events_per_second = options["rate"]
                await asyncio.sleep(step)
            pipe.send(None)
        elif order == "stop":
            for simulator in simulators:
                simulator.events_per_second = 0
            pipe.send(
                {
                    "cpu_s": time.process_time() - cpu_at,
                    "write_times": {s.serial: dict(s.write_times) for s in simulators},
                }
            )
        elif order == "quit":
            for simulator in simulators:
                await simulator.stop()
            pipe.send(None)
            return


async def _ask(pipe: Connection, order: str, **options: Any) -> Any:
    pipe.send((order, options))
    return await asyncio.get_running_loop().run_in_executor(None, pipe.recv)


# ------------------------------------------------------------------------------------------------------ hub


async def bench_kind(args: argparse.Namespace, kind: str) -> list[dict[str, Any]]:
    from hub.bootstrap import start_hub
    from integrations.hikvision.const import DOMAIN

    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_devices_process, args=(child, args.devices, kind))
    process.start()
    figures: list[dict[str, Any]] = []
    hub = await start_hub(
        Path(tempfile.mkdtemp(prefix="hikvision-bench-")),
        raw_config={DOMAIN: {}},
        http=False,
        load_entry_points=False,
    )
    try:
        devices = await asyncio.get_running_loop().run_in_executor(None, parent.recv)
        tenant = await hub.tenants.create("bench", "Bench")

        # 1. every device set up and streaming
        cpu_before, began = time.process_time(), time.perf_counter()
        limit = asyncio.Semaphore(25)

        async def add(serial: str, port: int, username: str, password: str) -> None:
            data = {"host": "127.0.0.1", "port": port, "username": username, "password": password}
            async with limit:
                await hub.config_entries.add(DOMAIN, data, tenant_id=tenant.id, title=serial)

        await asyncio.gather(*(add(*device) for device in devices))
        while await _ask(parent, "streams") < args.devices and time.perf_counter() - began < 120:
            await asyncio.sleep(0.2)
        streams = await _ask(parent, "streams")
        manager = hub.data[DOMAIN]
        while any(direct.backfilling for direct in manager.entries.values()) and time.perf_counter() - began < 120:
            await asyncio.sleep(0.2)
        figures.append(
            emit(
                {
                    "figure": "hikvision_connect",
                    "kind": kind,
                    "devices": args.devices,
                    "streams_open": streams,
                    "seconds": round(time.perf_counter() - began, 2),
                    "hub_cpu_s": round(time.process_time() - cpu_before, 2),
                    "ok": streams == args.devices,
                }
            )
        )

        # 2. events at --rate per device
        received: list[tuple[str, int, float]] = []
        event_type = "access" if kind == "access" else "hikvision_event"
        key = "serial_no" if kind == "access" else "post_count"

        def on_event(event: Any) -> None:
            received.append((event.data["serial"], event.data[key], time.time()))

        unlisten = hub.bus.listen(event_type, on_event)
        profile = None
        if args.profile is not None:
            import cProfile

            profile = cProfile.Profile()
            profile.enable()
        cpu_before, began = time.process_time(), time.perf_counter()
        await _ask(parent, "rate", rate=args.rate)
        await asyncio.sleep(args.seconds)
        stopped = await _ask(parent, "stop")
        await asyncio.sleep(2.0)  # what is in flight arrives
        wall = time.perf_counter() - began
        hub_cpu = time.process_time() - cpu_before
        unlisten()
        if profile is not None:
            profile.disable()
            profile.dump_stats(f"{args.profile}.{kind}")

        written: dict[str, dict[int, float]] = stopped["write_times"]
        delays = [
            bus_time - written[serial][seq]
            for serial, seq, bus_time in received
            if serial in written and seq in written[serial]
        ]
        sent = sum(len(times) for times in written.values())
        seen = {(serial, seq) for serial, seq, _ in received}
        lost = sum(1 for serial, times in written.items() for seq in times if (serial, seq) not in seen)
        p99 = percentile(delays, 0.99) * 1000
        figures.append(
            emit(
                {
                    "figure": "hikvision_stream",
                    "kind": kind,
                    "devices": args.devices,
                    "rate_per_device": args.rate,
                    "seconds": args.seconds,
                    "events_written": sent,
                    "events_on_bus": len(delays),
                    "lost": lost,
                    "events_per_s": round(len(delays) / args.seconds, 1),
                    "p50_ms": round(percentile(delays, 0.5) * 1000, 1),
                    "p99_ms": round(p99, 1),
                    "max_ms": round(max(delays, default=float("nan")) * 1000, 1),
                    "hub_cpu_percent": round(100 * hub_cpu / wall, 1),
                    "devices_cpu_percent": round(100 * stopped["cpu_s"] / args.seconds, 1),
                    "target_p99_ms": TARGET_P99_MS,
                    "ok": lost == 0 and p99 < TARGET_P99_MS,
                }
            )
        )
    finally:
        await hub.stop()
        await _ask(parent, "quit")
        process.join(timeout=30)
    return figures


async def bench(args: argparse.Namespace) -> list[dict[str, Any]]:
    raise_open_files()
    kinds = ["access", "camera"] if args.kind == "both" else [args.kind]
    figures: list[dict[str, Any]] = []
    for kind in kinds:
        figures += await bench_kind(args, kind)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=200, help="simulated ISAPI devices (default 200)")
    parser.add_argument("--rate", type=float, default=5.0, help="events per second per device (default 5)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the measured phase (default 20)")
    parser.add_argument("--kind", choices=("access", "camera", "both"), default="access")
    parser.add_argument("--check", action="store_true", help="exit 1 when a figure misses its target")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the measured phase into FILE.<kind>")
    args = parser.parse_args()
    figures = asyncio.run(bench(args))
    return 0 if not args.check or all(figure["ok"] for figure in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
