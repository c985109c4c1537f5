"""The Gatehouse trigger types, a default plugin of the ``automation_triggers`` hook: ``access``, ``detection``
and ``device`` (health).

They are registered like any plugin's (Datasette's ``default_*`` modules), so an integration adding its own
trigger type goes through the same door. Every filter key is optional: absent means any value, and an empty
list (what a blueprint's empty input gives) means any value too. Each trigger only hears its automation's
tenant (``context.scope``).

    triggers:
      - trigger: access
        device_id: 4f1c...          # one or a list
        person: [Alice, Bob]        # null: nobody was recognised
        granted: false
      - trigger: detection
        entity_id: camera.gate
        label: person
        min_confidence: 0.6
      - trigger: device
        to: offline
        for: {minutes: 5}
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from hub.access import EVENT_ACCESS
from hub.automation.keyed import listen_keyed
from hub.automation.triggers import Detach, TriggerContext, TriggerPlatform
from hub.automation.validators import duration, entity_ids, string_list
from hub.detection import EVENT_DETECTION
from hub.device_health import EVENT_DEVICE_HEALTH_CHANGED, HealthLevel
from hub.hookspecs import hookimpl

if TYPE_CHECKING:
    from hub.core import Event, Hub

PLATFORM_ACCESS = "access"
PLATFORM_DETECTION = "detection"
PLATFORM_DEVICE = "device"

DETECTION_TYPES = ("start", "update", "end")
HEALTH_LEVELS = tuple(level.value for level in HealthLevel)


def _optional_strings(value: Any) -> list[str] | None:
    """``person``: one name, a list of names, or null for "nobody was recognised"."""
    return None if value is None else string_list(value)


def _folded(values: Collection[str]) -> frozenset[str]:
    return frozenset(value.casefold() for value in values)


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], list[str]]:
    def check(value: Any) -> list[str]:
        items = string_list(value)
        for item in items:
            if item not in choices:
                raise vol.Invalid(f"{item!r} is not one of {', '.join(choices)}")
        return items

    return check


def _any_entity_ids(value: Any) -> list[str]:
    return [] if value in (None, [], "") else entity_ids(value)


# ---------------------------------------------------------------------------------------------- access

ACCESS_SCHEMA = vol.Schema(
    {
        vol.Optional("device_id"): string_list,
        vol.Optional("person"): _optional_strings,
        vol.Optional("person_id"): string_list,
        vol.Optional("method"): string_list,
        vol.Optional("door"): string_list,
        vol.Optional("granted"): bool,
        vol.Optional("direction"): vol.In(["in", "out"], msg="expected in or out"),
    }
)


def attach_access(hub: Hub, config: dict[str, Any], context: TriggerContext) -> Detach:
    """Fire on each ``access`` event (any brand of terminal) that matches every filter given."""
    devices = frozenset(config.get("device_id") or ())
    person_ids = frozenset(config.get("person_id") or ())
    methods = _folded(config.get("method") or ())
    doors = frozenset(config.get("door") or ())
    granted: bool | None = config.get("granted")
    direction: str | None = config.get("direction")
    unknown_only = "person" in config and config["person"] is None
    people = _folded(config.get("person") or ())
    scope = context.scope

    def matches(event: Event[Any]) -> bool:
        if not scope.event_visible(event):
            return False
        data = event.data
        person = data.get("person")
        return (
            (not devices or data.get("device_id") in devices)
            and (not unknown_only or not person)
            and (not people or (isinstance(person, str) and person.casefold() in people))
            and (not person_ids or str(data.get("person_id")) in person_ids)
            and (not methods or str(data.get("method", "")).casefold() in methods)
            and (not doors or str(data.get("door")) in doors)
            and (granted is None or bool(data.get("granted")) is granted)
            and (direction is None or data.get("direction") == direction)
        )

    def fire(event: Event[Any]) -> None:
        data = event.data
        who = data.get("person") or "an unknown person"
        verdict = "granted" if data.get("granted") else "denied"
        variables = {key: data.get(key) for key in ("device_id", "person", "person_id", "method", "granted",
                                                    "direction", "door", "reason", "time")}  # fmt: skip
        variables["event"] = event.as_dict()
        variables["description"] = f"access {verdict} to {who}"
        context.fire(variables, event.context)

    # Keyed on the device: 1,000 automations each on its own terminal cost one dict lookup per event, not 1,000 filters.
    return listen_keyed(hub, EVENT_ACCESS, "device_id", devices or None, fire, matches)


# ------------------------------------------------------------------------------------------- detection

DETECTION_SCHEMA = vol.Schema(
    {
        vol.Optional("entity_id"): _any_entity_ids,
        vol.Optional("label"): string_list,
        vol.Optional("min_confidence"): vol.All(
            vol.Coerce(float), vol.Range(min=0, max=1, msg="a confidence is between 0 and 1")
        ),
        vol.Optional("zone"): string_list,
        vol.Optional("type", default=["start"]): _one_of(DETECTION_TYPES),
    }
)


def attach_detection(hub: Hub, config: dict[str, Any], context: TriggerContext) -> Detach:
    """Fire on ``detection`` events of the cameras, labels and zones given, at or above ``min_confidence``.

    Only ``start`` events by default (a person appearing), so a person standing still does not fire each
    update; ``type: [start, update, end]`` hears all of them.
    """
    cameras = frozenset(config.get("entity_id") or ())
    labels = _folded(config.get("label") or ())
    zones = frozenset(config.get("zone") or ())
    types = frozenset(config["type"])
    minimum: float | None = config.get("min_confidence")
    scope = context.scope

    def matches(event: Event[Any]) -> bool:
        if not scope.event_visible(event):
            return False
        data = event.data
        if minimum is not None:
            confidence = data.get("confidence")
            if isinstance(confidence, bool) or not isinstance(confidence, int | float) or confidence < minimum:
                return False
        event_zones = data.get("zones") or ()
        return (
            (not cameras or data.get("camera") in cameras)
            and (not labels or str(data.get("label", "")).casefold() in labels)
            and (not zones or (isinstance(event_zones, list | tuple) and not zones.isdisjoint(event_zones)))
            and str(data.get("type") or "start") in types
        )

    def fire(event: Event[Any]) -> None:
        data = event.data
        camera = data.get("camera")
        variables = {
            "entity_id": camera,
            "camera": camera,
            "label": data.get("label"),
            "confidence": data.get("confidence"),
            "zones": list(data.get("zones") or ()),
            "type": data.get("type") or "start",
            "event": event.as_dict(),
            "description": f"{data.get('label')} detected on {camera}",
        }
        context.fire(variables, event.context)

    return hub.bus.listen(EVENT_DETECTION, fire, matches)


# ---------------------------------------------------------------------------------------- device health

DEVICE_SCHEMA = vol.Schema(
    {
        vol.Exclusive("device_id", "device", msg="give device_id or device_key, not both"): string_list,
        vol.Exclusive("device_key", "device", msg="give device_id or device_key, not both"): string_list,
        vol.Optional("to"): _one_of(HEALTH_LEVELS),
        vol.Optional("from"): _one_of(HEALTH_LEVELS),
        vol.Optional("for"): duration,
    }
)


def attach_device(hub: Hub, config: dict[str, Any], context: TriggerContext) -> Detach:
    """Fire when a device's health level changes as given; with ``for``, once it has stayed so that long.

    A device leaving the ``to`` levels before ``for`` is over cancels its wait; each device waits on its own.
    """
    device_ids = frozenset(config.get("device_id") or ())
    device_keys = frozenset(config.get("device_key") or ())
    to_levels = frozenset(config.get("to") or ())
    from_levels = frozenset(config.get("from") or ())
    hold = config.get("for")
    seconds = hold.total_seconds() if hold is not None else 0.0
    scope = context.scope
    waiting: dict[str, asyncio.TimerHandle] = {}

    def concerns(event: Event[Any]) -> bool:
        data = event.data
        return (
            scope.event_visible(event)
            and (not device_ids or data.get("device_id") in device_ids)
            and (not device_keys or data.get("device_key") in device_keys)
        )

    def variables_of(data: Mapping[str, Any], event: Event[Any]) -> dict[str, Any]:
        level = data.get("new_level")
        return {
            "device_id": data.get("device_id"),
            "device_key": data.get("device_key"),
            "from_level": data.get("old_level"),
            "to_level": level,
            "level": level,
            "error": data.get("error"),
            "for": seconds if hold is not None else None,
            "event": event.as_dict(),
            "description": f"{data.get('device_key')} is {level}" + (f" for {seconds:g} s" if hold else ""),
        }

    def elapsed(key: str, event: Event[Any]) -> None:
        waiting.pop(key, None)
        context.fire(variables_of(event.data, event), event.context)

    def changed(event: Event[Any]) -> None:
        data = event.data
        key = str(data.get("device_key"))
        level_matches = not to_levels or data.get("new_level") in to_levels
        if not level_matches:
            timer = waiting.pop(key, None)
            if timer is not None:
                timer.cancel()
            return
        if key in waiting:
            return  # still in a wanted level: the wait that started goes on
        if from_levels and data.get("old_level") not in from_levels:
            return
        if hold is None:
            context.fire(variables_of(data, event), event.context)
        else:
            waiting[key] = hub.loop.call_later(seconds, elapsed, key, event)

    unsubscribe = hub.bus.listen(EVENT_DEVICE_HEALTH_CHANGED, changed, concerns)

    def detach() -> None:
        unsubscribe()
        for timer in waiting.values():
            timer.cancel()
        waiting.clear()

    return detach


# ---------------------------------------------------------------------------------------------- plugin

PLATFORMS = (
    TriggerPlatform(PLATFORM_ACCESS, ACCESS_SCHEMA, attach_access, "A door terminal scan (any brand)"),
    TriggerPlatform(PLATFORM_DETECTION, DETECTION_SCHEMA, attach_detection, "An object detected on a camera"),
    TriggerPlatform(PLATFORM_DEVICE, DEVICE_SCHEMA, attach_device, "A device's health level, optionally for a time"),
)


@hookimpl
def automation_triggers() -> list[TriggerPlatform]:
    return list(PLATFORMS)
