"""The WebSocket API's commands: one function each, registered with the schema of its message.

Adding a command is writing one function:

    @websocket_command({vol.Required("type"): "get_thing", vol.Required("thing_id"): str})
    def handle_get_thing(connection: ActiveConnection, msg: dict[str, Any]) -> None:
        connection.send_result(msg["id"], connection.scope.thing(msg["thing_id"]).as_dict())

The message is validated before the handler runs (``invalid_format`` names each field at fault); errors the
handler raises become Home Assistant's error codes in ``ActiveConnection.handle_exception``. A coroutine handler
runs as a task, so a slow service call does not hold up the connection. Every read goes through
``connection.scope``; subscriptions register their unsubscribe function in ``connection.subscriptions``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from hub.core import MATCH_ALL, Context
from hub.http import VERSION, dumps
from hub.http.api_services import describe
from hub.http.websocket_fanout import fanout_of
from hub.http.websocket_messages import (
    ERR_NOT_FOUND,
    context_dict,
    initial_entities_message,
    pong_message,
    state_dict,
)
from hub.http.websocket_triggers import attach_triggers, valid_triggers

if TYPE_CHECKING:
    from hub.http.websocket_api import ActiveConnection

__all__ = ["COMMANDS", "Command", "CommandHandler", "websocket_command"]

_LOGGER = logging.getLogger(__name__)

CommandHandler = Callable[["ActiveConnection", dict[str, Any]], Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class Command:
    handler: CommandHandler
    schema: vol.Schema


#: Every command by message type.
COMMANDS: dict[str, Command] = {}


def websocket_command(schema: dict[Any, Any]) -> Callable[[CommandHandler], CommandHandler]:
    """Register a handler for the message type named by the schema's ``type`` key (Home Assistant's style)."""
    msg_type = next(value for key, value in schema.items() if str(key) == "type")

    def register(handler: CommandHandler) -> CommandHandler:
        COMMANDS[msg_type] = Command(handler, vol.Schema({vol.Required("id"): int, **schema}))
        return handler

    return register


_ids = vol.All(vol.Any(str, [str]), lambda value: [value] if isinstance(value, str) else value)

# ------------------------------------------------------------------------------------------------- basics


@websocket_command({vol.Required("type"): "ping"})
def handle_ping(connection: ActiveConnection, msg: dict[str, Any]) -> None:
    connection.send_message(pong_message(msg["id"]))


@websocket_command({vol.Required("type"): "supported_features", vol.Required("features"): {str: int}})
def handle_supported_features(connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """``coalesce_messages: 1`` lets the hub send several queued messages as one JSON array frame."""
    connection.supported_features = msg["features"]
    connection.can_coalesce = bool(msg["features"].get("coalesce_messages"))
    connection.send_result(msg["id"])


@websocket_command({vol.Required("type"): "get_states"})
def handle_get_states(connection: ActiveConnection, msg: dict[str, Any]) -> None:
    states = sorted(connection.scope.states(), key=lambda state: state.entity_id)
    connection.send_result(msg["id"], [state_dict(state) for state in states])


@websocket_command({vol.Required("type"): "get_services"})
def handle_get_services(connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Every service by domain, with the fields its schema accepts (Home Assistant's shape)."""
    services = connection.hub.services.all()
    connection.send_result(
        msg["id"],
        {
            domain: {name: {"name": name, **describe(service)} for name, service in sorted(by_name.items())}
            for domain, by_name in sorted(services.items())
        },
    )


@websocket_command({vol.Required("type"): "get_config"})
def handle_get_config(connection: ActiveConnection, msg: dict[str, Any]) -> None:
    hub = connection.hub
    gatehouse = hub.config.get("gatehouse") or {}
    connection.send_result(
        msg["id"],
        {
            "location_name": gatehouse.get("name", "Gatehouse"),
            "time_zone": str(gatehouse.get("time_zone", "UTC")),
            "version": VERSION,
            "components": sorted(hub.plugins.integrations) if hasattr(hub, "plugins") else [],
            "state": hub.phase.value.upper(),
            "config_source": "yaml",
            "safe_mode": False,
            "recovery_mode": False,
        },
    )


