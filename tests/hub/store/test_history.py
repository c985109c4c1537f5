"""History: recorded states and events read back as the core's own State and Event objects."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from hub.core import Context, Event, State
from hub.store.database import Database
from hub.store.history import event_records, state_history
from hub.store.recorder import Recorder


async def _set(
    recorder: Recorder,
    entity_id: str,
    state: str,
    attributes: dict[str, Any] | None = None,
    *,
    context: Context | None = None,
    tenant_id: str | None = None,
) -> State:
    """Write a state and step the clock, so every recorded state has its own timestamp."""
    written = recorder.hub.states.set(entity_id, state, attributes, context=context, tenant_id=tenant_id)
    await asyncio.sleep(0.002)
    return written


async def test_history_of_one_entity_in_a_time_range(recorder: Recorder, database: Database) -> None:
    states = [await _set(recorder, "lock.front_door", value) for value in ("locked", "unlocked", "locked", "jammed")]
    await _set(recorder, "lock.back_door", "locked")
    await recorder.flush()

    history = await state_history(database, "lock.front_door", states[1].last_updated, states[3].last_updated)
    assert [state.state for state in history] == ["unlocked", "locked"]  # start included, end excluded
    everything = await state_history(database, "lock.front_door", 0)
    assert [state.state for state in everything] == ["locked", "unlocked", "locked", "jammed"]
    assert await state_history(database, "lock.front_door", time.time() + 60) == []


async def test_states_come_back_as_they_were_written(recorder: Recorder, database: Database) -> None:
    context = Context(user_id="u1")
    written = await _set(
        recorder, "camera.gate", "recording", {"fps": 25, "codec": "h264"}, context=context, tenant_id="t1"
    )
    await recorder.flush()

    [read] = await state_history(database, "camera.gate", 0)
    assert isinstance(read, State)
    assert (read.entity_id, read.state, dict(read.attributes)) == (
        "camera.gate",
        "recording",
        {"fps": 25, "codec": "h264"},
    )
    assert (read.last_changed, read.last_updated, read.tenant_id) == (
        written.last_changed,
        written.last_updated,
        "t1",
    )
    assert read.context is not None and read.context.id == context.id


async def test_history_of_several_entities_is_ordered_by_time(recorder: Recorder, database: Database) -> None:
    for value in range(3):
        await _set(recorder, "sensor.a", f"a{value}")
        await _set(recorder, "sensor.b", f"b{value}")
    await _set(recorder, "sensor.c", "c0")
    await recorder.flush()

    history = await state_history(database, ["sensor.a", "sensor.b"], 0)
    assert [state.state for state in history] == ["a0", "b0", "a1", "b1", "a2", "b2"]
    assert [state.state for state in await state_history(database, ["sensor.b", "sensor.a"], 0, limit=3)] == [
        "a0",
        "b0",
        "a1",
    ]


async def test_a_tenant_sees_only_the_states_it_owned(recorder: Recorder, database: Database) -> None:
    await _set(recorder, "lock.shared", "locked", tenant_id="acme")
    await _set(recorder, "lock.shared", "unlocked", tenant_id="globex")  # ownership moved
    await _set(recorder, "lock.acme_only", "locked", tenant_id="acme")
    await recorder.flush()

    acme = await state_history(database, ["lock.shared", "lock.acme_only"], 0, tenant_id="acme")
    assert [(state.entity_id, state.state) for state in acme] == [
        ("lock.shared", "locked"),
        ("lock.acme_only", "locked"),
    ]
    globex = await state_history(database, ["lock.shared", "lock.acme_only"], 0, tenant_id="globex")
    assert [(state.entity_id, state.state) for state in globex] == [("lock.shared", "unlocked")]


async def events(database: Database, **filters: Any) -> list[Event[Any]]:
    """The recorded events matching ``filters``, oldest first."""
    return [record.event for record in reversed(await event_records(database, **filters))]


async def test_events_filtered_by_type_time_and_tenant(recorder: Recorder, database: Database) -> None:
    bus = recorder.hub.bus
    before = time.time()
    bus.fire("door_opened", {"door": "front"}, context=Context(user_id="u1"), tenant_id="acme")
    await asyncio.sleep(0.002)
    middle = time.time()
    bus.fire("badge_read", {"badge": 4711}, tenant_id="acme")
    bus.fire("door_opened", {"door": "lobby"}, tenant_id="globex")
    recorder.hub.states.set("sensor.ignored", "1")  # states are not events
    await recorder.flush()

    everything = await events(database)
    assert [(event.event_type, dict(event.data)) for event in everything] == [
        ("door_opened", {"door": "front"}),
        ("badge_read", {"badge": 4711}),
        ("door_opened", {"door": "lobby"}),
    ]
    assert everything[0].time_fired >= before
    assert everything[0].context is not None and everything[0].context.user_id == "u1"
    assert everything[1].context is None
    assert [e.data["door"] for e in await events(database, event_type="door_opened")] == ["front", "lobby"]
    assert [e.event_type for e in await events(database, start=middle)] == ["badge_read", "door_opened"]
    assert [e.event_type for e in await events(database, end=middle)] == ["door_opened"]
    assert [e.event_type for e in await events(database, tenant_id="acme")] == ["door_opened", "badge_read"]
    assert [e.tenant_id for e in await events(database, tenant_id="globex")] == ["globex"]
    assert len(await events(database, limit=2)) == 2
