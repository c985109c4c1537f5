"""The kernel's contract: events, states and services as listeners and callers see them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol

from hub.core import (
    EVENT_CALL_SERVICE,
    EVENT_STATE_CHANGED,
    MATCH_ALL,
    Context,
    Event,
    Hub,
    ServiceCall,
    valid_entity_id,
)
from hub.exceptions import InvalidEntityId, ServiceNotFound, ServiceValidationError, Unauthorized


@pytest.fixture
def core(tmp_path: Path) -> Hub:
    return Hub(tmp_path)


# ------------------------------------------------------------------------------------------------------ bus


async def test_listener_of_a_type_receives_only_that_type(core: Hub) -> None:
    received: list[Event[Any]] = []
    core.bus.listen("door_opened", received.append)

    core.bus.fire("door_opened", {"door": 1}, tenant_id="t1")
    core.bus.fire("door_closed", {"door": 1})

    assert [(event.event_type, dict(event.data), event.tenant_id) for event in received] == [
        ("door_opened", {"door": 1}, "t1")
    ]


async def test_match_all_listener_receives_every_event(core: Hub) -> None:
    received: list[str] = []
    core.bus.listen(MATCH_ALL, lambda event: received.append(event.event_type))

    core.bus.fire("a")
    core.bus.fire("b")

    assert received == ["a", "b"]


async def test_sync_listeners_run_inline_in_subscription_order(core: Hub) -> None:
    order: list[int] = []
    core.bus.listen("x", lambda event: order.append(1))
    core.bus.listen("x", lambda event: order.append(2))

    core.bus.fire("x")

    assert order == [1, 2]  # already done when fire() returns


async def test_coroutine_listeners_run_as_tasks(core: Hub) -> None:
    received: list[str] = []

    async def listener(event: Event[Any]) -> None:
        await asyncio.sleep(0)
        received.append(event.event_type)

    core.bus.listen("x", listener)
    core.bus.fire("x")
    assert received == []  # scheduled, not run inline

    await core.block_till_done()
    assert received == ["x"]


async def test_unsubscribe_stops_delivery_even_during_dispatch(core: Hub) -> None:
    received: list[str] = []

    def first(event: Event[Any]) -> None:
        received.append("first")
        unsubscribe_second()

    core.bus.listen("x", first)
    unsubscribe_second = core.bus.listen("x", lambda event: received.append("second"))

    core.bus.fire("x")  # second was subscribed when dispatch began, so it still runs this time
    core.bus.fire("x")

    assert received == ["first", "second", "first"]


async def test_a_failing_listener_does_not_stop_the_others(core: Hub, caplog: pytest.LogCaptureFixture) -> None:
    received: list[str] = []

    def broken(event: Event[Any]) -> None:
        raise RuntimeError("boom")

    core.bus.listen("x", broken)
    core.bus.listen("x", lambda event: received.append("ok"))

    core.bus.fire("x")

    assert received == ["ok"]
    assert "boom" in caplog.text


async def test_event_filter_is_applied_before_calling(core: Hub) -> None:
    received: list[int] = []
    core.bus.listen("access", lambda event: received.append(event.data["door"]), lambda event: event.data["door"] == 2)

    core.bus.fire("access", {"door": 1})
    core.bus.fire("access", {"door": 2})

    assert received == [2]


async def test_listen_once_fires_a_single_time(core: Hub) -> None:
    received: list[str] = []
    core.bus.listen_once("x", lambda event: received.append("x"))

    core.bus.fire("x")
    core.bus.fire("x")

    assert received == ["x"]
    assert core.bus.listener_counts() == {}


async def test_context_id_is_made_on_first_read_and_stays(core: Hub) -> None:
    context = Context(user_id="u1", tenant_id="t1")
    first = context.id

    assert len(first) == 28
    assert context.id == first
    assert context.as_dict() == {"id": first, "user_id": "u1", "tenant_id": "t1", "parent_id": None}


# --------------------------------------------------------------------------------------------------- states


@pytest.mark.parametrize(
    ("entity_id", "valid"),
    [
        ("lock.front_door", True),
        ("sensor.tm20_zx0006827500_health", True),
        ("sensor.a1", True),
        ("Lock.front", False),
        ("lock.front__door", False),
        ("lock._front", False),
        ("lock.front_", False),
        ("lock", False),
        ("lock.front.door", False),
        ("lock.front door", False),
    ],
)
def test_entity_ids_follow_domain_dot_object_id(entity_id: str, valid: bool) -> None:
    assert valid_entity_id(entity_id) is valid


async def test_setting_an_invalid_entity_id_is_refused(core: Hub) -> None:
    with pytest.raises(InvalidEntityId, match="Front"):
        core.states.set("lock.Front", "locked")
    assert len(core.states) == 0


async def test_state_changed_carries_old_and_new_state(core: Hub) -> None:
    changes: list[tuple[str | None, str | None]] = []
    core.bus.listen(
        EVENT_STATE_CHANGED,
        lambda event: changes.append(
            (
                event.data["old_state"].state if event.data["old_state"] else None,
                event.data["new_state"].state if event.data["new_state"] else None,
            )
        ),
    )

    core.states.set("lock.gate", "locked")
    core.states.set("lock.gate", "unlocked")
    core.states.remove("lock.gate")

    assert changes == [(None, "locked"), ("locked", "unlocked"), ("unlocked", None)]


async def test_no_event_when_nothing_changed(core: Hub) -> None:
    events: list[Event[Any]] = []
    core.bus.listen(EVENT_STATE_CHANGED, events.append)

    first = core.states.set("sensor.temp", "21", {"unit_of_measurement": "°C"})
    second = core.states.set("sensor.temp", "21", {"unit_of_measurement": "°C"})

    assert second is first
    assert len(events) == 1


async def test_attribute_change_updates_last_updated_but_not_last_changed(core: Hub) -> None:
    first = core.states.set("sensor.temp", "21", {"battery": 90})
    await asyncio.sleep(0.001)
    second = core.states.set("sensor.temp", "21", {"battery": 89})
    await asyncio.sleep(0.001)
    third = core.states.set("sensor.temp", "22", {"battery": 89})

    assert second.last_changed == first.last_changed
    assert second.last_updated > first.last_updated
    assert third.last_changed == third.last_updated > second.last_changed


async def test_force_update_fires_without_a_change(core: Hub) -> None:
    events: list[Event[Any]] = []
    core.bus.listen(EVENT_STATE_CHANGED, events.append)

    core.states.set("sensor.count", "1")
    core.states.set("sensor.count", "1", force_update=True)

    assert len(events) == 2


async def test_states_are_immutable(core: Hub) -> None:
    attributes = {"friendly_name": "Gate"}
    state = core.states.set("lock.gate", "locked", attributes)
    attributes["friendly_name"] = "changed by the caller later"

    assert state.attributes["friendly_name"] == "Gate"
    with pytest.raises(AttributeError):
        state.state = "unlocked"  # type: ignore[misc]
    with pytest.raises(TypeError):
        state.attributes["friendly_name"] = "x"  # type: ignore[index]


async def test_non_string_states_are_stored_as_strings(core: Hub) -> None:
    assert core.states.set("sensor.count", 3).state == "3"  # type: ignore[arg-type]


async def test_states_by_domain_and_by_tenant(core: Hub) -> None:
    core.states.set("lock.a", "locked", tenant_id="t1")
    core.states.set("lock.b", "locked", tenant_id="t2")
    core.states.set("sensor.c", "1", tenant_id="t1")

    assert sorted(state.entity_id for state in core.states.all()) == ["lock.a", "lock.b", "sensor.c"]
    assert sorted(state.entity_id for state in core.states.all(domain="lock")) == ["lock.a", "lock.b"]
    assert sorted(state.entity_id for state in core.states.all(tenant_id="t1")) == ["lock.a", "sensor.c"]
    assert [state.entity_id for state in core.states.all(domain="lock", tenant_id="t2")] == ["lock.b"]


async def test_an_entity_keeps_its_tenant_until_it_moves(core: Hub) -> None:
    core.states.set("lock.a", "locked", tenant_id="t1")
    core.states.set("lock.a", "unlocked")
    assert core.states.get("lock.a").tenant_id == "t1"  # type: ignore[union-attr]

    core.states.set("lock.a", "unlocked", tenant_id="t2")

    assert core.states.all(tenant_id="t1") == []
    assert [state.entity_id for state in core.states.all(tenant_id="t2")] == ["lock.a"]


async def test_removed_entities_leave_every_index(core: Hub) -> None:
    core.states.set("lock.a", "locked", tenant_id="t1")

    assert core.states.remove("lock.a") is True
    assert core.states.remove("lock.a") is False
    assert core.states.get("lock.a") is None
    assert core.states.all(domain="lock") == []
    assert core.states.all(tenant_id="t1") == []


# ------------------------------------------------------------------------------------------------- services


async def test_blocking_call_returns_the_handler_result(core: Hub) -> None:
    async def open_door(call: ServiceCall) -> dict[str, Any]:
        return {"opened": list(call.entity_ids), "seconds": call.data["seconds"]}

    core.services.register("lock", "open", open_door, vol.Schema({vol.Optional("seconds", default=5): int}))

    result = await core.services.call("lock", "open", target={"entity_id": "lock.gate"})

    assert result == {"opened": ["lock.gate"], "seconds": 5}


async def test_targets_can_come_from_the_data_or_the_target(core: Hub) -> None:
    calls: list[ServiceCall] = []
    core.services.register("lock", "open", calls.append)

    await core.services.call(
        "lock", "open", {"entity_id": "lock.a", "device_id": ["d1"]}, target={"entity_id": ["lock.b"]}
    )

    assert calls[0].entity_ids == ("lock.a", "lock.b")
    assert calls[0].device_ids == ("d1",)
    assert dict(calls[0].data) == {}


async def test_schema_errors_name_the_field_and_the_handler_never_runs(core: Hub) -> None:
    calls: list[ServiceCall] = []
    schema = vol.Schema({vol.Required("seconds"): vol.All(int, vol.Range(min=1, max=60)), "reason": str})
    core.services.register("lock", "open", calls.append, schema)

    with pytest.raises(ServiceValidationError) as caught:
        await core.services.call("lock", "open", {"seconds": 0, "color": "red"})

    assert caught.value.fields == {"seconds": "value must be at least 1", "color": "unknown key"}
    assert "seconds" in str(caught.value)
    assert calls == []


async def test_a_missing_required_field_is_named(core: Hub) -> None:
    core.services.register("lock", "open", lambda call: None, vol.Schema({vol.Required("seconds"): int}))

    with pytest.raises(ServiceValidationError) as caught:
        await core.services.call("lock", "open")

    assert caught.value.fields == {"seconds": "required"}


async def test_unknown_service(core: Hub) -> None:
    with pytest.raises(ServiceNotFound, match=r"lock\.open"):
        await core.services.call("lock", "open")


async def test_non_blocking_call_returns_at_once_and_runs_later(core: Hub) -> None:
    started = asyncio.Event()
    finished: list[bool] = []

    async def slow(call: ServiceCall) -> None:
        started.set()
        await asyncio.sleep(0.01)
        finished.append(True)

    core.services.register("demo", "slow", slow)

    assert await core.services.call("demo", "slow", blocking=False) is None
    assert finished == []
    await core.block_till_done()
    assert started.is_set() and finished == [True]


async def test_a_failing_non_blocking_call_is_logged_not_raised(core: Hub, caplog: pytest.LogCaptureFixture) -> None:
    def broken(call: ServiceCall) -> None:
        raise RuntimeError("device exploded")

    core.services.register("demo", "broken", broken)

    await core.services.call("demo", "broken", blocking=False)
    await core.block_till_done()

    assert "device exploded" in caplog.text


async def test_every_call_passes_the_authorizer_first(core: Hub) -> None:
    calls: list[ServiceCall] = []
    core.services.register("lock", "open", calls.append)

    def authorize(call: ServiceCall) -> None:
        if call.context is None or call.context.tenant_id != "t1":
            raise Unauthorized("not your door")

    core.services.authorize = authorize

    with pytest.raises(Unauthorized):
        await core.services.call("lock", "open", context=Context(tenant_id="t2"))
    await core.services.call("lock", "open", context=Context(tenant_id="t1"))

    assert len(calls) == 1


async def test_calls_are_announced_on_the_bus_when_someone_listens(core: Hub) -> None:
    announced: list[dict[str, Any]] = []
    core.bus.listen(EVENT_CALL_SERVICE, lambda event: announced.append(dict(event.data)))
    core.services.register("lock", "open", lambda call: None)

    await core.services.call("lock", "open", {"seconds": 3})

    assert announced == [{"domain": "lock", "service": "open", "data": {"seconds": 3}}]


async def test_registry_lists_and_removes_services(core: Hub) -> None:
    core.services.register("lock", "open", lambda call: None, description="Open a door")

    assert core.services.has("lock", "open")
    assert core.services.all()["lock"]["open"].description == "Open a door"

    core.services.remove("lock", "open")

    assert not core.services.has("lock", "open")
    assert core.services.all() == {}


# ---------------------------------------------------------------------------------------------------- hub


async def test_stop_runs_callbacks_in_reverse_and_cancels_background_tasks(core: Hub) -> None:
    order: list[str] = []
    core.on_stop(lambda: order.append("database"))

    async def flush() -> None:
        order.append("recorder")

    core.on_stop(flush)
    forever = core.create_background_task(asyncio.sleep(3600), "forever")

    await core.stop()

    assert order == ["recorder", "database"]
    assert forever.cancelled()
    assert core.stopped.is_set()


async def test_block_till_done_ignores_background_tasks(core: Hub) -> None:
    core.create_background_task(asyncio.sleep(3600), "forever")
    done: list[bool] = []

    async def short() -> None:
        done.append(True)

    core.create_task(short())
    await asyncio.wait_for(core.block_till_done(), timeout=2)

    assert done == [True]
    await core.stop()
