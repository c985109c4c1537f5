"""WebSocket fan-out: 200 clients follow every state change while the hub writes 2,000 changes per second.

The hub runs in this process (real HTTP server on loopback, SQLite recorder on, as in production); the clients run
in separate processes (``--workers``, 2 by default), so the hub's CPU time (``time.process_time`` of this
process, every thread included) is its own. Each client signs in with an API key, asks for coalesced frames
(``supported_features``) and subscribes either with ``subscribe_entities`` (compressed diffs, what the dashboard
uses) or ``subscribe_events`` for ``state_changed`` (full states); ``--mode both`` runs one after the other.

Every change carries its send time (``time.time()``) in an attribute; clients pick it out of each frame with a
regular expression (no JSON parsing, so the clients stay cheap) and record receive time minus send time.
Printed, one JSON line per figure: latency p50/p99/max (ms), messages delivered and lost, hub CPU.
Run: ``.venv/bin/python benchmarks/websocket_bench.py [--clients 200] [--rate 2000] [--seconds 10] [--mode both]``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import multiprocessing
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

TARGET_P99_MS = 100.0
ENTITIES = 100
TICK = 0.01  # the producer writes rate * TICK changes every TICK seconds
BUCKET = 0.0001  # latency histogram resolution: 0.1 ms
BUCKETS = 100_000  # up to 10 s
_STAMP = re.compile(r'"sent": ?([0-9.]+)')


# --------------------------------------------------------------------------------------------------- clients


async def _client(url: str, key: str, mode: str, ready: list[int], hist: list[int]) -> int:
    """One client: signs in, subscribes, then reads until the hub closes the connection at the end."""
    import aiohttp

    received = 0
    async with aiohttp.ClientSession() as session, session.ws_connect(url, max_msg_size=0) as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": key})
        assert (await ws.receive_json())["type"] == "auth_ok"
        await ws.send_json({"id": 1, "type": "supported_features", "features": {"coalesce_messages": 1}})
        if mode == "entities":
            await ws.send_json({"id": 2, "type": "subscribe_entities"})
        else:
            await ws.send_json({"id": 2, "type": "subscribe_events", "event_type": "state_changed"})
        subscribed = 0.0  # when: the initial states of subscribe_entities carry older stamps, not counted
        findall, events = _STAMP.findall, mode == "events"
        async for frame in ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                break
            now = time.time()
            data: str = frame.data
            if not subscribed:
                if '"id":2' in data or '"id": 2' in data:
                    subscribed = now
                    ready[0] += 1
                continue
            stamps = findall(data)
            if events:  # each event holds the old state's stamp, then the new state's
                stamps = stamps[1::2]
            for stamp in stamps:
                sent = float(stamp)
                if sent < subscribed:
                    continue
                received += 1
                index = int((now - sent) / BUCKET)
                hist[index if index < BUCKETS else BUCKETS - 1] += 1
    return received


def _worker(url: str, keys: list[str], mode: str, ready_queue: Any, results: Any) -> None:
    async def main() -> None:
        hist = [0] * BUCKETS
        ready = [0]
        tasks = [asyncio.create_task(_client(url, key, mode, ready, hist)) for key in keys]
        while ready[0] < len(keys):
            await asyncio.sleep(0.05)
        cpu = time.process_time()
        ready_queue.put(len(keys))
        counts = await asyncio.gather(*tasks)
        results.put((list(counts), {i: n for i, n in enumerate(hist) if n}, time.process_time() - cpu))

    asyncio.run(main())


# ------------------------------------------------------------------------------------------------------ hub


async def run(
    mode: str, clients: int, rate: int, seconds: float, workers: int, profile: str | None = None
) -> list[dict[str, Any]]:
    from hub.auth.scope import Role
    from hub.bootstrap import start_hub
    from hub.testing import free_port

    with tempfile.TemporaryDirectory() as directory:
        raw = {"http": {"host": "127.0.0.1", "port": free_port()}, "logger": {"default": "warning"}}
        hub = await start_hub(directory, raw_config=raw, load_entry_points=False)
        try:
            tenant = await hub.tenants.create("bench", "Benchmark")
            ids = [f"sensor.bench_{i}" for i in range(ENTITIES)]
            for entity_id in ids:
                hub.states.set(entity_id, "0", {"sent": time.time()}, tenant_id=tenant.id)
            _, key = await hub.auth.create_api_key("bench", tenant_id=tenant.id, role=Role.VIEWER, created_by=None)
            url = f"{hub.http.url}/api/websocket"

            context = multiprocessing.get_context("spawn")
            ready_queue, results = context.Queue(), context.Queue()
            shares = [clients // workers + (1 if i < clients % workers else 0) for i in range(workers)]
            processes = [
                context.Process(target=_worker, args=(url, [key] * share, mode, ready_queue, results))
                for share in shares
            ]
            for process in processes:
                process.start()
            loop = asyncio.get_running_loop()
            connected = 0
            while connected < clients:
                connected += await loop.run_in_executor(None, ready_queue.get, True, 60)
            await asyncio.sleep(0.5)

            per_tick = max(1, round(rate * TICK))
            total = int(rate * seconds)
            written = 0
            profiler = cProfile.Profile() if profile else None
            if profiler is not None:
                profiler.enable()
            cpu0, wall0 = time.process_time(), time.perf_counter()
            next_tick = loop.time()
            while written < total:
                for _ in range(min(per_tick, total - written)):
                    hub.states.set(ids[written % ENTITIES], str(written), {"sent": time.time()})
                    written += 1
                next_tick += TICK
                await asyncio.sleep(max(0.0, next_tick - loop.time()))
            write_wall = time.perf_counter() - wall0
            # Let the queues drain, then stop the clients; CPU counts the drain too.
            deadline = loop.time() + 5.0
            while loop.time() < deadline and any(
                getattr(connection, "_queue", None) for connection in hub.data.get("websocket_registry", ())
            ):
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            if profiler is not None and profile:
                profiler.disable()
                profiler.dump_stats(f"{profile}.{mode}")
            still_open = hub.data.get("websocket_connections", 0)
        finally:
            await hub.stop()  # closes every WebSocket: the clients end and report
        counts: list[int] = []
        hist: dict[int, int] = {}
        clients_cpu = 0.0
        for _ in processes:
            worker_counts, worker_hist, worker_cpu = await loop.run_in_executor(None, results.get, True, 60)
            counts += worker_counts
            clients_cpu += worker_cpu
            for bucket, n in worker_hist.items():
                hist[bucket] = hist.get(bucket, 0) + n
        for process in processes:
            process.join(10)

    delivered = sum(counts)
    expected = total * clients
    p50, p99, worst = (_percentile(hist, q) for q in (0.5, 0.99, 1.0))
    common = {"mode": mode, "clients": clients, "rate": rate, "seconds": seconds}
    return [
        {"figure": "websocket_latency_p50_ms", "value": round(p50, 2), "unit": "ms", **common},
        {
            "figure": "websocket_latency_p99_ms",
            "value": round(p99, 2),
            "unit": "ms",
            "target": TARGET_P99_MS,
            "ok": p99 < TARGET_P99_MS and delivered == expected,
            **common,
        },
        {"figure": "websocket_latency_max_ms", "value": round(worst, 2), "unit": "ms", **common},
        {
            "figure": "websocket_messages",
            "delivered": delivered,
            "lost": expected - delivered,
            "expected": expected,
            "per_s": round(delivered / write_wall),
            "connections_open_at_end": still_open,
            **common,
        },
        {
            "figure": "websocket_hub_cpu",
            "value": round(cpu / wall, 3),
            "unit": "cores",
            "cpu_s": round(cpu, 2),
            "wall_s": round(wall, 2),
            "changes_per_s_achieved": round(total / write_wall),
            "clients_cpu_s": round(clients_cpu, 2),
            **common,
        },
    ]


def _percentile(hist: dict[int, int], q: float) -> float:
    total = sum(hist.values())
    if not total:
        return float("nan")
    rank = q * total
    seen = 0
    for bucket in sorted(hist):
        seen += hist[bucket]
        if seen >= rank:
            return (bucket + 1) * BUCKET * 1000
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rate", type=int, default=2000, help="state changes per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2, help="client processes")
    parser.add_argument("--mode", choices=["entities", "events", "both"], default="both")
    parser.add_argument("--profile", metavar="PATH", help="cProfile the hub while it writes: PATH.<mode>")
    parser.add_argument("--check", action="store_true", help="exit 1 if p99 misses the target or a message is lost")
    args = parser.parse_args()
    modes = ["entities", "events"] if args.mode == "both" else [args.mode]
    ok = True
    for mode in modes:
        for line in asyncio.run(run(mode, args.clients, args.rate, args.seconds, args.workers, args.profile)):
            ok = ok and line.get("ok", True)
            print(json.dumps(line), flush=True)
    if args.check and not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
