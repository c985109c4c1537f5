"""Retry delays that grow after each failure: shared by config-entry set-up and device health.

Device health uses ``Backoff((10, 20, 40, 80, 160), cap=300, max_failures=6)``: after the first failure it waits
10, 20, 40, 80, 160 s between the five retries, and when the fifth retry fails ``failed()`` returns None, so
automatic retries stop until ``reset()`` (a manual reconnect or a configuration change). Config entries use
``Backoff((5, 10, 20, 40, 80), cap=80)``: no limit, every 80 s after the table.
"""

from __future__ import annotations

from collections.abc import Sequence


class Backoff:
    """Counts consecutive failures and says how long to wait before the next try."""

    __slots__ = ("cap", "delays", "failures", "max_failures")

    def __init__(self, delays: Sequence[float], *, cap: float | None = None, max_failures: int | None = None) -> None:
        if not delays:
            raise ValueError("delays must not be empty")
        self.delays = tuple(delays)
        self.cap = cap if cap is not None else self.delays[-1]
        self.max_failures = max_failures
        self.failures = 0

    @property
    def exhausted(self) -> bool:
        """True once ``max_failures`` consecutive failures happened: no more automatic retries."""
        return self.max_failures is not None and self.failures >= self.max_failures

    def failed(self) -> float | None:
        """Record a failure; returns the delay before the next try, or None when retries stop."""
        self.failures += 1
        if self.exhausted:
            return None
        return self.delay_for(self.failures)

    def delay_for(self, failures: int) -> float:
        """The delay after ``failures`` consecutive failures: the table, then doubling, never above the cap."""
        if failures <= len(self.delays):
            return min(self.delays[failures - 1], self.cap)
        return min(self.delays[-1] * 2 ** (failures - len(self.delays)), self.cap)

    def reset(self) -> None:
        self.failures = 0
