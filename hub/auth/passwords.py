"""Password hashing with argon2id, off the event loop and in a small pool of its own.

Argon2 is slow and memory-hard on purpose (~50 ms and 64 MiB per hash with the library's defaults): on the loop
it would stall every device, and in the shared executor a burst of sign-ins could take every worker and
gigabytes of memory. A dedicated pool of a few threads bounds both.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_T = TypeVar("_T")

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024  # longer is no safer, only a cheaper way to make us hash megabytes


class Passwords:
    """Hash and verify passwords in a bounded thread pool; ``close()`` shuts the pool down."""

    def __init__(self, hasher: PasswordHasher | None = None, workers: int | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        self._executor = ThreadPoolExecutor(
            max_workers=workers or min(4, os.cpu_count() or 1), thread_name_prefix="argon2"
        )
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await self._run(self.hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> tuple[bool, bool]:
        """(matches, needs_rehash): the second is true when the hash was made with other parameters."""
        return await self._run(self._verify, password_hash, password)

    async def verify_nobody(self, password: str) -> None:
        """Spend the time a real verification takes, so an unknown username is not told apart by timing."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash("not the password of anybody")
        await self.verify(self._dummy_hash, password)

    def _verify(self, password_hash: str, password: str) -> tuple[bool, bool]:
        try:
            self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False, False
        return True, self.hasher.check_needs_rehash(password_hash)

    async def _run(self, func: Callable[..., _T], *args: str) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
