"""Each core trigger platform, end to end on a real hub: the event or state in, the service call out."""

from __future__ import annotations

import datetime as dt

import aiohttp

from hub.automation.time_triggers import next_pattern_time
from hub.testing import wait_for


async def test_event_trigger_matches_a_subset_of_the_data(hub, tenant, calls, load) -> None:
    errors = await load(
        """
        - id: door_opened
          tenant: acme
          triggers:
            - trigger: event
              event_type: door
              event_data: {door: 1, where: {floor: 2}}
          actions:
            - action: test.record
              data:
                who: "{{ trigger.event.data.person }}"
                platform: "{{ trigger.platform }}"
                n: "{{ 2 + 3 }}"
        """
    )
    assert errors == []
    hub.bus.fire("door", {"door": 2, "person": "Bob", "where": {"floor": 2}}, tenant_id=tenant.id)
    hub.bus.fire("door", {"door": 1, "person": "Eve", "where": {"floor": 3}}, tenant_id=tenant.id)
    hub.bus.fire("door", {"door": 1, "person": "Ada", "where": {"floor": 2, "wing": "b"}}, tenant_id=tenant.id)
    await wait_for(lambda: len(calls) == 1)
    assert calls.data() == [{"who": "Ada", "platform": "event", "n": 5}]
    trace = hub.automations.traces("door_opened")[0]
    await wait_for(lambda: trace.result == "finished")
    assert trace.trigger == "event 'door'"
    assert [step.path for step in trace.steps] == ["action/0"]


async def test_platform_key_is_accepted_for_trigger(hub, tenant, calls, load) -> None:
    assert (
        await load(
            """
        - id: legacy
          tenant: acme
          trigger:
            platform: event
            event_type: ping
          action:
            service: test.record
        """
        )
        == []
    )
    hub.bus.fire("ping", {}, tenant_id=tenant.id)
    await wait_for(lambda: len(calls) == 1)


async def test_state_trigger_from_to_and_attribute(hub, tenant, calls, load) -> None:
    hub.states.set("lock.front", "locked", {"battery": 80}, tenant_id=tenant.id)
    await load(
        """
        - id: unlocked
          tenant: acme
          triggers:
            - trigger: state
              entity_id: lock.front
              from: locked
              to: unlocked
              id: opened
          actions:
            - action: test.record
              data: {which: "{{ trigger.id }}", to: "{{ trigger.to_state.state }}"}
        - id: battery
          tenant: acme
          triggers:
            - trigger: state
              entity_id: lock.front
              attribute: battery
          actions:
            - action: test.record
              data: {battery: "{{ trigger.to_state.attributes.battery }}"}
        """
    )
    hub.states.set("lock.front", "jammed", {"battery": 80}, tenant_id=tenant.id)
    hub.states.set("lock.front", "locked", {"battery": 80}, tenant_id=tenant.id)
    hub.states.set("lock.front", "unlocked", {"battery": 80}, tenant_id=tenant.id)
    hub.states.set("lock.front", "unlocked", {"battery": 79}, tenant_id=tenant.id)
    await wait_for(lambda: len(calls) == 2)
    assert sorted(calls.data(), key=str) == sorted([{"which": "opened", "to": "unlocked"}, {"battery": 79}], key=str)


async def test_state_trigger_for_fires_only_when_the_state_holds(hub, tenant, calls, load) -> None:
    hub.states.set("binary_sensor.door", "off", tenant_id=tenant.id)
    await load(
        """
        - id: held_open
          tenant: acme
          triggers:
            - trigger: state
              entity_id: binary_sensor.door
              to: "on"
              for: {milliseconds: 200}
          actions:
            - action: test.record
              data: {for: "{{ trigger.for }}"}
        """
    )
    hub.states.set("binary_sensor.door", "on", tenant_id=tenant.id)
    hub.states.set("binary_sensor.door", "off", tenant_id=tenant.id)  # closed again before 200 ms: no fire
    hub.states.set("binary_sensor.door", "on", tenant_id=tenant.id)
    await wait_for(lambda: len(calls) == 1, timeout=3)
    assert calls.data() == [{"for": 0.2}]
    assert len(hub.automations.traces("held_open")) == 1


