"""Kernel benchmarks: the event bus, the state machine, services and the memory of a state, on a real hub.core.Hub.

Each figure is the median of several runs (5 by default) and is printed as one JSON line, beside Home Assistant
core's figure measured on the same kind of machine (shared/ENVIRONMENT.md) and the target ratio from the design.
Run: ``make bench`` or ``.venv/bin/python benchmarks/core_bench.py [--runs N] [--check]``; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from hub.core import EVENT_STATE_CHANGED, Event, Hub, ServiceCall

# Home Assistant 2025.4.4 core on this machine, in-process, median of 5 (shared/ENVIRONMENT.md).
HA_BUS_1 = 541_000
HA_BUS_10 = 232_000
HA_STATE_WRITES = 80_000
HA_SERVICE_CALLS = 549_000
HA_BYTES_PER_STATE = 1_268
MAX_BYTES_PER_STATE = 700

EVENTS = 200_000  # per run
STATE_WRITES = 200_000
STATE_ENTITIES = 1_000
SERVICE_CALLS = 200_000
MEMORY_ENTITIES = 100_000


def new_hub() -> Hub:
    return Hub(tempfile.gettempdir())


def attributes(i: int) -> dict[str, Any]:
    """Three attributes, as a typical sensor has: a friendly name, a unit and a device class."""
    return {"friendly_name": f"Door sensor {i}", "unit_of_measurement": "s", "device_class": "duration"}


# ---------------------------------------------------------------------------------------------- the figures


class Timer:
    """Wall-clock and CPU time of a block; the CPU time is what the figure is when other processes share the cores."""

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu

    def rates(self, count: int) -> tuple[float, float]:
        return count / self.wall, count / max(self.cpu, 1e-9)


Rates = tuple[float, float]


def bus_events(listeners: int) -> Callable[[], Rates]:
    """Events per second fired with ``bus.fire`` to ``listeners`` plain callbacks of that event type."""

    def run() -> Rates:
        hub = new_hub()
        calls = 0

        def listener(event: Event[Any]) -> None:
            nonlocal calls
            calls += 1

        for _ in range(listeners):
            hub.bus.listen("benchmark_event", listener)
        fire = hub.bus.fire
        data = {"entity_id": "lock.front_door"}
        with Timer() as timer:
            for _ in range(EVENTS):
                fire("benchmark_event", data)
        assert calls == EVENTS * listeners, calls
        return timer.rates(EVENTS)

    return run


def state_writes() -> Rates:
    """State writes per second: 1,000 entities, every write a new state string, 3 attributes, 1 listener."""
    hub = new_hub()
    entity_ids = [f"sensor.door_{i}" for i in range(STATE_ENTITIES)]
    attrs = [attributes(i) for i in range(STATE_ENTITIES)]
    changes = 0

    def listener(event: Event[Any]) -> None:
        nonlocal changes
        changes += 1

    set_state = hub.states.set
    for i, entity_id in enumerate(entity_ids):  # the entities exist before timing: these are updates
        set_state(entity_id, "-1", attrs[i])
    hub.bus.listen(EVENT_STATE_CHANGED, listener)
    values = [str(i) for i in range(STATE_WRITES // STATE_ENTITIES)]
    with Timer() as timer:
        for value in values:
            for i in range(STATE_ENTITIES):
                set_state(entity_ids[i], value, attrs[i])
    assert changes == len(values) * STATE_ENTITIES, changes
    return timer.rates(changes)


def service_calls() -> Rates:
    """Blocking calls per second of ``await hub.services.call(domain, service)``: sync handler, no schema."""

    async def main() -> Rates:
        hub = new_hub()
        handled = 0

        def handler(call: ServiceCall) -> None:
            nonlocal handled
            handled += 1

        hub.services.register("lock", "unlock", handler)
        call = hub.services.call
        with Timer() as timer:
            for _ in range(SERVICE_CALLS):
                await call("lock", "unlock")
        assert handled == SERVICE_CALLS, handled
        return timer.rates(SERVICE_CALLS)

    return asyncio.run(main())


def bytes_per_state() -> float:
    """Memory held per entity state (tracemalloc) for 100,000 entities with 3 attributes.

    Counts everything the hub keeps for a state: the State, its attributes, the entity id and the strings it
    holds, and the hub's indexes. The caller's attribute dicts are dropped, as an integration's would be.
    """
    hub = new_hub()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    set_state = hub.states.set
    for i in range(MEMORY_ENTITIES):
        set_state(f"sensor.door_{i}", "closed", attributes(i))
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(hub.states) == MEMORY_ENTITIES
    return (after - before) / MEMORY_ENTITIES


# ------------------------------------------------------------------------------------------------- running


def median(measure: Callable[[], float], runs: int) -> float:
    measure()  # warm-up, not counted
    return statistics.median(measure() for _ in range(runs))


def median_rates(measure: Callable[[], Rates], runs: int) -> Rates:
    measure()  # warm-up, not counted
    results = [measure() for _ in range(runs)]
    return statistics.median(r[0] for r in results), statistics.median(r[1] for r in results)


def report(figure: str, value: float, unit: str, ha_core: float, **extra: Any) -> dict[str, Any]:
    line = {"figure": figure, "value": round(value, 1 if value < 10_000 else None), "unit": unit, "ha_core": ha_core}
    line.update(extra)
    print(json.dumps(line), flush=True)
    return line


def throughput(figure: str, rates: Rates, unit: str, ha_core: float, target_ratio: float) -> bool:
    """``value`` is by the wall clock; ``value_cpu`` by this process's CPU time (equal on an idle machine)."""
    value, value_cpu = rates
    ratio = value / ha_core
    report(
        figure,
        value,
        unit,
        ha_core,
        target_ratio=target_ratio,
        ratio=round(ratio, 2),
        ok=ratio >= target_ratio,
        value_cpu=round(value_cpu),
    )
    return ratio >= target_ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure; the median is printed (default 5)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a figure misses its target")
    args = parser.parse_args()
    runs = args.runs

    ok = [
        throughput("bus_events_per_s_1_listener", median_rates(bus_events(1), runs), "events/s", HA_BUS_1, 2.0),
        throughput("bus_events_per_s_10_listeners", median_rates(bus_events(10), runs), "events/s", HA_BUS_10, 2.0),
        throughput("state_writes_per_s", median_rates(state_writes, runs), "writes/s", HA_STATE_WRITES, 4.0),
        throughput("service_calls_per_s", median_rates(service_calls, runs), "calls/s", HA_SERVICE_CALLS, 2.0),
    ]
    per_state = median(bytes_per_state, runs)
    fits = per_state < MAX_BYTES_PER_STATE
    report(
        "bytes_per_state",
        per_state,
        "bytes",
        HA_BYTES_PER_STATE,
        target_max=MAX_BYTES_PER_STATE,
        ratio=round(HA_BYTES_PER_STATE / per_state, 2),
        ok=fits,
    )
    ok.append(fits)
    return 1 if args.check and not all(ok) else 0


if __name__ == "__main__":
    sys.exit(main())
