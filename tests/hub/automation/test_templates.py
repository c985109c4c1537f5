"""Templates: sandboxed jinja2 with the helpers people expect, compiled at load, errors that say where."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.automation.errors import TemplateError
from hub.automation.templates import Template, helpers
from hub.automation.zone import hub_zone
from hub.testing import wait_for


def _render(hub, tenant_id, source: str, **variables):
    return Template(source).render({**helpers(hub, tenant_id, hub_zone(hub)), **variables})


async def test_state_helpers_read_the_tenants_states_only(hub, tenant) -> None:
    other = await hub.tenants.create("globex")
    hub.states.set("sensor.door", "open", {"battery": 80, "friendly_name": "Door"}, tenant_id=tenant.id)
    hub.states.set("sensor.vault", "open", {"battery": 5}, tenant_id=other.id)
    assert _render(hub, tenant.id, "{{ states('sensor.door') }}") == "open"
    assert _render(hub, tenant.id, "{{ states.sensor.door.state }}/{{ states.sensor.door.name }}") == "open/Door"
    assert _render(hub, tenant.id, "{{ is_state('sensor.door', 'open') }}") is True
    assert _render(hub, tenant.id, "{{ is_state('sensor.door', ['closed', 'open']) }}") is True
    assert _render(hub, tenant.id, "{{ state_attr('sensor.door', 'battery') + 1 }}") == 81
    assert _render(hub, tenant.id, "{{ is_state_attr('sensor.door', 'battery', 80) }}") is True
    assert _render(hub, tenant.id, "{{ states.sensor | map(attribute='entity_id') | list }}") == ["sensor.door"]
    # another tenant's entity does not exist for this tenant's templates
    assert _render(hub, tenant.id, "{{ states('sensor.vault') }}") == "unknown"
    assert _render(hub, tenant.id, "{{ states.sensor.vault }}") is None
    assert _render(hub, tenant.id, "{{ state_attr('sensor.vault', 'battery') }}") is None
    assert _render(hub, tenant.id, "{{ is_state('sensor.vault', 'open') }}") is False


async def test_time_helpers_and_filters(hub, tenant) -> None:
    assert isinstance(_render(hub, tenant.id, "{{ now().year }}"), int)
    assert _render(hub, tenant.id, "{{ utcnow().tzinfo }}") == "UTC"
    assert _render(hub, tenant.id, "{{ as_timestamp('2026-01-02T03:04:05+00:00') }}") == 1767323045.0
    assert _render(hub, tenant.id, "{{ 1767323045 | timestamp_custom('%H:%M', false) }}") == "03:04"
    assert _render(hub, tenant.id, "{{ as_datetime('2026-01-02T03:04:05+00:00').day }}") == 2
    assert _render(hub, tenant.id, "{{ (as_datetime('2026-01-02T03:04:05Z') | as_local).hour }}") == 3
    an_hour_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1, seconds=5)).isoformat()
    assert _render(hub, tenant.id, "{{ t | relative_time }}", t=an_hour_ago) == "1 hour"
    assert _render(hub, tenant.id, "{{ 'x' | int(7) }} {{ '2.5' | float }} {{ 'y' | float(1.5) }}") == "7 2.5 1.5"


async def test_time_zone_of_the_hub_is_used(hub_factory) -> None:
    paris = await hub_factory(config={"gatehouse": {"time_zone": "Europe/Paris"}})
    assert _render(paris, None, "{{ now().tzinfo }}") == "Europe/Paris"
    assert _render(paris, None, "{{ 1767323045 | timestamp_custom('%H:%M') }}") == "04:04"


def test_the_sandbox_refuses_internals() -> None:
    with pytest.raises(TemplateError, match=r"SecurityError|UndefinedError|access"):
        Template("{{ ''.__class__.__mro__[1].__subclasses__() }}", "x").render({})


def test_syntax_errors_name_the_line() -> None:
    with pytest.raises(TemplateError) as error:
        Template("first line\n{{ 1 + }}", "actions.0.data.message")
    assert error.value.line == 2 and error.value.key == "actions.0.data.message"


async def test_render_errors_are_traced_with_the_automation_and_key(hub, tenant, calls, load) -> None:
    await load(
        """
        - id: broken_at_runtime
          tenant: acme
          triggers: [{trigger: event, event_type: go}]
          actions:
            - action: test.record
              data:
                n: "{{ trigger.event.data.missing.deeper }}"
        """
    )
    hub.bus.fire("go", {}, tenant_id=tenant.id)
    await wait_for(lambda: any(trace.result for trace in hub.automations.traces("broken_at_runtime")))
    trace = hub.automations.traces("broken_at_runtime")[0]
    assert trace.result == "error"
    assert "actions.0.data.n" in trace.error and "UndefinedError" in trace.error
    assert calls == []