# ---------------------------------------------------------------------------------------------- events


@websocket_command({vol.Required("type"): "subscribe_events", vol.Optional("event_type", default=MATCH_ALL): str})
def handle_subscribe_events(connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Forward the events the caller may see; each event is serialised once for every subscriber."""
    fanout = fanout_of(connection.hub)
    connection.subscriptions[msg["id"]] = fanout.subscribe_events(connection, msg["id"], msg["event_type"])
    connection.send_result(msg["id"])


@websocket_command({vol.Required("type"): "unsubscribe_events", vol.Required("subscription"): int})
def handle_unsubscribe_events(connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Ends any subscription (events, entities, triggers), as in Home Assistant."""
    unsubscribe = connection.subscriptions.pop(msg["subscription"], None)
    if unsubscribe is None:
        connection.send_error(msg["id"], ERR_NOT_FOUND, f"Subscription {msg['subscription']} not found.")
        return
    unsubscribe()
    connection.send_result(msg["id"])


@websocket_command({vol.Required("type"): "subscribe_entities", vol.Optional("entity_ids"): _ids})
def handle_subscribe_entities(connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """All visible states compressed under ``a`` first, then ``c`` diffs, ``a`` additions and ``r`` removals."""
    msg_id: int = msg["id"]
    wanted = frozenset(msg["entity_ids"]) if msg.get("entity_ids") else None
    connection.subscriptions[msg_id] = fanout_of(connection.hub).subscribe_entities(connection, msg_id, wanted)
    connection.send_result(msg_id)
    states = connection.scope.states()
    if wanted is not None:
        states = [state for state in states if state.entity_id in wanted]
    connection.send_message(initial_entities_message(msg_id, states))


@websocket_command(
    {
        vol.Required("type"): "subscribe_trigger",
        vol.Required("trigger"): valid_triggers,
        vol.Optional("variables"): dict,
    }
)
def handle_subscribe_trigger(connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Fire ``{"variables": {"trigger": ...}, "context": ...}`` each time one of the triggers matches."""
    msg_id: int = msg["id"]

    def forward(variables: dict[str, Any], context: Context | None) -> None:
        connection.send_message(dumps({"id": msg_id, "type": "event", "event": _trigger_event(variables, context)}))

    connection.subscriptions[msg_id] = attach_triggers(connection.scope, msg["trigger"], forward)
    connection.send_result(msg_id)


def _trigger_event(variables: dict[str, Any], context: Context | None) -> dict[str, Any]:
    return {"variables": variables, "context": context_dict(context)}


# ---------------------------------------------------------------------------------------------- services

_TARGET = vol.Schema({vol.Optional("entity_id"): _ids, vol.Optional("device_id"): _ids})


@websocket_command(
    {
        vol.Required("type"): "call_service",
        vol.Required("domain"): str,
        vol.Required("service"): str,
        vol.Optional("service_data"): dict,
        vol.Optional("target"): _TARGET,
        vol.Optional("return_response", default=False): bool,
    }
)
async def handle_call_service(connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Call a service as the connection's caller: operators and above, their own tenant's targets only."""
    caller = connection.caller
    context = caller.context()
    response = await connection.scope.call_service(
        msg["domain"], msg["service"], msg.get("service_data"), msg.get("target"), context=context
    )
    audit = getattr(getattr(connection.hub, "auth", None), "audit", None)
    if audit is not None:  # recorded before the reply, so a client that got its result finds the entry
        details = {"target": msg.get("target"), "via": "websocket"}
        target = f"{msg['domain']}.{msg['service']}"
        await audit.record(caller, "service.call", target=target, details=details, address=connection.address)
    connection.send_result(
        msg["id"], {"context": context_dict(context), "response": response if msg["return_response"] else None}
    )
