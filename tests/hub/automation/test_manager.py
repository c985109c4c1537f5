"""automations.yaml: loaded at start, reloaded without a restart, invalid entries refused one by one, edited by
``save``/``delete``/``set_enabled`` without touching other tenants' entries; the ``automation.*`` services."""

from __future__ import annotations

import json
import logging

import pytest
import yaml

from hub.automation.errors import AutomationError, AutomationInvalid
from hub.core import Context
from hub.exceptions import Unauthorized
from hub.testing import wait_for

_GOOD = """
- id: good
  alias: Good one
  tenant: acme
  triggers: [{trigger: event, event_type: go}]
  actions: [{action: test.record, data: {who: good}}]
"""


async def test_loaded_at_start_from_the_config_dir_with_include(hub_factory, tmp_path) -> None:
    config_dir = tmp_path / "site"
    config_dir.mkdir()
    first = await hub_factory(config_dir=config_dir)
    await first.tenants.create("acme")
    await first.stop()
    (config_dir / "more").mkdir()
    (config_dir / "more" / "night.yaml").write_text(
        "- id: night\n  tenant: acme\n  triggers: [{trigger: event, event_type: dark}]\n"
        "  actions: [{event: lights_on}]\n",
        encoding="utf-8",
    )
    (config_dir / "automations.yaml").write_text(
        "- id: day\n  tenant: acme\n  triggers: [{trigger: event, event_type: light}]\n  actions: [{event: x}]\n"
        "- !include more/night.yaml\n",
        encoding="utf-8",
    )
    hub = await hub_factory(config_dir=config_dir, database_url=f"sqlite+aiosqlite:///{config_dir}/gatehouse.db")
    assert sorted(item.id for item in hub.automations.all()) == ["day", "night"]
    assert hub.automations.errors == []
    assert hub.states.get("automation.night").state == "on"


async def test_invalid_automations_are_refused_with_id_key_and_reason(hub, tenant, calls, load, caplog) -> None:
    caplog.set_level(logging.ERROR)
    errors = await load(
        _GOOD
        + """
- id: bad_service
  tenant: acme
  triggers: [{trigger: event, event_type: go}]
  actions:
    - action: test.record
    - delay: 1
    - action: light.explode
- id: bad_template
  tenant: acme
  triggers: [{trigger: event, event_type: go}]
  actions:
    - action: test.record
      data:
        message: "{{ trigger.event.data.x | }}"
- id: bad_trigger
  tenant: acme
  trigger:
    - trigger: state
      entity_id: not an entity
  actions: [{action: test.record}]
- id: bad_mode
  tenant: acme
  mode: sometimes
  triggers: [{trigger: event, event_type: go}]
  actions: [{action: test.record}]
- id: unknown_trigger
  tenant: acme
  triggers: [{trigger: teleport}]
  actions: [{action: test.record}]
- id: no_tenant_here
  tenant: nobody
  triggers: [{trigger: event, event_type: go}]
  actions: [{action: test.record}]
- id: good
  tenant: acme
  triggers: [{trigger: event, event_type: go}]
  actions: [{action: test.record}]
- alias: no id at all
  tenant: acme
  triggers: [{trigger: event, event_type: go}]
  actions: [{action: test.record}]
- id: endless
  tenant: acme
  triggers: [{trigger: event, event_type: go}]
  actions:
    - repeat:
        count: 20000
        sequence: [{event: spin}]
- id: nested
  tenant: acme
  triggers: [{trigger: event, event_type: go}]
  action:
    - choose:
        - conditions: [{condition: state, entity_id: lock.x}]
          sequence: []
"""
    )
    by_id = {(error.automation_id, error.key): error.reason for error in errors}
    assert by_id[("bad_service", "actions.2.action")] == "unknown service 'light.explode'"
    assert by_id[("bad_template", "actions.0.data.message")].startswith("template syntax")
    assert "line 1" in by_id[("bad_template", "actions.0.data.message")]
    assert ("bad_trigger", "trigger.0.entity_id") in by_id
    assert ("bad_mode", "mode") in by_id
    assert "unknown trigger type 'teleport'" in by_id[("unknown_trigger", "triggers.0.trigger")]
    assert by_id[("no_tenant_here", "tenant")] == "unknown tenant 'nobody'"
    assert by_id[("good", "id")] == "another automation already has this id"
    assert by_id[(None, "id")] == "entry 9: required"
    assert by_id[("nested", "action.0.choose.0.conditions.0.state")] == "required"
    assert by_id[("endless", "actions.0.repeat.count")] == "must be from 0 to 10000"
    assert [item.id for item in hub.automations.all()] == ["good"]
    assert hub.automations.errors == errors
    assert all(json.dumps(error.as_dict()) for error in errors)
    refused = [record for record in caplog.records if "Automation refused" in record.message]
    assert len(refused) == len(errors)
    # the valid one runs
    hub.bus.fire("go", {}, tenant_id=tenant.id)
    await wait_for(lambda: len(calls) == 1)
    # a second reload with the same problems does not log them again
    await hub.automations.reload()
    assert len([record for record in caplog.records if "Automation refused" in record.message]) == len(errors)


