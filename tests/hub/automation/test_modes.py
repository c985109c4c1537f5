"""Modes bound how many runs an automation has at once; a runaway automation cannot stall the bus."""

from __future__ import annotations

import asyncio
import time

import pytest

from hub.automation.errors import AutomationError
from hub.testing import wait_for

_TEMPLATE = """
- id: {id}
  tenant: acme
  mode: {mode}
  max: 2
  max_exceeded: {level}
  triggers: [{{trigger: event, event_type: go}}]
  actions:
    - action: test.record
      data: {{n: "{{{{ trigger.event.data.n }}}}"}}
    - wait_for_trigger: {{trigger: event, event_type: release}}
    - action: test.record
      data: {{done: "{{{{ trigger.event.data.n }}}}"}}
"""


async def _fire_three(hub, tenant) -> None:
    for n in (1, 2, 3):
        hub.bus.fire("go", {"n": n}, tenant_id=tenant.id)
        await asyncio.sleep(0.01)


async def test_single_drops_triggers_while_running(hub, tenant, calls, load, caplog) -> None:
    await load(_TEMPLATE.format(id="one", mode="single", level="warning"))
    await _fire_three(hub, tenant)
    await wait_for(lambda: len(calls) == 1)
    assert hub.states.get("automation.one").attributes["current"] == 1
    hub.bus.fire("release", {}, tenant_id=tenant.id)
    await wait_for(lambda: len(calls) == 2)
    assert calls.data() == [{"n": 1}, {"done": 1}]
    assert sum("already running" in record.message for record in caplog.records) == 1  # logged once per burst


async def test_restart_aborts_the_current_run(hub, tenant, calls, load) -> None:
    await load(_TEMPLATE.format(id="again", mode="restart", level="silent"))
    await _fire_three(hub, tenant)
    await wait_for(lambda: len(calls) == 3)
    hub.bus.fire("release", {}, tenant_id=tenant.id)
    await wait_for(lambda: len(calls) == 4)
    assert calls.data()[-1] == {"done": 3}
    results = [trace.result for trace in reversed(hub.automations.traces("again"))]
    await wait_for(lambda: hub.automations.traces("again")[0].result == "finished")
    assert results[:2] == ["aborted", "aborted"]


async def test_queued_runs_one_after_the_other_up_to_max(hub, tenant, calls, load) -> None:
    await load(_TEMPLATE.format(id="line", mode="queued", level="silent"))
    await _fire_three(hub, tenant)  # max 2: the third is dropped
    await wait_for(lambda: len(calls) == 1)
    hub.bus.fire("release", {}, tenant_id=tenant.id)
    await wait_for(lambda: len(calls) == 3)
    hub.bus.fire("release", {}, tenant_id=tenant.id)
    await wait_for(lambda: len(calls) == 4)
    assert calls.data() == [{"n": 1}, {"done": 1}, {"n": 2}, {"done": 2}]


async def test_parallel_runs_at_once_up_to_max(hub, tenant, calls, load) -> None:
    await load(_TEMPLATE.format(id="many", mode="parallel", level="silent"))
    await _fire_three(hub, tenant)
    await wait_for(lambda: len(calls) == 2)
    assert hub.automations.get("many").current == 2
    hub.bus.fire("release", {}, tenant_id=tenant.id)
    await wait_for(lambda: len(calls) == 4)
    assert sorted(str(item) for item in calls.data()) == sorted(
        str(item) for item in [{"n": 1}, {"n": 2}, {"done": 1}, {"done": 2}]
    )


async def test_manual_trigger_refused_by_the_mode(hub, tenant, calls, load) -> None:
    await load(_TEMPLATE.format(id="manual", mode="single", level="silent"))
    trace = await hub.automations.trigger("manual", {"note": "x"})
    assert trace.trigger == "manual"
    with pytest.raises(AutomationError) as refused:
        await hub.automations.trigger("manual")
    assert refused.value.key == "mode"


async def test_a_runaway_loop_is_capped_and_the_bus_keeps_flowing(hub, tenant, calls, load) -> None:
    """A while loop that never ends stops after 10,000 iterations; meanwhile other events are handled."""
    assert (
        await load(
            """
        - id: runaway
          tenant: acme
          triggers: [{trigger: event, event_type: go}]
          actions:
            - repeat:
                while: "{{ true }}"
                sequence:
                  - event: spin
        - id: bystander
          tenant: acme
          mode: parallel
          max: 100
          triggers: [{trigger: event, event_type: ping}]
          actions: [{action: test.record}]
        """
        )
        == []
    )
    hub.bus.fire("go", {}, tenant_id=tenant.id)
    await asyncio.sleep(0.01)
    started = time.monotonic()
    hub.bus.fire("ping", {}, tenant_id=tenant.id)
    await wait_for(lambda: len(calls) == 1)
    assert time.monotonic() - started < 1.0  # the ping was served while the loop spun
    trace = hub.automations.traces("runaway")[0]
    await wait_for(lambda: trace.result is not None, timeout=20)
    assert trace.result == "error"
    assert trace.error == "RuntimeError: repeat stopped after 10000 iterations"


async def test_an_automation_triggering_itself_is_bounded_by_its_mode(hub, tenant, calls, load) -> None:
    """It loops for ever, as in Home Assistant, but never with more than ``max`` runs; turning it off ends it."""
    await load(
        """
        - id: echo
          tenant: acme
          mode: parallel
          max: 5
          max_exceeded: silent
          triggers: [{trigger: event, event_type: echo}]
          actions:
            - event: echo
            - action: test.record
        """
    )
    automation = hub.automations.get("echo")
    most = 0

    def count(event) -> None:
        nonlocal most
        most = max(most, automation.current)

    hub.bus.listen("echo", count)
    hub.bus.fire("echo", {}, tenant_id=tenant.id)
    await wait_for(lambda: len(calls) >= 200)
    assert 1 <= most <= 5
    await hub.automations.set_enabled("echo", False)
    stopped_at = len(calls)
    await asyncio.sleep(0.05)
    assert len(calls) == stopped_at
    assert hub.states.get("automation.echo").state == "off"
