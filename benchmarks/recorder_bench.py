"""Recorder benchmark: can the recorder keep up with 20,000 state changes a second, and lose none of them?

A real Hub and Recorder on a fresh SQLite file in a temporary directory (or ``--url``): the loop fires state
changes paced at ``--rate`` (1,000 entities, 3 attributes each) for ``--seconds``, then stops the recorder (its
final flush) and counts the rows. Prints one JSON line per figure.
Run: ``.venv/bin/python benchmarks/recorder_bench.py [--seconds 30] [--rate 20000] [--url URL]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from hub.core import Hub
from hub.store.database import Database, default_url
from hub.store.recorder import Recorder

ENTITIES = 1_000
TICK = 0.005  # seconds between bursts: 100 state changes per burst at 20,000/s


def attributes(i: int, n: int) -> dict[str, Any]:
    """Three attributes, one of which changes on every write (so every write is a real change)."""
    return {"friendly_name": f"Door sensor {i}", "unit_of_measurement": "s", "open_seconds": n}


async def fire_paced(hub: Hub, recorder: Recorder, rate: float, seconds: float) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    entity_ids = [f"sensor.door_{i}" for i in range(ENTITIES)]
    states = hub.states
    fired = 0
    lags: list[float] = []
    max_queue = 0
    start = loop.time()
    next_tick = start
    while (now := loop.time()) - start < seconds:
        lags.append(max(0.0, now - next_tick))
        due = int((now - start) * rate)
        while fired < due:
            i = fired % ENTITIES
            states.set(entity_ids[i], "open" if fired & 1 else "closed", attributes(i, fired))
            fired += 1
        max_queue = max(max_queue, recorder.queue_size)
        next_tick += TICK
        await asyncio.sleep(max(0.0, next_tick - loop.time()))
    elapsed = loop.time() - start
    lags.sort()
    return {
        "fired": fired,
        "elapsed": elapsed,
        "written_while_firing": recorder.written.states,
        "max_queue": max_queue,
        "lag_p99_ms": lags[int(len(lags) * 0.99)] * 1000,
        "lag_max_ms": lags[-1] * 1000,
        "lag_median_ms": statistics.median(lags) * 1000,
    }


async def run(url: str | None, rate: float, seconds: float) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="gatehouse-bench-") as directory:
        database = Database(url or default_url(Path(directory)))
        await database.start()
        hub = Hub(directory)
        recorder = Recorder(hub, database)
        await recorder.start()
        cpu_start = time.process_time()
        result = await fire_paced(hub, recorder, rate, seconds)
        stop_start = time.perf_counter()
        await recorder.stop()
        stop_seconds = time.perf_counter() - stop_start
        cpu = time.process_time() - cpu_start
        async with database.engine.connect() as connection:
            rows = int((await connection.execute(text("SELECT count(*) FROM states"))).scalar_one())
        await hub.stop()
        await database.close()
    dialect = database.dialect
    fired = result["fired"]
    common = {"fired": fired, "rows": rows, "lost": fired - rows, "seconds": round(result["elapsed"], 2)}
    return [
        {
            "figure": f"recorder_{dialect}_rows_per_s",
            # Every row fired, over the time from the first state change to the final commit.
            "value": round(rows / (result["elapsed"] + stop_seconds)),
            "written_while_firing_per_s": round(result["written_while_firing"] / result["elapsed"]),
            "offered_per_s": round(fired / result["elapsed"]),
            "target": rate,
            **common,
        },
        {"figure": f"recorder_{dialect}_max_queue", "value": result["max_queue"], "unit": "rows"},
        {"figure": f"recorder_{dialect}_stop_flush_s", "value": round(stop_seconds, 3)},
        {
            "figure": f"recorder_{dialect}_loop_lag_ms",
            "value": round(result["lag_p99_ms"], 2),
            "stat": "p99",
            "median": round(result["lag_median_ms"], 2),
            "max": round(result["lag_max_ms"], 2),
        },
        {
            "figure": f"recorder_{dialect}_cpu_us_per_row",
            "value": round(cpu / max(fired, 1) * 1e6, 2),
            "note": "whole process: state writes, bus, recorder, driver",
        },
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=20_000.0, help="state changes per second")
    parser.add_argument("--url", help="database URL (default: SQLite in a temporary directory)")
    args = parser.parse_args()
    for figure in asyncio.run(run(args.url, args.rate, args.seconds)):
        print(json.dumps(figure))


if __name__ == "__main__":
    main()
