"""Failed sign-ins counted per username and per address over a sliding window, in memory and bounded.

An attempt is counted as a failure *before* the password is checked and forgiven on success, so a burst of
parallel guesses cannot slip through while the first ones are still being verified.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

from hub.auth.errors import RateLimited

MAX_KEYS = 10_000  # per kind; the least recently failed keys are forgotten first


class _Window:
    """The last ``limit`` failure times of each key, least recently touched key first."""

    def __init__(self, limit: int, window: float, max_keys: int) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, key: str, now: float) -> float:
        """Seconds until ``key`` may try again (0: it may now)."""
        failures = self._failures.get(key)
        if failures is None:
            return 0.0
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return 0.0
        return failures[0] + self.window - now if len(failures) >= self.limit else 0.0

    def add(self, key: str, now: float) -> None:
        failures = self._failures.get(key)
        if failures is None:
            failures = self._failures[key] = deque(maxlen=self.limit)
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)
        else:
            self._failures.move_to_end(key)
        failures.append(now)

    def forgive(self, key: str, stamp: float) -> None:
        failures = self._failures.get(key)
        if failures is not None and stamp in failures:
            failures.remove(stamp)

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)

    def __len__(self) -> int:
        return len(self._failures)


class LoginRateLimiter:
    """At most ``max_failures`` failed sign-ins per username and per address within ``window`` seconds."""

    def __init__(
        self,
        max_failures: int = 5,
        window: float = 300.0,
        *,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.usernames = _Window(max_failures, window, max_keys)
        self.addresses = _Window(max_failures, window, max_keys)
        self._clock = clock

    def attempt(self, username: str, address: str | None) -> float:
        """Count an attempt as a failure until ``succeeded``; RateLimited if either counter is full already."""
        now = self._clock()
        wait = max(self.usernames.retry_after(username, now), self._address_wait(address, now))
        if wait > 0:
            raise RateLimited(wait)
        self.usernames.add(username, now)
        if address:
            self.addresses.add(address, now)
        return now

    def succeeded(self, username: str, address: str | None, stamp: float) -> None:
        """A success clears the username's failures and forgives this one attempt to the address."""
        self.usernames.clear(username)
        if address:
            self.addresses.forgive(address, stamp)

    def _address_wait(self, address: str | None, now: float) -> float:
        return self.addresses.retry_after(address, now) if address else 0.0
