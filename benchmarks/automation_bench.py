"""Automation engine benchmark: 1,000 automations, each on an ``access`` trigger for its own terminal.

A real hub (SQLite in a temporary directory, no HTTP) loads 1,000 automations from automations.yaml, one per
terminal (``device_id: terminal-NNNN``), each calling the ``bench.open`` service with a template in its data.
Figures, one JSON line each:

- ``automation_load_s``: seconds to validate and start the 1,000 automations (a reload of the file).
- ``access_to_service_call``: latency from ``hub.bus.fire("access", ...)`` to the matching automation's service
  handler, p50/p99/max in ms, over ``--samples`` events sent one at a time to random terminals.
- ``access_events_per_s``: ``access`` events the engine turns into service calls per second while the 1,000
  automations listen (batches of one event per terminal, every call awaited), wall clock and CPU.
- ``unmatched_events_per_s``: ``access`` events of terminals no automation watches (the cost of listening alone).

Run: ``.venv/bin/python benchmarks/automation_bench.py [--automations N] [--samples N] [--events N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from hub.bootstrap import start_hub
from hub.core import Hub, ServiceCall


def report(figure: str, **values: Any) -> None:
    print(json.dumps({"figure": figure, **values}), flush=True)


def automations_yaml(count: int, trigger: str) -> str:
    lines = []
    for n in range(count):
        if trigger == "access":
            match = ["    - trigger: access", f"      device_id: terminal-{n:04d}", "      granted: true"]
        else:  # the same filter written as an event trigger
            match = ["    - trigger: event", "      event_type: access",
                     f"      event_data: {{device_id: terminal-{n:04d}, granted: true}}"]  # fmt: skip
        lines += [
            f"- id: door_{n:04d}",
            f"  alias: Open door {n}",
            "  tenant: bench",
            "  triggers:",
            *match,
            "  actions:",
            "    - action: bench.open",
            "      data:",
            f"        door: {n}",
            '        person: "{{ trigger.person if trigger.person is defined else trigger.event.data.person }}"',
        ]
    return "\n".join(lines) + "\n"


def access(n: int, tenant_id: str, hub: Hub) -> None:
    hub.bus.fire(
        "access",
        {
            "device_id": f"terminal-{n:04d}",
            "person": "Ada",
            "method": "face",
            "granted": True,
            "direction": "in",
            "time": "2026-01-01T08:00:00+00:00",
        },
        tenant_id=tenant_id,
    )


async def idle(automations: list[Any]) -> None:
    """Until every run has finished (mode single would drop the next event of a terminal still running)."""
    while any(automation.current for automation in automations):
        await asyncio.sleep(0)


async def bench(count: int, samples: int, events: int, trigger: str) -> None:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as directory:
        hub = await start_hub(directory, raw_config={"logger": {"default": "warning"}}, http=False)
        try:
            tenant = await hub.tenants.create("bench")
            waiting: dict[int, asyncio.Future[float]] = {}

            def opened(call: ServiceCall) -> None:
                future = waiting.pop(int(call.data["door"]), None)
                if future is not None and not future.done():
                    future.set_result(time.perf_counter())

            hub.services.register("bench", "open", opened)
            Path(directory, "automations.yaml").write_text(automations_yaml(count, trigger), encoding="utf-8")
            started = time.perf_counter()
            errors = await hub.automations.reload()
            load_s = time.perf_counter() - started
            if errors or len(hub.automations.all()) != count:
                raise SystemExit(f"automations refused: {errors[:3]}")
            report("automation_load_s", trigger=trigger, automations=count, value=round(load_s, 3), unit="s")

            loop = asyncio.get_running_loop()
            automations = hub.automations.all()
            latencies = []
            for _ in range(samples):
                n = random.randrange(count)
                waiting[n] = loop.create_future()
                sent = time.perf_counter()
                access(n, tenant.id, hub)
                latencies.append(await asyncio.wait_for(waiting[n], 5) - sent)
                await idle(automations)
            latencies_ms = sorted(value * 1000 for value in latencies)
            report(
                "access_to_service_call",
                trigger=trigger,
                automations=count,
                samples=samples,
                p50_ms=round(statistics.median(latencies_ms), 3),
                p99_ms=round(latencies_ms[int(len(latencies_ms) * 0.99) - 1], 3),
                max_ms=round(latencies_ms[-1], 3),
            )

            batches = max(events // count, 1)
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(batches):
                futures = []
                for n in range(count):
                    future = waiting[n] = loop.create_future()
                    futures.append(future)
                    access(n, tenant.id, hub)
                await asyncio.wait_for(asyncio.gather(*futures), 30)
                await idle(automations)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            sent = batches * count
            report(
                "access_events_per_s",
                trigger=trigger,
                automations=count,
                events=sent,
                value=round(sent / wall),
                value_cpu=round(sent / cpu),
                unit="events/s",
            )

            unmatched = events
            wall, cpu = time.perf_counter(), time.process_time()
            for n in range(unmatched):
                access(count + n % 1000, tenant.id, hub)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            report(
                "unmatched_events_per_s",
                trigger=trigger,
                automations=count,
                events=unmatched,
                value=round(unmatched / wall),
                value_cpu=round(unmatched / cpu),
                unit="events/s",
            )
        finally:
            await hub.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--automations", type=int, default=1000, help="automations loaded (default 1000)")
    parser.add_argument("--samples", type=int, default=2000, help="events timed one by one (default 2000)")
    parser.add_argument("--events", type=int, default=20000, help="events for the throughput figures")
    parser.add_argument("--trigger", choices=("access", "event"), default="access",
                        help="trigger type of the automations (default access; event: the same filter as an "
                        "event trigger)")  # fmt: skip
    args = parser.parse_args()
    asyncio.run(bench(args.automations, args.samples, args.events, args.trigger))
    return 0


if __name__ == "__main__":
    sys.exit(main())
