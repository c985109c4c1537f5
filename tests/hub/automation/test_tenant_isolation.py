"""An automation of tenant A never sees B's events or states, and never acts on B's entities."""

from __future__ import annotations

from hub.testing import wait_for


async def test_triggers_only_see_the_tenants_events_and_states(hub, tenant, calls, load) -> None:
    other = await hub.tenants.create("globex")
    hub.states.set("lock.acme_door", "locked", tenant_id=tenant.id)
    hub.states.set("lock.globex_door", "locked", tenant_id=other.id)
    await load(
        """
        - id: acme_watch
          tenant: acme
          mode: parallel
          triggers:
            - {trigger: event, event_type: access}
            - {trigger: state, entity_id: [lock.acme_door, lock.globex_door]}
            - {trigger: template, value_template: "{{ is_state('lock.globex_door', 'unlocked') }}"}
          actions:
            - action: test.record
              data: {platform: "{{ trigger.platform }}", tenant: "{{ trigger.event.tenant_id if trigger.event }}"}
        """
    )
    hub.bus.fire("access", {"person": "spy"}, tenant_id=other.id)
    hub.bus.fire("access", {"person": "hub-wide"})  # no tenant: platform administrators only
    hub.states.set("lock.globex_door", "unlocked", tenant_id=other.id)
    await hub.block_till_done()
    assert calls == [] and hub.automations.traces("acme_watch") == []
    hub.bus.fire("access", {"person": "Ada"}, tenant_id=tenant.id)
    hub.states.set("lock.acme_door", "unlocked", tenant_id=tenant.id)
    await wait_for(lambda: len(calls) == 2)
    assert sorted(call.data["platform"] for call in calls) == ["event", "state"]


async def test_actions_cannot_reach_another_tenants_entities(hub, tenant, calls, load) -> None:
    other = await hub.tenants.create("globex")
    hub.states.set("lock.globex_door", "locked", tenant_id=other.id)
    hub.states.set("lock.acme_door", "locked", tenant_id=tenant.id)
    seen = []
    hub.bus.listen("unlock_requested", lambda event: seen.append(event.tenant_id))
    await load(
        """
        - id: intruder
          tenant: acme
          triggers: [{trigger: event, event_type: go}]
          actions:
            - action: test.record
              target: {entity_id: lock.globex_door}
            - event: unlock_requested
        - id: own
          tenant: acme
          triggers: [{trigger: event, event_type: go}]
          actions:
            - action: test.record
              target: {entity_id: lock.acme_door}
            - event: unlock_requested
        """
    )
    hub.bus.fire("go", {}, tenant_id=tenant.id)
    await wait_for(
        lambda: all(
            hub.automations.traces(name) and hub.automations.traces(name)[0].result for name in ("intruder", "own")
        )
    )
    refused = hub.automations.traces("intruder")[0]
    assert refused.result == "error" and "lock.globex_door" in refused.error
    assert [call.entity_ids for call in calls] == [("lock.acme_door",)]
    assert seen == [tenant.id]  # events an automation fires belong to its tenant


async def test_automation_states_and_lists_are_per_tenant(hub, tenant, load) -> None:
    other = await hub.tenants.create("globex")
    await load(
        """
        - id: a1
          tenant: acme
          triggers: [{trigger: event, event_type: go}]
          actions: [{event: x}]
        - id: g1
          tenant: globex
          triggers: [{trigger: event, event_type: go}]
          actions: [{event: x}]
        """
    )
    assert [item.id for item in hub.automations.all(tenant.id)] == ["a1"]
    assert [item.id for item in hub.automations.all(other.id)] == ["g1"]
    assert hub.states.get("automation.g1").tenant_id == other.id
    assert [state.entity_id for state in hub.states.all("automation", tenant_id=tenant.id)] == ["automation.a1"]