async def test_reload_without_restart_keeps_unchanged_automations_running(hub, tenant, calls, load) -> None:
    await load(
        """
        - id: waiting
          tenant: acme
          triggers: [{trigger: event, event_type: go}]
          actions:
            - wait_for_trigger: {trigger: event, event_type: release}
            - action: test.record
              data: {who: waiting}
        """
    )
    hub.bus.fire("go", {}, tenant_id=tenant.id)
    waiting = hub.automations.get("waiting")
    await wait_for(lambda: waiting.current == 1)
    text = (hub.config_dir / "automations.yaml").read_text()
    (hub.config_dir / "automations.yaml").write_text(text + _GOOD)
    assert await hub.automations.reload() == []
    assert hub.automations.get("waiting") is waiting  # unchanged: same object, run still in progress
    hub.bus.fire("release", {}, tenant_id=tenant.id)
    hub.bus.fire("go", {}, tenant_id=tenant.id)
    await wait_for(lambda: len(calls) == 2)
    assert sorted(call.data["who"] for call in calls) == ["good", "waiting"]
    # removing an automation from the file removes it and its state
    (hub.config_dir / "automations.yaml").write_text(_GOOD)
    await hub.automations.reload()
    assert hub.automations.get("waiting") is None
    assert hub.states.get("automation.waiting") is None


async def test_a_broken_file_keeps_the_automations_already_loaded(hub, tenant, calls, load) -> None:
    await load(_GOOD)
    errors = await load("- id: x\n  tenant: [unclosed\n")
    assert len(errors) == 1 and "automations.yaml" in errors[0].reason and "line" in errors[0].reason
    assert [item.id for item in hub.automations.all()] == ["good"]


async def test_save_delete_and_enable_rewrite_the_file_keeping_other_tenants(hub, tenant, calls, load) -> None:
    other = await hub.tenants.create("globex")
    await load(
        """
        - id: theirs
          tenant: globex
          triggers: [{trigger: event, event_type: go}]
          actions: [{event: done}]
        """
    )
    config = {
        "alias": "Created from the dashboard",
        "triggers": [{"trigger": "event", "event_type": "go"}],
        "actions": [{"action": "test.record", "data": {"who": "saved"}}],
    }
    saved = await hub.automations.save(config, tenant_id=tenant.id)
    assert saved.tenant_id == tenant.id and saved.alias == "Created from the dashboard"
    assert len(saved.id) == 32
    written = yaml.safe_load((hub.config_dir / "automations.yaml").read_text())
    assert [entry["id"] for entry in written] == ["theirs", saved.id]
    assert written[1]["tenant"] == "acme"
    hub.bus.fire("go", {}, tenant_id=tenant.id)
    await wait_for(lambda: len(calls) == 1)

    # edit keeps the id; an invalid edit is refused and changes nothing
    await hub.automations.save({**config, "id": saved.id, "alias": "Renamed"}, tenant_id=tenant.id)
    assert hub.automations.get(saved.id).alias == "Renamed"
    with pytest.raises(AutomationInvalid) as invalid:
        await hub.automations.save(
            {**config, "id": saved.id, "actions": [{"action": "nope.nope"}]}, tenant_id=tenant.id
        )
    assert invalid.value.errors == [AutomationError(saved.id, "actions.0.action", "unknown service 'nope.nope'")]
    assert invalid.value.fields() == {"actions.0.action": "unknown service 'nope.nope'"}
    assert hub.automations.get(saved.id).alias == "Renamed"
    # another tenant's id cannot be taken over
    with pytest.raises(AutomationInvalid):
        await hub.automations.save({**config, "id": "theirs"}, tenant_id=tenant.id)
    assert hub.automations.get("theirs").tenant_id == other.id

    await hub.automations.set_enabled(saved.id, False)
    assert hub.automations.get(saved.id).enabled is False
    assert hub.states.get(f"automation.{saved.id}").state == "off"
    assert yaml.safe_load((hub.config_dir / "automations.yaml").read_text())[1]["enabled"] is False
    hub.bus.fire("go", {}, tenant_id=tenant.id)
    await hub.block_till_done()
    assert len(calls) == 1
    await hub.automations.set_enabled(saved.id, True)
    assert hub.states.get(f"automation.{saved.id}").state == "on"

    await hub.automations.delete(saved.id)
    assert hub.automations.get(saved.id) is None
    assert [entry["id"] for entry in yaml.safe_load((hub.config_dir / "automations.yaml").read_text())] == ["theirs"]
    with pytest.raises(KeyError):
        await hub.automations.delete(saved.id)


