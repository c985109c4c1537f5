"""The ``state``, ``event`` and ``template`` trigger platforms: they listen to the bus, tenant-scoped."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import voluptuous as vol

from hub.automation import validators as cv
from hub.automation.conditions import template_true
from hub.automation.keyed import listen_keyed
from hub.automation.templates import Template, helpers, render
from hub.automation.triggers import Detach, TriggerContext, TriggerPlatform
from hub.automation.zone import hub_zone
from hub.core import EVENT_STATE_CHANGED, Event, Hub, State

_LOGGER = logging.getLogger(__name__)

_STATES = vol.Any(None, cv.string_list)

STATE_SCHEMA = vol.Schema(
    {
        vol.Required("entity_id"): cv.entity_ids,
        vol.Optional("from"): _STATES,
        vol.Optional("to"): _STATES,
        vol.Optional("not_from"): cv.string_list,
        vol.Optional("not_to"): cv.string_list,
        vol.Optional("attribute"): cv.string,
        vol.Optional("for"): cv.duration,
    }
)
EVENT_SCHEMA = vol.Schema(
    {
        vol.Required("event_type"): cv.string_list,
        vol.Optional("event_data"): dict,
    }
)
TEMPLATE_SCHEMA = vol.Schema({vol.Required("value_template"): cv.template_string, vol.Optional("for"): cv.duration})


def _value(state: State | None, attribute: str | None) -> Any:
    if state is None:
        return None
    return state.attributes.get(attribute) if attribute else state.state


def _matches(value: Any, allowed: list[str] | None) -> bool:
    return allowed is None or (value is not None and str(value) in allowed) or (value is None and None in allowed)


def attach_state(hub: Hub, config: dict[str, Any], context: TriggerContext) -> Detach:
    entity_ids = frozenset(config["entity_id"])
    attribute = config.get("attribute")
    # Without from/to/attribute every change fires, attribute-only ones included; otherwise the value must change.
    match_all = not ({"from", "to", "not_from", "not_to"} & config.keys()) and attribute is None
    wanted_from, wanted_to = config.get("from"), config.get("to")
    not_from, not_to = config.get("not_from") or (), config.get("not_to") or ()
    hold = config.get("for")
    pending: dict[str, tuple[Any, Callable[[], None]]] = {}  # entity id -> (value waited on, cancel)
    scope = context.scope

    def relevant(event: Event[Any]) -> bool:
        return event.data["entity_id"] in entity_ids and scope.event_visible(event)

    def changed(event: Event[Any]) -> None:
        entity_id = event.data["entity_id"]
        old, new = event.data["old_state"], event.data["new_state"]
        old_value, new_value = _value(old, attribute), _value(new, attribute)
        waiting = pending.get(entity_id)
        if waiting is not None and new_value != waiting[0]:
            waiting[1]()
            pending.pop(entity_id, None)
        if not match_all and old_value == new_value:
            return
        if not _matches(old_value, wanted_from) or not _matches(new_value, wanted_to):
            return
        if str(old_value) in not_from or str(new_value) in not_to:
            return
        variables = {
            "entity_id": entity_id,
            "from_state": old,
            "to_state": new,
            "attribute": attribute,
            "for": hold.total_seconds() if hold is not None else None,
            "description": f"state of {entity_id}",
        }
        if hold is None:
            context.fire(variables, event.context)
            return
        if waiting is not None and entity_id in pending:
            return  # already timing this value

        def held() -> None:
            pending.pop(entity_id, None)
            context.fire(variables, event.context)

        handle = hub.loop.call_later(hold.total_seconds(), held)
        pending[entity_id] = (new_value, handle.cancel)

    remove = hub.bus.listen(EVENT_STATE_CHANGED, changed, relevant)

    def detach() -> None:
        remove()
        for _value_waited, cancel in pending.values():
            cancel()
        pending.clear()

    return detach


def data_matches(data: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Every key of ``wanted`` is in ``data`` with an equal value; nested mappings match as subsets too."""
    for key, value in wanted.items():
        if key not in data:
            return False
        actual = data[key]
        if isinstance(value, Mapping) and isinstance(actual, Mapping):
            if not data_matches(actual, value):
                return False
        elif actual != value:
            return False
    return True


def attach_event(hub: Hub, config: dict[str, Any], context: TriggerContext) -> Detach:
    wanted: Mapping[str, Any] = config.get("event_data") or {}
    scope = context.scope
    # Dispatch by the first plain value of event_data: a thousand automations on one event type, each for
    # its own device, then cost one dict lookup per event instead of a thousand filters.
    index = next(((k, v) for k, v in wanted.items() if isinstance(v, str | int | float | bool)), None)

    def relevant(event: Event[Any]) -> bool:
        return scope.event_visible(event) and (not wanted or data_matches(event.data, wanted))

    def fired(event: Event[Any]) -> None:
        context.fire({"event": event, "description": f"event '{event.event_type}'"}, event.context)

    if index is None:
        removers = [hub.bus.listen(event_type, fired, relevant) for event_type in config["event_type"]]
    else:
        removers = [
            listen_keyed(hub, event_type, index[0], [index[1]], fired, relevant) for event_type in config["event_type"]
        ]

    def detach() -> None:
        for remove in removers:
            remove()

    return detach


def attach_template(hub: Hub, config: dict[str, Any], context: TriggerContext) -> Detach:
    """Fires when the template goes from false to true; it is evaluated again on each of the tenant's changes."""
    template = Template(config["value_template"], f"triggers.{context.idx}.value_template")
    globals_ = helpers(hub, context.tenant_id, hub_zone(hub))
    hold = config.get("for")
    scope = context.scope

    def evaluate() -> bool:
        try:
            return template_true(render(template, globals_), globals_)
        except Exception as error:
            hub.loop.call_soon(_log_once, context.automation_id, str(error))
            return False

    last = evaluate()
    timer: list[Any] = []

    def changed(event: Event[Any]) -> None:
        nonlocal last
        now = evaluate()
        if now == last:
            return
        last = now
        while timer:
            timer.pop().cancel()
        if not now:
            return
        variables = {
            "entity_id": event.data["entity_id"],
            "from_state": event.data["old_state"],
            "to_state": event.data["new_state"],
            "for": hold.total_seconds() if hold is not None else None,
            "description": "template",
        }
        if hold is None:
            context.fire(variables, event.context)
        else:
            timer.append(hub.loop.call_later(hold.total_seconds(), context.fire, variables, event.context))

    remove = hub.bus.listen(EVENT_STATE_CHANGED, changed, scope.event_visible)

    def detach() -> None:
        remove()
        while timer:
            timer.pop().cancel()

    return detach


_logged: set[tuple[str, str]] = set()


def _log_once(automation_id: str, reason: str) -> None:
    if (automation_id, reason) not in _logged:
        _logged.add((automation_id, reason))
        _LOGGER.error("Automation %s: template trigger failed: %s", automation_id, reason)


PLATFORMS = [
    TriggerPlatform("state", STATE_SCHEMA, attach_state, "an entity's state or attribute changes (from/to/for)"),
    TriggerPlatform("event", EVENT_SCHEMA, attach_event, "an event of a type, with data matching a subset"),
    TriggerPlatform("template", TEMPLATE_SCHEMA, attach_template, "a template turns true"),
]
