"""Blueprint input selectors (Home Assistant's ``selector:`` format): what a value must be, and its form field.

A selector is a one-key mapping such as ``{entity: {filter: [{domain: lock}]}}``. ``check_selector`` validates
the selector itself when a blueprint is read, ``validate_value`` checks what a user gave for the input when an
automation expands the blueprint, and ``form_field`` describes the input for the dashboard's generated form.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import voluptuous as vol

from hub.core import valid_entity_id

#: Selector types and the form field type each becomes (the dashboard knows these field types).
FIELD_TYPES: dict[str, str] = {
    "entity": "entity",
    "device": "device",
    "text": "text",
    "template": "text",
    "number": "number",
    "boolean": "boolean",
    "select": "select",
    "time": "time",
    "duration": "duration",
    "object": "object",
    "action": "object",
    "condition": "object",
    "trigger": "object",
}

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")
_DURATION_KEYS = ("days", "hours", "minutes", "seconds", "milliseconds")


def check_selector(value: Any) -> dict[str, Any]:
    """A selector as written in a blueprint: exactly one known type, with a mapping (or nothing) as its options."""
    if not isinstance(value, Mapping) or len(value) != 1:
        raise vol.Invalid("a selector is one type with its options, such as 'entity: {domain: lock}'")
    ((kind, options),) = value.items()
    if kind not in FIELD_TYPES:
        raise vol.Invalid(f"unknown selector {kind!r}; known: {', '.join(sorted(FIELD_TYPES))}")
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        raise vol.Invalid(f"the options of the {kind} selector must be a mapping")
    if kind == "select":
        _options(options)  # refuse a select without options now, not when a user fills the form
    return {str(kind): dict(options)}


def selector_type(selector: Mapping[str, Any]) -> str:
    return next(iter(selector)) if selector else "object"


def _filters(options: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The entity/device filters: ``filter:`` (one or a list) and the older top-level keys alike."""
    found = options.get("filter") or []
    filters = [found] if isinstance(found, Mapping) else [item for item in found if isinstance(item, Mapping)]
    return [*filters, options]


def _values(filters: list[Mapping[str, Any]], key: str) -> list[str]:
    values: list[str] = []
    for item in filters:
        value = item.get(key)
        for one in [value] if isinstance(value, str) else value or []:
            if str(one) not in values:
                values.append(str(one))
    return values


def _options(options: Mapping[str, Any]) -> list[dict[str, str]]:
    raw = options.get("options")
    if not isinstance(raw, list) or not raw:
        raise vol.Invalid("a select selector needs a list of options")
    result = []
    for item in raw:
        if isinstance(item, Mapping):
            if "value" not in item:
                raise vol.Invalid("a select option written as a mapping needs a value")
            result.append({"value": str(item["value"]), "label": str(item.get("label", item["value"]))})
        else:
            result.append({"value": str(item), "label": str(item)})
    return result


def form_field(selector: Mapping[str, Any]) -> dict[str, Any]:
    """The form field of a selector: ``type`` plus what the form needs to offer and check the value."""
    kind = selector_type(selector)
    options: Mapping[str, Any] = selector.get(kind) or {}
    field: dict[str, Any] = {"type": FIELD_TYPES[kind], "selector": kind}
    if kind == "entity":
        filters = _filters(options)
        field.update(
            domain=_values(filters, "domain"),
            integration=_values(filters, "integration"),
            device_class=_values(filters, "device_class"),
            multiple=bool(options.get("multiple", False)),
        )
    elif kind == "device":
        filters = _filters(options)
        field.update(
            integration=_values(filters, "integration"),
            manufacturer=_values(filters, "manufacturer"),
            model=_values(filters, "model"),
            multiple=bool(options.get("multiple", False)),
        )
    elif kind == "number":
        field.update(
            min=options.get("min"),
            max=options.get("max"),
            step=options.get("step", 1),
            unit_of_measurement=options.get("unit_of_measurement"),
            mode=options.get("mode", "slider" if "min" in options and "max" in options else "box"),
        )
    elif kind == "select":
        field.update(
            options=_options(options),
            multiple=bool(options.get("multiple", False)),
            custom_value=bool(options.get("custom_value", False)),
        )
    elif kind in ("text", "template"):
        field.update(
            multiline=bool(options.get("multiline", kind == "template")), multiple=bool(options.get("multiple", False))
        )
    elif kind == "duration":
        field.update(enable_day=bool(options.get("enable_day", False)))
    return field


# ---------------------------------------------------------------------------------------------- values


def validate_value(selector: Mapping[str, Any], value: Any) -> Any:
    """The value a user gave for an input, checked against its selector (and normalised: times, durations).

    Raises ``vol.Invalid`` with a reason written for the person filling in the form.
    """
    kind = selector_type(selector)
    options: Mapping[str, Any] = selector.get(kind) or {}
    return _VALIDATORS[kind](options, value)