async def test_traces_keep_the_last_five_runs_json_safe(hub, tenant, calls, load) -> None:
    await load(_GOOD)
    for n in range(7):
        hub.bus.fire("go", {"n": n}, tenant_id=tenant.id)
        await wait_for(lambda n=n: len(calls) == n + 1)
        await wait_for(lambda: hub.automations.traces("good")[0].result == "finished")
    traces = hub.automations.traces("good")
    assert len(traces) == 5
    assert [trace.variables["trigger"]["event"].data["n"] for trace in traces] == [6, 5, 4, 3, 2]
    as_dict = json.loads(json.dumps(traces[0].as_dict()))
    assert as_dict["result"] == "finished" and as_dict["trigger"] == "event 'go'"
    assert as_dict["variables"]["trigger"]["event"]["data"] == {"n": 6}
    assert as_dict["steps"][0]["path"] == "action/0"
    assert as_dict["steps"][0]["result"]["action"] == "test.record"
    state = hub.states.get("automation.good")
    assert state.attributes["last_triggered"] is not None
    assert state.attributes["friendly_name"] == "Good one" and state.attributes["mode"] == "single"


async def test_automation_services(hub, tenant, calls, load) -> None:
    other = await hub.tenants.create("globex")
    await load(
        _GOOD
        + """
- id: theirs
  tenant: globex
  triggers: [{trigger: event, event_type: go}]
  actions: [{event: done}]
"""
    )
    acme = Context(tenant_id=tenant.id)
    await hub.services.call("automation", "trigger", {"entity_id": "automation.good"}, context=acme)
    await wait_for(lambda: len(calls) == 1)
    await hub.services.call("automation", "turn_off", target={"entity_id": "automation.good"}, context=acme)
    assert hub.states.get("automation.good").state == "off"
    await hub.services.call("automation", "toggle", target={"entity_id": "automation.good"}, context=acme)
    assert hub.states.get("automation.good").state == "on"
    # a tenant reaches only its own automations, and cannot reload everyone's
    from hub.auth.scope import NotFound

    with pytest.raises(NotFound):
        await hub.services.call("automation", "turn_off", {"entity_id": "automation.theirs"}, context=acme)
    with pytest.raises(Unauthorized):
        await hub.services.call("automation", "reload", context=acme)
    await hub.services.call("automation", "reload")  # the hub itself (and platform administrators) may
    assert hub.automations.get("theirs").tenant_id == other.id


async def test_a_blueprint_automation_keeps_its_config_as_written(hub, tenant, calls, load) -> None:
    errors = await load(
        """
        - id: offline_alert
          tenant: acme
          use_blueprint:
            path: gatehouse/device_offline.yaml
            input:
              duration: {minutes: 10}
        - id: broken_blueprint
          tenant: acme
          use_blueprint:
            path: gatehouse/no_such_blueprint.yaml
        """
    )
    automation = hub.automations.get("offline_alert")
    assert automation is not None and automation.blueprint_path == "gatehouse/device_offline.yaml"
    assert automation.config == {
        "id": "offline_alert",
        "tenant": "acme",
        "use_blueprint": {"path": "gatehouse/device_offline.yaml", "input": {"duration": {"minutes": 10}}},
    }
    assert automation.mode == "parallel"  # from the blueprint
    assert [(error.automation_id, error.key, error.tenant_id) for error in errors] == [
        ("broken_blueprint", "use_blueprint.path", tenant.id)
    ]
    assert await hub.automations.reload() == errors
    assert hub.automations.get("offline_alert") is automation  # unchanged: kept running
