"""Fan-out of bus events to every WebSocket subscription: one bus listener per event type, however many clients.

Hundreds of dashboards follow the same state changes. Per event, the fan-out serialises the message body once
(the full event for ``subscribe_events``, the compressed diff for ``subscribe_entities``), asks the scope whether
the event is visible once per distinct caller kind (tenant, or platform administrator), and then only splices
each subscription's id in front and queues the text on its connection. Nothing here awaits: a slow client cannot
slow down the bus, it only fills its own bounded queue.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from hub.auth.scope import TenantScope
from hub.core import Event, Hub
from hub.http.websocket_messages import compressed_state, entities_tail, event_message, event_tail

if TYPE_CHECKING:
    from hub.http.websocket_api import ActiveConnection

__all__ = ["Fanout", "fanout_of"]

_FANOUT_KEY = "websocket_fanout"


class _Subscription:
    __slots__ = ("entities", "entity_ids", "id", "prefix", "scope", "send", "visibility")

    def __init__(
        self, connection: ActiveConnection, msg_id: int, *, entities: bool, entity_ids: Collection[str] | None
    ) -> None:
        self.id = msg_id
        self.prefix = f'{{"id":{msg_id},'
        self.send = connection.send_message
        self.scope: TenantScope = connection.scope
        caller = connection.scope.caller
        # Callers with the same key see the same events: the scope is asked once per key and event.
        self.visibility = (caller.platform_admin, caller.tenant_id)
        self.entities = entities
        self.entity_ids = entity_ids


class Fanout:
    """Subscriptions by event type (``*`` for all), each type with a single listener on the bus."""

    __slots__ = ("_hub", "_subscriptions", "_unlisten")

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._subscriptions: dict[str, tuple[_Subscription, ...]] = {}
        self._unlisten: dict[str, Callable[[], None]] = {}

    def subscribe_events(self, connection: ActiveConnection, msg_id: int, event_type: str) -> Callable[[], None]:
        """Events of ``event_type`` the connection's scope sees, as Home Assistant's ``event`` messages."""
        return self._add(event_type, _Subscription(connection, msg_id, entities=False, entity_ids=None))

    def subscribe_entities(
        self, connection: ActiveConnection, msg_id: int, entity_ids: Collection[str] | None
    ) -> Callable[[], None]:
        """State changes in ``subscribe_entities``' compressed form, for all visible entities or the ones named."""
        return self._add("state_changed", _Subscription(connection, msg_id, entities=True, entity_ids=entity_ids))

    def _add(self, event_type: str, subscription: _Subscription) -> Callable[[], None]:
        current = self._subscriptions.get(event_type, ())
        self._subscriptions[event_type] = (*current, subscription)
        if not current:
            self._unlisten[event_type] = self._hub.bus.listen(event_type, self._dispatcher(event_type))

        def remove() -> None:
            remaining = tuple(item for item in self._subscriptions.get(event_type, ()) if item is not subscription)
            if remaining:
                self._subscriptions[event_type] = remaining
                return
            self._subscriptions.pop(event_type, None)
            unlisten = self._unlisten.pop(event_type, None)
            if unlisten is not None:
                unlisten()

        return remove

    def _dispatcher(self, event_type: str) -> Callable[[Event[Any]], None]:
        subscriptions = self._subscriptions

        def dispatch(event: Event[Any]) -> None:
            visible: dict[tuple[bool, str | None], bool] = {}
            full: str | None = None
            diff: str | None = None
            data = event.data
            for subscription in subscriptions.get(event_type, ()):
                if subscription.entities:
                    entity_ids = subscription.entity_ids
                    if entity_ids is not None and data["entity_id"] not in entity_ids:
                        continue
                    old = data["old_state"]
                    if old is not None and old.tenant_id != event.tenant_id:  # moved between tenants: rare
                        _moved(subscription, event)
                        continue
                # Visibility depends only on the kind of caller: asked once per kind, not once per client.
                key = subscription.visibility
                seen = visible.get(key)
                if seen is None:
                    seen = visible[key] = subscription.scope.event_visible(event)
                if not seen:
                    continue
                if subscription.entities:
                    if diff is None:
                        diff = entities_tail(event)
                    subscription.send(subscription.prefix + diff)
                else:
                    if full is None:
                        full = event_tail(event)
                    subscription.send(subscription.prefix + full)

        return dispatch


def _moved(subscription: _Subscription, event: Event[Any]) -> None:
    """An entity changed tenant: it appears to its new tenant and disappears for its old one."""
    scope = subscription.scope
    entity_id = event.data["entity_id"]
    sees_new = scope.event_visible(event)
    sees_old = scope.sees(event.data["old_state"].tenant_id)
    if sees_new and sees_old:
        subscription.send(subscription.prefix + entities_tail(event))
    elif sees_new:
        new = event.data["new_state"]
        subscription.send(event_message(subscription.id, {"a": {entity_id: compressed_state(new)}}))
    elif sees_old:
        subscription.send(event_message(subscription.id, {"r": [entity_id]}))


def fanout_of(hub: Hub) -> Fanout:
    """The hub's fan-out, made on first use."""
    fanout: Fanout | None = hub.data.get(_FANOUT_KEY)
    if fanout is None:
        fanout = hub.data[_FANOUT_KEY] = Fanout(hub)
    return fanout