def _each(options: Mapping[str, Any], value: Any, check: Callable[[Any], Any]) -> Any:
    """One value, or a list of them where the selector allows ``multiple``."""
    if options.get("multiple"):
        items = value if isinstance(value, list) else [value]
        return [check(item) for item in items]
    if isinstance(value, list):
        raise vol.Invalid("expected one value, not a list")
    return check(value)


def _entity(options: Mapping[str, Any], value: Any) -> Any:
    domains = _values(_filters(options), "domain")

    def check(item: Any) -> str:
        if not isinstance(item, str) or not valid_entity_id(item):
            raise vol.Invalid(f"expected an entity id like 'lock.front_door', got {item!r}")
        if domains and item.partition(".")[0] not in domains:
            raise vol.Invalid(f"{item} is not a {' or '.join(domains)} entity")
        return str(item)

    return _each(options, value, check)


def _device(options: Mapping[str, Any], value: Any) -> Any:
    def check(item: Any) -> str:
        if not isinstance(item, str) or not item.strip():
            raise vol.Invalid(f"expected a device id, got {item!r}")
        return str(item)

    return _each(options, value, check)


def _text(options: Mapping[str, Any], value: Any) -> Any:
    def check(item: Any) -> str:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise vol.Invalid(f"expected text, got {item!r}")
        return str(item)

    return _each(options, value, check)


def _number(options: Mapping[str, Any], value: Any) -> float | int:
    if isinstance(value, bool):
        raise vol.Invalid("expected a number")
    if isinstance(value, str):
        try:
            value = float(value) if any(char in value for char in ".eE") else int(value)
        except ValueError:
            raise vol.Invalid(f"expected a number, got {value!r}") from None
    if not isinstance(value, int | float):
        raise vol.Invalid(f"expected a number, got {value!r}")
    low, high = options.get("min"), options.get("max")
    if low is not None and value < low:
        raise vol.Invalid(f"must be at least {low}")
    if high is not None and value > high:
        raise vol.Invalid(f"must be at most {high}")
    return value


def _boolean(options: Mapping[str, Any], value: Any) -> bool:
    if not isinstance(value, bool):
        raise vol.Invalid("expected true or false")
    return value


def _select(options: Mapping[str, Any], value: Any) -> Any:
    allowed = [option["value"] for option in _options(options)]

    def check(item: Any) -> str:
        if str(item) not in allowed and not options.get("custom_value"):
            raise vol.Invalid(f"{item!r} is not one of {', '.join(allowed)}")
        return str(item)

    return _each(options, value, check)


def _time(options: Mapping[str, Any], value: Any) -> str:
    match = _TIME.match(str(value).strip()) if isinstance(value, str) else None
    if match is None:
        raise vol.Invalid(f"expected a time of day as HH:MM or HH:MM:SS, got {value!r}")
    hours, minutes, seconds = match.groups()
    return f"{int(hours):02d}:{minutes}:{seconds or '00'}"


def _duration(options: Mapping[str, Any], value: Any) -> dict[str, float | int]:
    """``{hours: 1, minutes: 30}`` (as Home Assistant's duration selector gives), ``"01:30:00"`` or seconds."""
    if isinstance(value, Mapping):
        unknown = [key for key in value if key not in _DURATION_KEYS]
        if unknown or not value:
            raise vol.Invalid(
                f"a duration has {', '.join(_DURATION_KEYS)}; got {', '.join(map(str, unknown)) or 'none'}"
            )
        result = {}
        for key, amount in value.items():
            if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0:
                raise vol.Invalid(f"duration {key} must be a number of zero or more, got {amount!r}")
            result[str(key)] = amount
        return result
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return {"seconds": value}
    if isinstance(value, str):
        parts = value.strip().split(":")
        if 2 <= len(parts) <= 3 and all(part.isdigit() for part in parts):
            numbers = [int(part) for part in parts] + [0] * (3 - len(parts))
            return {"hours": numbers[0], "minutes": numbers[1], "seconds": numbers[2]}
    raise vol.Invalid(f"expected a duration such as {{minutes: 5}}, '00:05:00' or 300 seconds, got {value!r}")


def _any(options: Mapping[str, Any], value: Any) -> Any:
    return value


def _template(options: Mapping[str, Any], value: Any) -> str:
    if not isinstance(value, str):
        raise vol.Invalid("expected a template (text)")
    return value


def _steps(options: Mapping[str, Any], value: Any) -> Any:
    if not isinstance(value, list | Mapping):
        raise vol.Invalid("expected a list of steps or one step")
    return value


_VALIDATORS: dict[str, Callable[[Mapping[str, Any], Any], Any]] = {
    "entity": _entity,
    "device": _device,
    "text": _text,
    "template": _template,
    "number": _number,
    "boolean": _boolean,
    "select": _select,
    "time": _time,
    "duration": _duration,
    "object": _any,
    "action": _steps,
    "condition": _steps,
    "trigger": _steps,
}
