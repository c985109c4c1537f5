"""REST benchmark: ``GET /api/states`` of a tenant with 1,000 entities, over loopback, by concurrent clients.

The hub (SQLite in a temporary directory, HTTP on 127.0.0.1) runs in this process; the clients run in a child
process with their own event loop, so client and server do not share one loop. Each client keeps one
connection and sends requests back to back for ``--seconds``. Printed, one JSON line per credential kind
(a JWT bearer token, then an API key): requests per second, and the p50 and p99 latency in milliseconds.
Run: ``.venv/bin/python benchmarks/rest_bench.py [--clients 16] [--seconds 10] [--entities 1000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from hub.auth.scope import Role
from hub.bootstrap import start_hub
from hub.testing import free_port


async def _client_run(url: str, token: str, clients: int, seconds: float, expected: int) -> dict[str, Any]:
    import aiohttp

    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.perf_counter() + seconds

    async def one(session: aiohttp.ClientSession) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            async with session.get(url, headers=headers) as response:
                body = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{response.status}: {body[:200]!r}")
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.get(url, headers=headers) as response:  # warm-up, and check the answer
            states = await response.json()
            assert len(states) == expected, len(states)
        started = time.perf_counter()
        await asyncio.gather(*(one(session) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2),
    }


def _client_process(url: str, token: str, clients: int, seconds: float, expected: int, queue: Any) -> None:
    queue.put(asyncio.run(_client_run(url, token, clients, seconds, expected)))


async def main(clients: int, seconds: float, entities: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        port = free_port()
        raw = {"http": {"host": "127.0.0.1", "port": port}, "logger": {"default": "warning"}}
        hub = await start_hub(directory, raw_config=raw, load_entry_points=False)
        try:
            tenant = await hub.tenants.create("school")
            for number in range(entities):
                hub.states.set(
                    f"sensor.bench_{number:04d}",
                    str(number),
                    {"friendly_name": f"Bench {number}", "unit_of_measurement": "°C", "device_class": "temperature"},
                    tenant_id=tenant.id,
                )
            await hub.auth.create_user("bench", "a long enough password", tenant_id=tenant.id, role=Role.VIEWER)
            pair = await hub.auth.login("bench", "a long enough password", address="127.0.0.1")
            _, api_key = await hub.auth.create_api_key("bench", tenant_id=tenant.id, role=Role.VIEWER, created_by=None)
            url = f"{hub.http.url}/api/states"
            context = multiprocessing.get_context("spawn")
            for kind, token in (("bearer", pair.access_token), ("api_key", api_key)):
                queue = context.Queue()
                process = context.Process(
                    target=_client_process, args=(url, token, clients, seconds, entities, queue), daemon=True
                )
                process.start()
                while process.is_alive() and queue.empty():
                    await asyncio.sleep(0.05)  # the server must keep running while the clients measure
                result = queue.get()
                process.join()
                line = {"figure": "rest_get_states", "auth": kind, "entities": entities, "clients": clients, **result}
                print(json.dumps(line), flush=True)
        finally:
            await hub.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--entities", type=int, default=1000)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.clients, arguments.seconds, arguments.entities))
