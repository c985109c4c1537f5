"""Failed sign-ins are limited per username and per address over a sliding window, before any password check."""

from __future__ import annotations

import pytest

from hub.auth import InvalidCredentials, RateLimited, Role
from hub.auth.rate_limit import LoginRateLimiter
from hub.core import Hub
from hub.tenants import Tenant
from hub.testing import HubFactory

from .conftest import PASSWORD


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _fail(limiter: LoginRateLimiter, username: str, address: str | None, times: int = 1) -> None:
    for _ in range(times):
        limiter.attempt(username, address)  # counted as a failure until it succeeds


def test_the_sixth_attempt_in_five_minutes_waits_until_the_oldest_failure_leaves_the_window() -> None:
    clock = Clock()
    limiter = LoginRateLimiter(5, 300.0, clock=clock)
    for _ in range(5):
        _fail(limiter, "alice", "192.0.2.1")
        clock.now += 10

    with pytest.raises(RateLimited) as limited:
        limiter.attempt("alice", "192.0.2.1")
    assert limited.value.retry_after == pytest.approx(300 - 50)

    clock.now += 250.1  # the first failure is now older than five minutes: one more try is allowed
    limiter.attempt("alice", "192.0.2.1")
    with pytest.raises(RateLimited) as again:
        limiter.attempt("alice", "192.0.2.1")
    assert again.value.retry_after == pytest.approx(10 - 0.1)


def test_usernames_are_limited_whatever_the_address() -> None:
    limiter = LoginRateLimiter(3, 300.0, clock=Clock())
    for number in range(3):
        _fail(limiter, "alice", f"192.0.2.{number}")

    with pytest.raises(RateLimited):
        limiter.attempt("alice", "198.51.100.9")
    limiter.attempt("bob", "198.51.100.9")


def test_addresses_are_limited_whatever_the_username() -> None:
    limiter = LoginRateLimiter(3, 300.0, clock=Clock())
    for name in ("alice", "bob", "carol"):
        _fail(limiter, name, "192.0.2.1")

    with pytest.raises(RateLimited):
        limiter.attempt("dave", "192.0.2.1")
    limiter.attempt("dave", "192.0.2.2")


def test_a_success_clears_the_usernames_failures() -> None:
    limiter = LoginRateLimiter(3, 300.0, clock=Clock())
    _fail(limiter, "alice", "192.0.2.1", times=2)

    stamp = limiter.attempt("alice", "192.0.2.1")
    limiter.succeeded("alice", "192.0.2.1", stamp)

    _fail(limiter, "alice", "192.0.2.2", times=3)  # three fresh tries for the username
    with pytest.raises(RateLimited):
        limiter.attempt("alice", "192.0.2.3")


def test_memory_stays_bounded_under_many_usernames() -> None:
    limiter = LoginRateLimiter(5, 300.0, max_keys=100, clock=Clock())
    for number in range(1000):
        _fail(limiter, f"user{number}", f"10.0.{number // 256}.{number % 256}")

    assert len(limiter.usernames) <= 100 and len(limiter.addresses) <= 100


async def test_after_five_failures_even_the_right_password_is_not_checked(
    database_url: str, hub_factory: HubFactory
) -> None:
    hub = await hub_factory(database_url=database_url)
    tenant = await hub.tenants.create("acme")
    await hub.auth.create_user("alice", PASSWORD, tenant_id=tenant.id, role=Role.VIEWER)
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            await hub.auth.login("alice", "guess-guess", address="192.0.2.1")

    with pytest.raises(RateLimited) as limited:
        await hub.auth.login("alice", PASSWORD, address="192.0.2.1")
    assert 0 < limited.value.retry_after <= 300
    with pytest.raises(RateLimited):  # from another address too: the username is what is attacked
        await hub.auth.login("Alice", PASSWORD, address="198.51.100.7")
    with pytest.raises(RateLimited):  # and that address may not try other usernames
        await hub.auth.login("bob", PASSWORD, address="192.0.2.1")


async def test_the_limit_follows_the_configuration(hub: Hub, tenant: Tenant, hub_factory: HubFactory) -> None:
    strict = await hub_factory(config={"auth": {"login_attempts": 2}})
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            await strict.auth.login("nobody", "guess-guess", address="192.0.2.1")
    with pytest.raises(RateLimited):
        await strict.auth.login("nobody", "guess-guess", address="192.0.2.1")


async def test_parallel_guesses_cannot_slip_past_the_limit(hub: Hub, tenant: Tenant) -> None:
    import asyncio

    await hub.auth.create_user("alice", PASSWORD, tenant_id=tenant.id)

    results = await asyncio.gather(
        *(hub.auth.login("alice", f"guess-{n:04d}", address="192.0.2.1") for n in range(20)), return_exceptions=True
    )

    assert sum(isinstance(result, InvalidCredentials) for result in results) == 5
    assert sum(isinstance(result, RateLimited) for result in results) == 15
