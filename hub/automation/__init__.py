"""Automations: rules in automations.yaml that react to what happens (Home Assistant's format), tenant-owned.

Map of the package, one concept per module:

- ``manager``: ``AutomationManager`` (``hub.automations``): load, reload, save, delete, enable, trigger, traces.
- ``automation``: one ``Automation``: triggers attached, runs bounded by its mode, its ``automation.*`` state.
- ``schema``: validating one automation (errors ``AutomationError(automation_id, key, reason)``).
- ``triggers``: ``TriggerPlatform``, ``TriggerContext``, the registry filled by the ``automation_triggers`` hook.
- ``core_triggers``: the core platforms, a default plugin: ``state_triggers`` (state, event, template),
  ``time_triggers`` (time, time_pattern), ``webhook`` (webhook and its public route).
- ``keyed``: ``listen_keyed``, one bus listener per (event type, data key) for many triggers.
- ``conditions``: state, numeric_state, template, time, trigger, and/or/not; ``validators``: durations, times.
- ``actions``: validating actions; ``script``: running them (``ScriptRun``), step by step into a ``Trace``.
- ``templates``: sandboxed jinja2 with the tenant's states; ``trace``: ``Trace`` and its steps; ``zone``: the
  hub's time zone.
- ``services``: ``automation.trigger``/``turn_on``/``turn_off``/``toggle``/``reload``.
- ``blueprints`` (blueprint expansion) and ``default_triggers`` (access, detection, device health).

See docs/automations.md.
"""

from __future__ import annotations

from hub.automation.automation import Automation
from hub.automation.const import DOMAIN
from hub.automation.errors import AutomationError, AutomationInvalid, TemplateError
from hub.automation.manager import AutomationManager
from hub.automation.trace import Trace, TraceStep
from hub.automation.triggers import TriggerContext, TriggerPlatform

__all__ = [
    "DOMAIN",
    "Automation",
    "AutomationError",
    "AutomationInvalid",
    "AutomationManager",
    "TemplateError",
    "Trace",
    "TraceStep",
    "TriggerContext",
    "TriggerPlatform",
]
