"""Access codes: random over the unambiguous alphabet, unique among live sessions (a collision draws again, a
finished session's code is free again), and the guard that locks a station or client after 5 wrong codes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from integrations.stations.codes import CodeGuard, generate_code, looks_like_code, normalise_code
from integrations.stations.const import CODE_ALPHABET
from integrations.stations.errors import CodeRateLimited, InvalidCode

from .station_support import Clock, Stations, stations

__all__ = ["stations"]  # fixtures


def test_codes_are_six_unambiguous_characters_drawn_evenly() -> None:
    codes = [generate_code() for _ in range(3000)]
    assert all(len(code) == 6 and set(code) <= set(CODE_ALPHABET) for code in codes)
    assert not set("01ILO") & set(CODE_ALPHABET)
    counts = Counter("".join(codes))
    assert set(counts) == set(CODE_ALPHABET)  # every character is used...
    expected = 6 * 3000 / len(CODE_ALPHABET)
    assert all(0.7 * expected < count < 1.3 * expected for count in counts.values())  # ...about evenly
    assert len(set(codes)) > 2990


def test_typed_codes_are_normalised() -> None:
    assert normalise_code(" abc-234 ") == "ABC234"
    assert normalise_code("ab c2 34") == "ABC234"
    assert looks_like_code("ABC234") and not looks_like_code("ABC10O")


def sequence(*codes: str) -> Iterator[str]:
    yield from codes
    while True:
        yield generate_code()


async def test_a_code_held_by_a_live_session_is_drawn_again(stations: Stations) -> None:
    manager, tenant = stations.manager, stations.tenant
    other = await stations.hub.tenants.create("museum", "Museum")
    draws = sequence("AAAAAA", "AAAAAA", "BBBBBB", "AAAAAA")
    manager.code_factory = lambda: next(draws)

    first = await manager.create_session(tenant.id, 10, actor="desk")
    second = await manager.create_session(other.id, 10, actor="them")  # another tenant: still unique hub-wide
    assert (first.code, second.code) == ("AAAAAA", "BBBBBB")

    await manager.terminate(first.id, actor="desk")
    third = await manager.create_session(tenant.id, 10, actor="desk")
    assert third.code == "AAAAAA"  # a finished session's code is free again
    view = await manager.session_view(first.id)
    assert view is not None and view.code == "AAAAAA"  # and the record keeps it


async def test_wrong_codes_lock_the_station_for_five_minutes(stations: Stations) -> None:
    manager, clock = stations.manager, Clock()
    manager.guard = CodeGuard(clock=clock)
    station, _ = await manager.create_station(stations.tenant.id, "PC-01", actor="desk")
    good = await manager.create_session(stations.tenant.id, 30, actor="desk")

    for attempt in range(5):
        with pytest.raises(InvalidCode):
            await manager.validate_code(f"WRONG{attempt + 2}", station_id=station.id, client=f"10.0.0.{attempt}")
        clock.advance(10)
    with pytest.raises(CodeRateLimited) as caught:
        await manager.validate_code(good.code, station_id=station.id, client="192.0.2.15")  # even a right one
    assert 250 < caught.value.retry_after <= 300
    assert "too many wrong codes" in str(caught.value)

    clock.advance(caught.value.retry_after + 1)
    assert (await manager.validate_code(good.code, station_id=station.id, client="192.0.2.15")).status == "active"


async def test_one_client_guessing_across_stations_is_locked_too(stations: Stations) -> None:
    manager, clock = stations.manager, Clock()
    manager.guard = CodeGuard(clock=clock)
    created = [await manager.create_station(stations.tenant.id, f"PC-{n}", actor="desk") for n in range(6)]
    for station, _ in created[:5]:
        with pytest.raises(InvalidCode):
            await manager.validate_code("ZZZZZZ", station_id=station.id, client="192.0.2.7")
    with pytest.raises(CodeRateLimited):
        await manager.validate_code("ZZZZZZ", station_id=created[5][0].id, client="192.0.2.7")
    with pytest.raises(InvalidCode):  # the sixth station itself is not locked for other clients
        await manager.validate_code("ZZZZZZ", station_id=created[5][0].id, client="192.0.2.8")


def test_the_guard_forgives_right_codes_and_forgets_old_failures() -> None:
    clock = Clock()
    guard = CodeGuard(max_failures=5, window=300, clock=clock)
    keys = ("station:a", "client:x")
    for _ in range(4):
        assert guard.attempt(keys) is not None
    stamp = guard.attempt(keys)
    assert stamp is not None
    guard.forgive(keys, stamp)  # the fifth was right
    assert guard.retry_after(keys) == 0
    assert guard.attempt(keys) is not None  # now five failures
    assert guard.retry_after(keys) == 300
    assert guard.attempt(keys) is None  # locked: nothing more is counted
    clock.advance(301)
    assert guard.retry_after(keys) == 0
    assert guard.retry_after(["station:b"]) == 0

    clock.advance(1000)
    for _ in range(4):
        guard.attempt(["client:y"])
        clock.advance(100)  # spread over more than the window: never 5 within 5 minutes
    assert guard.retry_after(["client:y"]) == 0


def test_the_guard_remembers_a_bounded_number_of_keys() -> None:
    guard = CodeGuard(max_keys=100, clock=Clock())
    for n in range(1000):
        guard.attempt([f"client:{n}"])
    assert len(guard) == 100
