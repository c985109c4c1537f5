"""Triggers for ``subscribe_trigger``: every automation trigger type, scoped to the caller's tenant.

The trigger configurations are checked and attached by the automation engine's platforms
(``hub.automations.platforms``: ``state``, ``event``, ``time``, ``time_pattern``, ``template``, ``webhook`` and
those plugins add, such as ``access``), so a subscription fires exactly as an automation's trigger would. A
trigger only ever sees what the caller's ``TenantScope`` sees, so naming another tenant's entity simply never
fires. States and events in the variables are sent in Home Assistant's form (``state_dict``, ``event_dict``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import voluptuous as vol

from hub.auth.scope import TenantScope
from hub.automation.triggers import attach_all
from hub.core import Context, Event, State
from hub.http.websocket_messages import event_dict, state_dict

__all__ = ["TriggerAction", "attach_triggers", "valid_triggers"]

#: Called with the trigger variables and the context of what fired it.
TriggerAction = Callable[[dict[str, Any], Context | None], None]


def valid_triggers(value: Any) -> list[dict[str, Any]]:
    """One trigger or a list of them, each a mapping; the platforms check the rest when attaching."""
    configs = value if isinstance(value, list) else [value]
    for index, config in enumerate(configs):
        if not isinstance(config, Mapping):
            raise vol.Invalid("expected a trigger object", path=[index] if isinstance(value, list) else [])
    return [dict(config) for config in configs]


def attach_triggers(scope: TenantScope, configs: list[dict[str, Any]], action: TriggerAction) -> Callable[[], None]:
    """Validate and attach every enabled trigger; returns the function that detaches them all.

    Raises vol.Invalid whose path starts at ``trigger`` (``trigger[1].platform``) for the first bad one.
    """
    platforms = scope.hub.automations.platforms
    validated = []
    for index, config in enumerate(configs):
        try:
            validated.append(platforms.validate(config))
        except vol.Invalid as error:
            prefix: list[Any] = ["trigger", index] if len(configs) > 1 else ["trigger"]
            raise vol.Invalid(error.msg, path=[*prefix, *error.path]) from None

    def fired(variables: dict[str, Any], context: Context | None) -> None:
        trigger = {key: _wire(value) for key, value in variables.items()}
        action({"trigger": trigger}, context)

    caller = scope.caller
    return attach_all(
        scope.hub,
        platforms,
        validated,
        automation_id=f"subscribe_trigger {caller.name or caller.user_id}",
        tenant_id=scope.tenant_filter,
        scope=scope,
        fire=fired,
    )


def _wire(value: Any) -> Any:
    if isinstance(value, State):
        return state_dict(value)
    if isinstance(value, Event):
        return event_dict(value)
    if isinstance(value, dt.datetime):  # ``trigger.now`` of time triggers
        return value.isoformat()
    return value
