"""The garbage collector, set for a long-running hub that must answer devices within milliseconds.

CPython's defaults (a young collection every 700 allocations) promote anything that lives a few milliseconds,
such as a ``sendlog`` batch waiting for its commit, into the oldest generation; under load that generation
then fills a quarter faster than it empties, and each full collection walks every object of the hub: 2,000
connected TM20 terminals measured 250 to 900 ms pauses, one every second or two, which was the whole p99 of the
ack latency. A larger young generation lets those objects die young, and what start-up built (modules, registries,
entities) is frozen out of every later full collection.
"""

from __future__ import annotations

import gc

#: Young-generation size and the two promotion counts. 50,000 allocations are about 30 ms of the hub at full load.
THRESHOLDS = (50_000, 20, 10)


def tune_garbage_collector() -> None:
    """Apply ``THRESHOLDS`` to this process (the hub owns it: ``gatehouse run`` and the benchmarks call this)."""
    gc.set_threshold(*THRESHOLDS)


def freeze_startup_objects() -> None:
    """Move what exists now into the permanent generation, after one collection so that no garbage is kept.

    Call once, after start-up: whatever was built so far lives as long as the hub.
    """
    gc.collect()
    gc.freeze()
