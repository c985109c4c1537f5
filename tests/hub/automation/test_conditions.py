"""Conditions of an automation decide whether its actions run; each one is traced with its result."""

from __future__ import annotations

import datetime as dt

from hub.testing import wait_for


async def _finished(hub, automation_id: str):
    await wait_for(lambda: any(trace.result for trace in hub.automations.traces(automation_id)))
    return hub.automations.traces(automation_id)[0]


async def test_state_template_and_logical_conditions(hub, tenant, calls, load) -> None:
    hub.states.set("alarm_control_panel.site", "armed", tenant_id=tenant.id)
    hub.states.set("sensor.temperature", "21", {"unit": "C"}, tenant_id=tenant.id)
    assert (
        await load(
            """
        - id: guarded
          tenant: acme
          mode: queued
          triggers:
            - trigger: event
              event_type: check
          conditions:
            - condition: state
              entity_id: alarm_control_panel.site
              state: [armed, triggered]
            - "{{ trigger.event.data.level > 2 }}"
            - or:
                - condition: numeric_state
                  entity_id: sensor.temperature
                  above: 30
                - condition: state
                  entity_id: sensor.temperature
                  attribute: unit
                  state: C
            - not:
                - condition: template
                  value_template: "{{ trigger.event.data.level == 4 }}"
          actions:
            - action: test.record
              data: {level: "{{ trigger.event.data.level }}"}
        """
        )
        == []
    )
    for level in (1, 3, 4, 5):
        hub.bus.fire("check", {"level": level}, tenant_id=tenant.id)
    await wait_for(
        lambda: (
            len(hub.automations.traces("guarded")) == 4
            and all(trace.result for trace in hub.automations.traces("guarded"))
        )
    )
    assert calls.data() == [{"level": 3}, {"level": 5}]
    results = [trace.result for trace in reversed(hub.automations.traces("guarded"))]
    assert results == ["stopped", "finished", "stopped", "finished"]
    first = hub.automations.traces("guarded")[-1]
    assert first.stop_reason == "conditions not met"
    assert [(step.path, step.result) for step in first.steps] == [
        ("condition/0", {"result": True}),
        ("condition/1", {"result": False}),
    ]


async def test_time_condition_with_weekday_and_midnight_crossing(hub, tenant, calls, load) -> None:
    now = dt.datetime.now(dt.UTC)
    today = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[now.weekday()]
    earlier = (now - dt.timedelta(hours=1)).strftime("%H:%M:%S")
    later = (now + dt.timedelta(hours=1)).strftime("%H:%M:%S")
    await load(
        f"""
        - id: open_hours
          tenant: acme
          triggers: [{{trigger: event, event_type: go}}]
          conditions:
            - condition: time
              after: "{earlier}"
              before: "{later}"
              weekday: {today}
          actions: [{{action: test.record, data: {{which: open}}}}]
        - id: closed_hours
          tenant: acme
          triggers: [{{trigger: event, event_type: go}}]
          conditions:
            - condition: time
              after: "{later}"
              before: "{earlier}"
          actions: [{{action: test.record, data: {{which: closed}}}}]
        """
    )
    hub.bus.fire("go", {}, tenant_id=tenant.id)
    await _finished(hub, "open_hours")
    await _finished(hub, "closed_hours")
    assert calls.data() == [{"which": "open"}]


async def test_trigger_condition_picks_by_trigger_id(hub, tenant, calls, load) -> None:
    await load(
        """
        - id: two_triggers
          tenant: acme
          mode: queued
          triggers:
            - {trigger: event, event_type: a, id: first}
            - {trigger: event, event_type: b, id: second}
          conditions:
            - condition: trigger
              id: second
          actions:
            - action: test.record
              data: {id: "{{ trigger.id }}", idx: "{{ trigger.idx }}"}
        """
    )
    hub.bus.fire("a", {}, tenant_id=tenant.id)
    hub.bus.fire("b", {}, tenant_id=tenant.id)
    await wait_for(lambda: len(calls) == 1)
    assert calls.data() == [{"id": "second", "idx": 1}]
