"""Every action type, run by a real automation and read back from its calls and its trace."""

from __future__ import annotations

import asyncio

from hub.testing import wait_for


async def _run(hub, tenant, automation_id: str, event: str = "go", data=None):
    hub.bus.fire(event, data or {}, tenant_id=tenant.id)
    await wait_for(lambda: any(trace.result for trace in hub.automations.traces(automation_id)))
    return hub.automations.traces(automation_id)[0]


async def test_service_call_with_target_data_and_variables(hub, tenant, calls, load) -> None:
    hub.states.set("lock.front", "locked", tenant_id=tenant.id)
    assert (
        await load(
            """
        - id: open_door
          tenant: acme
          variables:
            door: lock.front
          triggers: [{trigger: event, event_type: go}]
          actions:
            - variables:
                greeting: "Hello {{ trigger.event.data.person }}"
            - action: test.record
              target:
                entity_id: "{{ door }}"
              data:
                message: "{{ greeting }}"
              data_template:
                state: "{{ states('lock.front') }}"
            - service: test.record
              entity_id: lock.front
        """
        )
        == []
    )
    trace = await _run(hub, tenant, "open_door", data={"person": "Ada"})
    assert trace.result == "finished", trace.as_dict()
    assert [call.entity_ids for call in calls] == [("lock.front",), ("lock.front",)]
    assert calls.data()[0] == {"message": "Hello Ada", "state": "locked"}
    assert calls[0].context.tenant_id == tenant.id
    assert trace.steps[0].changed_variables == {"greeting": "Hello Ada"}
    assert trace.steps[1].result["target"] == {"entity_id": "lock.front"}


async def test_choose_if_and_repeat(hub, tenant, calls, load) -> None:
    await load(
        """
        - id: branches
          tenant: acme
          triggers: [{trigger: event, event_type: go}]
          actions:
            - choose:
                - conditions: "{{ trigger.event.data.n == 1 }}"
                  sequence: [{action: test.record, data: {step: one}}]
                - conditions: "{{ trigger.event.data.n == 2 }}"
                  sequence: [{action: test.record, data: {step: two}}]
              default: [{action: test.record, data: {step: default}}]
            - if: "{{ trigger.event.data.n > 1 }}"
              then: [{action: test.record, data: {step: then}}]
              else: [{action: test.record, data: {step: else}}]
            - repeat:
                count: 3
                sequence: [{action: test.record, data: {count: "{{ repeat.index }}", last: "{{ repeat.last }}"}}]
            - variables: {n: 0}
            - repeat:
                while: "{{ n < 2 }}"
                sequence:
                  - variables: {n: "{{ n + 1 }}"}
                  - action: test.record
                    data: {while: "{{ n }}"}
            - repeat:
                until: "{{ repeat.index >= 2 }}"
                sequence: [{action: test.record, data: {until: "{{ repeat.index }}"}}]
            - repeat:
                for_each: [door, gate]
                sequence: [{action: test.record, data: {item: "{{ repeat.item }}"}}]
        """
    )
    trace = await _run(hub, tenant, "branches", data={"n": 2})
    assert trace.result == "finished", trace.as_dict()
    assert calls.data() == [
        {"step": "two"},
        {"step": "then"},
        {"count": 1, "last": False},
        {"count": 2, "last": False},
        {"count": 3, "last": True},
        {"while": 1},
        {"while": 2},
        {"until": 1},
        {"until": 2},
        {"item": "door"},
        {"item": "gate"},
    ]
    paths = [step.path for step in trace.steps]
    assert "action/0/choose/1/sequence/0" in paths
    assert "action/1/then/0" in paths
    assert "action/2/repeat/sequence/0" in paths
    assert trace.steps[0].result == {"choice": 1}


async def test_delay_event_and_wait_for_trigger(hub, tenant, calls, load) -> None:
    fired = []
    hub.bus.listen("door_held", lambda event: fired.append(event))
    await load(
        """
        - id: waits
          tenant: acme
          triggers: [{trigger: event, event_type: go}]
          actions:
            - delay: {milliseconds: 50}
            - event: door_held
              event_data: {door: "{{ trigger.event.data.door }}"}
            - wait_for_trigger:
                - trigger: event
                  event_type: door_closed
              timeout: 5
            - action: test.record
              data: {by: "{{ wait.trigger.event.data.by }}", completed: "{{ wait.completed }}"}
            - wait_for_trigger: {trigger: event, event_type: never}
              timeout: 0.05
            - action: test.record
              data: {completed: "{{ wait.completed }}"}
            - wait_template: "{{ is_state('lock.front', 'locked') }}"
              timeout: 5
            - action: test.record
              data: {locked: true}
        """
    )
    hub.bus.fire("go", {"door": 3}, tenant_id=tenant.id)
    await wait_for(lambda: len(fired) == 1)
    assert fired[0].data == {"door": 3} and fired[0].tenant_id == tenant.id
    hub.bus.fire("door_closed", {"by": "guard"}, tenant_id=tenant.id)
    await wait_for(lambda: len(calls) == 2)
    assert calls.data() == [{"by": "guard", "completed": True}, {"completed": False}]
    hub.states.set("lock.front", "locked", tenant_id=tenant.id)
    await wait_for(lambda: len(calls) == 3)
    trace = hub.automations.traces("waits")[0]
    await wait_for(lambda: trace.result == "finished")
    assert trace.steps[0].result == {"delay": 0.05, "done": True}


