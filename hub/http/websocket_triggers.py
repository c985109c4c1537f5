"""Triggers for ``subscribe_trigger``: the ``state`` and ``event`` platforms, scoped to the caller's tenant.

A stop-gap until the automation engine owns trigger platforms: it validates a trigger configuration the way Home
Assistant does and fires the same ``{"trigger": {...}}`` variables. A trigger only ever sees events its
``TenantScope`` sees, so naming another tenant's entity simply never fires.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import voluptuous as vol

from hub.auth.scope import TenantScope
from hub.core import EVENT_STATE_CHANGED, Context, Event
from hub.http.websocket_messages import event_dict, state_dict

__all__ = ["PLATFORMS", "TriggerAction", "attach_triggers", "valid_triggers"]

#: Called with the trigger variables and the context of what fired it.
TriggerAction = Callable[[dict[str, Any], Context | None], None]

_strings = vol.All(vol.Any(str, [str]), lambda value: [value] if isinstance(value, str) else value)
_states = vol.Any(None, _strings)


def _no_for(value: Any) -> Any:
    raise vol.Invalid("'for' is not supported yet: subscribe to the state and time it on the client")


_COMMON: dict[Any, Any] = {vol.Optional("id"): str, vol.Optional("alias"): str, vol.Optional("enabled"): bool}
STATE_SCHEMA = vol.Schema(
    {
        vol.Required("platform"): "state",
        vol.Required("entity_id"): _strings,
        vol.Optional("from"): _states,
        vol.Optional("to"): _states,
        vol.Optional("for"): _no_for,
        **_COMMON,
    }
)
EVENT_SCHEMA = vol.Schema(
    {
        vol.Required("platform"): "event",
        vol.Required("event_type"): _strings,
        vol.Optional("event_data"): {str: object},
        **_COMMON,
    }
)
PLATFORMS: dict[str, vol.Schema] = {"state": STATE_SCHEMA, "event": EVENT_SCHEMA}


def valid_triggers(value: Any) -> list[dict[str, Any]]:
    """One trigger or a list of them; ``trigger:`` is accepted for ``platform:`` as Home Assistant now writes it."""
    configs = value if isinstance(value, list) else [value]
    validated = []
    for index, config in enumerate(configs):
        path: list[Any] = [index] if isinstance(value, list) else []
        if not isinstance(config, Mapping):
            raise vol.Invalid("expected a trigger object", path=path)
        config = dict(config)
        if "trigger" in config and "platform" not in config:
            config["platform"] = config.pop("trigger")
        platform = config.get("platform")
        schema = PLATFORMS.get(platform) if isinstance(platform, str) else None
        if schema is None:
            raise vol.Invalid(f"unknown trigger platform {platform!r}", path=[*path, "platform"])
        try:
            validated.append(schema(config))
        except vol.MultipleInvalid as error:
            raise vol.MultipleInvalid(
                [vol.Invalid(item.msg, path=path + list(item.path)) for item in error.errors]
            ) from None
    return validated


def attach_triggers(scope: TenantScope, configs: list[dict[str, Any]], action: TriggerAction) -> Callable[[], None]:
    """Listen for every enabled trigger; returns the function that detaches them all."""
    detach = [
        _ATTACH[config["platform"]](scope, config, str(index), action)
        for index, config in enumerate(configs)
        if config.get("enabled", True)
    ]

    def detach_all() -> None:
        for remove in detach:
            remove()

    return detach_all


def _matcher(expected: list[str] | None) -> Callable[[str | None], bool]:
    if expected is None:
        return lambda state: True
    allowed = frozenset(expected)
    return lambda state: state in allowed


def _attach_state(scope: TenantScope, config: dict[str, Any], idx: str, action: TriggerAction) -> Callable[[], None]:
    entity_ids = frozenset(config["entity_id"])
    # Without from/to every change fires, attribute-only ones included; with either, the state must change.
    match_all = "from" not in config and "to" not in config
    match_from, match_to = _matcher(config.get("from")), _matcher(config.get("to"))

    def relevant(event: Event[Any]) -> bool:
        return event.data["entity_id"] in entity_ids and scope.event_visible(event)

    def fire(event: Event[Any]) -> None:
        old, new = event.data["old_state"], event.data["new_state"]
        if not match_all and old is not None and new is not None and old.state == new.state:
            return
        if not match_from(old.state if old is not None else None) or not match_to(
            new.state if new is not None else None
        ):
            return
        entity_id = event.data["entity_id"]
        trigger = {
            "id": config.get("id", idx),
            "idx": idx,
            "alias": config.get("alias"),
            "platform": "state",
            "entity_id": entity_id,
            "from_state": state_dict(old) if old is not None else None,
            "to_state": state_dict(new) if new is not None else None,
            "for": None,
            "attribute": None,
            "description": f"state of {entity_id}",
        }
        action({"trigger": trigger}, event.context)

    return scope.hub.bus.listen(EVENT_STATE_CHANGED, fire, relevant)


def _attach_event(scope: TenantScope, config: dict[str, Any], idx: str, action: TriggerAction) -> Callable[[], None]:
    wanted: Mapping[str, Any] = config.get("event_data") or {}

    def relevant(event: Event[Any]) -> bool:
        if not scope.event_visible(event):
            return False
        data = event.data
        return all(key in data and data[key] == value for key, value in wanted.items())

    def fire(event: Event[Any]) -> None:
        trigger = {
            "id": config.get("id", idx),
            "idx": idx,
            "alias": config.get("alias"),
            "platform": "event",
            "event": event_dict(event),
            "description": f"event '{event.event_type}'",
        }
        action({"trigger": trigger}, event.context)

    removers = [scope.hub.bus.listen(event_type, fire, relevant) for event_type in config["event_type"]]

    def remove_all() -> None:
        for remove in removers:
            remove()

    return remove_all


_ATTACH: dict[str, Callable[[TenantScope, dict[str, Any], str, TriggerAction], Callable[[], None]]] = {
    "state": _attach_state,
    "event": _attach_event,
}
