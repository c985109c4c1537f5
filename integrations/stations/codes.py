"""Access codes and the guard against guessing them.

A code is 6 characters drawn with ``secrets.choice`` from an alphabet without look-alikes (no 0/O, 1/I/L):
31^6 = 887 million codes. Uniqueness among live sessions is the database's job (the unique ``live_code``
column); the store retries with a fresh code when an insert collides, so two hubs on one PostgreSQL agree too.

``CodeGuard`` counts wrong codes per station and per client address over a sliding window. An attempt counts as
a failure *before* the code is looked up and is forgiven when it turns out right, so a burst of parallel guesses
cannot slip past the limit while the first ones are still being checked.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable

from .const import CODE_ALPHABET, CODE_FAILURE_WINDOW, CODE_LENGTH, CODE_MAX_FAILURES

MAX_KEYS = 20_000  # stations and client addresses remembered; the least recently failed are forgotten first


def generate_code() -> str:
    """A fresh random code (not yet checked against live sessions)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(value: str) -> str:
    """What a visitor typed, as stored: upper case, spaces and dashes dropped (``abc-234`` is ``ABC234``)."""
    return "".join(value.split()).replace("-", "").upper()


def looks_like_code(value: str) -> bool:
    return len(value) == CODE_LENGTH and all(char in CODE_ALPHABET for char in value)


class CodeGuard:
    """At most ``max_failures`` wrong codes per key (``station:<id>``, ``client:<address>``) in ``window`` s."""

    def __init__(
        self,
        max_failures: int = CODE_MAX_FAILURES,
        window: float = CODE_FAILURE_WINDOW,
        *,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._locked_until: dict[str, float] = {}

    def retry_after(self, keys: Iterable[str]) -> float:
        """Seconds until all ``keys`` may try again (0: now). A key is locked for ``window`` after its limit."""
        now = self._clock()
        return max((self._wait(key, now) for key in keys), default=0.0)

    def attempt(self, keys: Iterable[str]) -> float | None:
        """Count an attempt as a failure of every key; None (nothing counted) when one of them is locked."""
        keys = list(keys)
        if self.retry_after(keys) > 0:
            return None
        now = self._clock()
        for key in keys:
            failures = self._failures.get(key)
            if failures is None:
                failures = self._failures[key] = deque(maxlen=self.max_failures)
                while len(self._failures) > self.max_keys:
                    self._failures.popitem(last=False)
            else:
                self._failures.move_to_end(key)
            failures.append(now)
        return now

    def forgive(self, keys: Iterable[str], stamp: float) -> None:
        """The attempt made at ``stamp`` was a right code: it does not count against the keys."""
        for key in keys:
            failures = self._failures.get(key)
            if failures is not None and stamp in failures:
                failures.remove(stamp)

    def __len__(self) -> int:
        """How many keys are remembered (bounded by ``max_keys``)."""
        return len(self._failures)

    def _wait(self, key: str, now: float) -> float:
        locked_until = self._locked_until.get(key)
        if locked_until is not None:
            if locked_until > now:
                return locked_until - now
            del self._locked_until[key]
            self._failures.pop(key, None)  # a lock served wipes the slate
            return 0.0
        failures = self._failures.get(key)
        if failures is None:
            return 0.0
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return 0.0
        if len(failures) < self.max_failures:
            return 0.0
        # The limit was reached: locked for a full window from the failure that reached it.
        self._locked_until[key] = failures[-1] + self.window
        return failures[-1] + self.window - now
