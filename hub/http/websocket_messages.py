"""The WebSocket API's messages as JSON text, shaped exactly as Home Assistant shapes them.

Events reach many connections at once, so what does not depend on the subscriber (``event_tail``,
``entities_tail``) is serialised once per event by ``websocket_fanout``; each subscription only splices its id
in front, as Home Assistant's ``cached_event_message`` does. States are sent with ISO 8601 times in full form and as
float epoch seconds in the compressed form of ``subscribe_entities`` (``s``, ``a``, ``c``, ``lc``, ``lu``).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from hub.core import EVENT_STATE_CHANGED, Context, Event, State
from hub.http import dumps

__all__ = [
    "compressed_state",
    "context_dict",
    "entities_tail",
    "error_message",
    "event_dict",
    "event_message",
    "event_tail",
    "initial_entities_message",
    "iso_time",
    "pong_message",
    "result_message",
    "state_dict",
]

_UTC = datetime.UTC

# Error codes, as Home Assistant names them.
ERR_ID_REUSE = "id_reuse"
ERR_INVALID_FORMAT = "invalid_format"
ERR_NOT_FOUND = "not_found"
ERR_UNKNOWN_COMMAND = "unknown_command"
ERR_UNAUTHORIZED = "unauthorized"
ERR_HOME_ASSISTANT_ERROR = "home_assistant_error"
ERR_UNKNOWN_ERROR = "unknown_error"


def iso_time(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp, _UTC).isoformat()


_NO_CONTEXT: dict[str, Any] = {"id": None, "parent_id": None, "user_id": None}


def context_dict(context: Context | None) -> dict[str, Any]:
    """Home Assistant's context shape; what the hub did on its own has no context, so its id is null."""
    if context is None:
        return _NO_CONTEXT
    return {"id": context.id, "parent_id": context.parent_id, "user_id": context.user_id}


def state_dict(state: State) -> dict[str, Any]:
    """A state as Home Assistant's ``State.as_dict``: ISO times, the context without the tenant."""
    return {
        "entity_id": state.entity_id,
        "state": state.state,
        "attributes": state.attributes,
        "last_changed": iso_time(state.last_changed),
        "last_updated": iso_time(state.last_updated),
        "context": context_dict(state.context),
    }


def event_dict(event: Event[Any]) -> dict[str, Any]:
    """An event as Home Assistant sends it; ``state_changed`` carries its states in full form."""
    data: Mapping[str, Any] = event.data
    if event.event_type == EVENT_STATE_CHANGED:
        old, new = data["old_state"], data["new_state"]
        payload: dict[str, Any] = {
            "entity_id": data["entity_id"],
            "old_state": state_dict(old) if old is not None else None,
            "new_state": state_dict(new) if new is not None else None,
        }
    else:  # a State is a tuple underneath: JSON would make it a list, so give it its dict form
        payload = {key: state_dict(value) if isinstance(value, State) else value for key, value in data.items()}
    return {
        "event_type": event.event_type,
        "data": payload,
        "origin": "LOCAL",
        "time_fired": iso_time(event.time_fired),
        "context": context_dict(event.context),
    }


# ---------------------------------------------------------------------------------------------- messages


def result_message(msg_id: int, result: Any = None) -> str:
    return dumps({"id": msg_id, "type": "result", "success": True, "result": result})


def error_message(msg_id: int | None, code: str, message: str, fields: Mapping[str, str] | None = None) -> str:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = dict(fields)
    return dumps({"id": msg_id, "type": "result", "success": False, "error": error})


def event_message(msg_id: int, event: Any) -> str:
    return dumps({"id": msg_id, "type": "event", "event": event})


def pong_message(msg_id: int) -> str:
    return f'{{"id":{msg_id},"type":"pong"}}'


def event_tail(event: Event[Any]) -> str:
    """``"type":"event","event":{...}}``: the part of an event message every subscriber shares.

    A subscription's message is ``'{"id":<its id>,' + event_tail(event)``, so an event is serialised once.
    """
    return dumps({"type": "event", "event": event_dict(event)})[1:]


# ------------------------------------------------------------------------------------ compressed states


def _compressed_context(context: Context | None) -> str | dict[str, Any] | None:
    """Only the id when nobody caused the state; the whole context when a user or parent did."""
    if context is None:
        return None
    if context.parent_id is None and context.user_id is None:
        return context.id
    return {"id": context.id, "parent_id": context.parent_id, "user_id": context.user_id}


def compressed_state(state: State) -> dict[str, Any]:
    """Home Assistant's compressed state: ``lu`` only when it differs from ``lc``, ``c`` only with a context."""
    compressed: dict[str, Any] = {"s": state.state, "a": state.attributes}
    context = _compressed_context(state.context)
    if context is not None:
        compressed["c"] = context
    compressed["lc"] = state.last_changed
    if state.last_updated != state.last_changed:
        compressed["lu"] = state.last_updated
    return compressed


def _state_diff(old: State, new: State) -> dict[str, Any]:
    """What changed between two states of one entity: additions under ``+``, removed attributes under ``-``."""
    additions: dict[str, Any] = {}
    diff: dict[str, Any] = {"+": additions}
    if old.state != new.state:
        additions["s"] = new.state
    if old.last_changed != new.last_changed:
        additions["lc"] = new.last_changed
    elif old.last_updated != new.last_updated:
        additions["lu"] = new.last_updated
    old_context, new_context = old.context, new.context
    if new_context is not None:
        context: dict[str, Any] = {}
        if old_context is None or old_context.parent_id != new_context.parent_id:
            context["parent_id"] = new_context.parent_id
        if old_context is None or old_context.user_id != new_context.user_id:
            context["user_id"] = new_context.user_id
        if old_context is None or old_context.id != new_context.id:
            if context:
                context["id"] = new_context.id
            else:
                additions["c"] = new_context.id
        if context:
            additions["c"] = context
    old_attributes, new_attributes = old.attributes, new.attributes
    if old_attributes != new_attributes:
        added = {
            key: value
            for key, value in new_attributes.items()
            if key not in old_attributes or old_attributes[key] != value
        }
        if added:
            additions["a"] = added
        if removed := old_attributes.keys() - new_attributes.keys():
            diff["-"] = {"a": sorted(removed)}
    return diff


def entities_tail(event: Event[Any]) -> str:
    """The ``subscribe_entities`` payload of one ``state_changed`` event: added, changed or removed."""
    data = event.data
    entity_id: str = data["entity_id"]
    old, new = data["old_state"], data["new_state"]
    if new is None:
        changes: dict[str, Any] = {"r": [entity_id]}
    elif old is None:
        changes = {"a": {entity_id: compressed_state(new)}}
    else:
        changes = {"c": {entity_id: _state_diff(old, new)}}
    return dumps({"type": "event", "event": changes})[1:]


def initial_entities_message(msg_id: int, states: list[State]) -> str:
    """The first message of ``subscribe_entities``: every visible state, compressed, under ``a``."""
    return event_message(msg_id, {"a": {state.entity_id: compressed_state(state) for state in states}})