async def test_template_trigger_fires_on_false_to_true(hub, tenant, calls, load) -> None:
    hub.states.set("sensor.people", "1", tenant_id=tenant.id)
    await load(
        """
        - id: crowded
          tenant: acme
          mode: queued
          triggers:
            - trigger: template
              value_template: "{{ states('sensor.people') | int > 3 }}"
          actions:
            - action: test.record
              data: {people: "{{ trigger.to_state.state }}"}
        """
    )
    for people in ("2", "5", "6", "1", "4"):
        hub.states.set("sensor.people", people, tenant_id=tenant.id)
    await wait_for(lambda: len(calls) == 2)
    assert calls.data() == [{"people": 5}, {"people": 4}]


async def test_time_pattern_trigger(hub, tenant, calls, load) -> None:
    await load(
        """
        - id: every_second
          tenant: acme
          mode: parallel
          triggers:
            - trigger: time_pattern
              seconds: "/1"
          actions:
            - action: test.record
              data: {second: "{{ trigger.now.second }}"}
        """
    )
    await wait_for(lambda: len(calls) >= 2, timeout=4)
    assert calls[1].data["second"] != calls[0].data["second"]


def test_next_pattern_time_follows_home_assistants_defaults() -> None:
    now = dt.datetime(2026, 1, 1, 10, 7, 30, 500_000, tzinfo=dt.UTC)
    assert next_pattern_time(now, {"minutes": ("every", 15)}) == now.replace(minute=15, second=0, microsecond=0)
    assert next_pattern_time(now, {"seconds": ("value", 10)}) == now.replace(minute=8, second=10, microsecond=0)
    assert next_pattern_time(now, {"hours": ("value", 3)}) == dt.datetime(2026, 1, 2, 3, 0, 0, tzinfo=dt.UTC)


async def test_time_trigger_at_a_time_and_from_an_entity(hub, tenant, calls, load) -> None:
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    hub.states.set("input_datetime.opening", soon.strftime("%H:%M:%S"), tenant_id=tenant.id)
    await load(
        f"""
        - id: at_time
          tenant: acme
          triggers:
            - trigger: time
              at: "{soon:%H:%M:%S}"
          actions:
            - action: test.record
              data: {{source: fixed}}
        - id: at_entity
          tenant: acme
          triggers:
            - trigger: time
              at: input_datetime.opening
          actions:
            - action: test.record
              data: {{source: "{{{{ trigger.entity_id }}}}"}}
        """
    )
    await wait_for(lambda: len(calls) == 2, timeout=5)
    assert sorted(call.data["source"] for call in calls) == ["fixed", "input_datetime.opening"]


async def test_webhook_trigger_over_http(http_hub) -> None:
    tenant = await http_hub.tenants.create("acme")
    received = []
    http_hub.services.register("test", "record", lambda call: received.append(dict(call.data)))
    (http_hub.config_dir / "automations.yaml").write_text(
        """
- id: hook
  tenant: acme
  triggers:
    - trigger: webhook
      webhook_id: gate-7f3a9c
  actions:
    - action: test.record
      data:
        plate: "{{ trigger.json.plate }}"
        form: "{{ trigger.data.plate if trigger.data else none }}"
        query: "{{ trigger.query.lane }}"
""",
        encoding="utf-8",
    )
    assert await http_hub.automations.reload() == []
    base = http_hub.http.url
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base}/api/webhook/gate-7f3a9c?lane=2", json={"plate": "AB-123"}) as response:
            assert response.status == 200
        async with session.post(f"{base}/api/webhook/gate-7f3a9c", data={"plate": "XY-9"}) as response:
            assert response.status == 200
        async with session.post(f"{base}/api/webhook/unknown-id", json={"plate": "no"}) as response:
            assert response.status == 200  # like Home Assistant: probing ids learns nothing
        async with session.get(f"{base}/api/webhook/gate-7f3a9c") as response:
            assert response.status == 200  # GET is not an allowed method by default: ignored
    await wait_for(lambda: len(received) == 2)
    assert received[0] == {"plate": "AB-123", "form": None, "query": 2}
    assert received[1]["form"] == "XY-9"
    assert tenant.id == http_hub.automations.get("hook").tenant_id


async def test_a_webhook_id_is_used_by_one_automation_only(hub, tenant, calls, load) -> None:
    errors = await load(
        """
        - id: first_hook
          tenant: acme
          triggers: [{trigger: webhook, webhook_id: shared-id-1234}]
          actions: [{action: test.record}]
        - id: second_hook
          tenant: acme
          triggers: [{trigger: webhook, webhook_id: shared-id-1234}]
          actions: [{action: test.record}]
        """
    )
    assert [(error.automation_id, error.key) for error in errors] == [("second_hook", "triggers")]
    assert "already used by another automation" in errors[0].reason
    assert hub.automations.get("first_hook").error is None
