"""Keyed listeners: many triggers on one event type, dispatched by the value of one data key.

A thousand automations each watching its own terminal's ``access`` events would otherwise put a thousand
filters on the bus, every one called for every event. ``listen_keyed`` keeps one bus listener per
(event type, key) and a dict from value to the triggers that want it, so an event costs one lookup plus the
filters of the triggers for its value (and of those that take any value).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any

from hub.core import Event, EventCallback, EventFilter, Hub

_DATA_KEY = "automation.keyed_listeners"
_ANY = object()

_Entry = tuple[EventCallback, EventFilter | None]


class _Dispatcher:
    __slots__ = ("by_value", "key", "remove")

    def __init__(self, key: str) -> None:
        self.key = key
        self.by_value: dict[Any, tuple[_Entry, ...]] = {}
        self.remove: Callable[[], None] | None = None

    def __call__(self, event: Event[Any]) -> None:
        value = event.data.get(self.key, _ANY)
        try:
            matched = self.by_value.get(value, ()) if value is not _ANY else ()
        except TypeError:  # an unhashable value (a list) matches only the triggers that take any value
            matched = ()
        for entries in (matched, self.by_value.get(_ANY, ())):
            for callback, event_filter in entries:
                if event_filter is None or event_filter(event):
                    callback(event)

    def add(self, value: Any, entry: _Entry) -> None:
        self.by_value[value] = (*self.by_value.get(value, ()), entry)

    def discard(self, value: Any, entry: _Entry) -> None:
        remaining = tuple(item for item in self.by_value.get(value, ()) if item is not entry)
        if remaining:
            self.by_value[value] = remaining
        else:
            self.by_value.pop(value, None)


def listen_keyed(
    hub: Hub,
    event_type: str,
    key: str,
    values: Iterable[Hashable] | None,
    callback: Callable[[Event[Any]], None],
    event_filter: EventFilter | None = None,
) -> Callable[[], None]:
    """Call ``callback`` for ``event_type`` events whose ``data[key]`` is one of ``values`` (None: any value)
    and that pass ``event_filter``; returns the function that stops. Callbacks run inline, in order."""
    dispatchers: dict[tuple[str, str], _Dispatcher] = hub.data.setdefault(_DATA_KEY, {})
    dispatcher = dispatchers.get((event_type, key))
    if dispatcher is None:
        dispatcher = dispatchers[(event_type, key)] = _Dispatcher(key)
        dispatcher.remove = hub.bus.listen(event_type, dispatcher)
    entry: _Entry = (callback, event_filter)
    keys: list[Any] = list(dict.fromkeys(values)) if values is not None else [_ANY]
    for value in keys:
        dispatcher.add(value, entry)

    def remove() -> None:
        for value in keys:
            dispatcher.discard(value, entry)
        if not dispatcher.by_value and dispatchers.get((event_type, key)) is dispatcher:
            del dispatchers[(event_type, key)]
            if dispatcher.remove is not None:
                dispatcher.remove()

    return remove