async def test_wait_timeout_can_stop_the_run(hub, tenant, calls, load) -> None:
    await load(
        """
        - id: strict_wait
          tenant: acme
          triggers: [{trigger: event, event_type: go}]
          actions:
            - wait_template: "{{ false }}"
              timeout: 0.05
              continue_on_timeout: false
            - action: test.record
        """
    )
    trace = await _run(hub, tenant, "strict_wait")
    assert trace.result == "stopped" and trace.stop_reason == "timed out waiting"
    assert calls == []


async def test_stop_condition_disabled_and_continue_on_error(hub, tenant, calls, load) -> None:
    await load(
        """
        - id: stops
          tenant: acme
          triggers: [{trigger: event, event_type: go}]
          actions:
            - action: test.record
              enabled: false
            - action: test.fail
              continue_on_error: true
            - action: test.record
              data: {step: after_failure}
            - condition: template
              value_template: "{{ trigger.event.data.go_on }}"
            - action: test.record
              data: {step: after_condition}
            - stop: "{{ 'enough' }}"
              error: false
            - action: test.record
              data: {step: never}
        """
    )
    trace = await _run(hub, tenant, "stops", data={"go_on": False})
    assert trace.result == "stopped" and trace.stop_reason == "condition failed"
    assert calls.data() == [{"step": "after_failure"}]
    assert trace.steps[0].result == {"enabled": False}
    assert trace.steps[1].error == "RuntimeError: the device said no"


async def test_stop_with_error_and_a_failing_call(hub, tenant, calls, load) -> None:
    await load(
        """
        - id: fails
          tenant: acme
          mode: parallel
          triggers: [{trigger: event, event_type: go}]
          actions:
            - if: "{{ trigger.event.data.stop }}"
              then: [{stop: "no badge", error: true}]
            - action: test.fail
        """
    )
    hub.bus.fire("go", {"stop": True}, tenant_id=tenant.id)
    hub.bus.fire("go", {"stop": False}, tenant_id=tenant.id)
    await wait_for(
        lambda: (
            len(hub.automations.traces("fails")) == 2 and all(trace.result for trace in hub.automations.traces("fails"))
        )
    )
    newest, oldest = hub.automations.traces("fails")
    assert (oldest.result, oldest.error) == ("error", "no badge")
    assert (newest.result, newest.error) == ("error", "RuntimeError: the device said no")
    assert newest.as_dict()["steps"][-1]["error"] == "RuntimeError: the device said no"


async def test_parallel_branches_run_together(hub, tenant, calls, load) -> None:
    await load(
        """
        - id: together
          tenant: acme
          triggers: [{trigger: event, event_type: go}]
          actions:
            - parallel:
                - sequence:
                    - wait_for_trigger: {trigger: event, event_type: second_done}
                    - action: test.record
                      data: {branch: 1}
                - sequence:
                    - action: test.record
                      data: {branch: 2}
                    - event: second_done
        """
    )
    trace = await _run(hub, tenant, "together")
    assert trace.result == "finished", trace.as_dict()
    assert calls.data() == [{"branch": 2}, {"branch": 1}]
    await asyncio.sleep(0)


async def test_trigger_variables_trigger_level_variables_and_this(hub, tenant, calls, load) -> None:
    errors = await load(
        """
        - id: with_variables
          alias: Variables
          tenant: acme
          trigger_variables:
            site: "{{ 'north' }}"
          variables:
            label: "{{ site }}-{{ door }}"
          triggers:
            - trigger: event
              event_type: go
              variables:
                door: "{{ trigger.event.data.door }}"
          actions:
            - action: test.record
              data: {label: "{{ label }}", me: "{{ this.attributes.friendly_name }}"}
        """
    )
    assert errors == []
    await _run(hub, tenant, "with_variables", data={"door": 7})
    assert calls.data() == [{"label": "north-7", "me": "Variables"}]


async def test_an_automation_turning_itself_off_finishes_its_run(hub, tenant, calls, load) -> None:
    await load(
        """
        - id: once
          tenant: acme
          triggers: [{trigger: event, event_type: go}]
          actions:
            - action: automation.turn_off
              target: {entity_id: automation.once}
            - action: test.record
        """
    )
    trace = await _run(hub, tenant, "once")
    assert trace.result == "finished", trace.as_dict()
    assert len(calls) == 1
    assert hub.automations.get("once").enabled is False
    await hub.block_till_done()
    assert hub.states.get("automation.once").state == "off"
