"""Voluptuous validators shared by triggers, conditions and actions: durations, times of day, entity ids."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import voluptuous as vol

from hub.automation.templates import Template, is_template
from hub.core import valid_entity_id

_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def string(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise vol.Invalid("expected a string")
    return str(value)


def string_list(value: Any) -> list[str]:
    """One string or a list of them."""
    if isinstance(value, list):
        return [string(item) for item in value]
    return [string(value)]


def entity_id(value: Any) -> str:
    text = string(value).strip().lower()
    if not valid_entity_id(text):
        raise vol.Invalid(f"invalid entity id {value!r} (expected domain.object_id)")
    return text


def entity_ids(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [part for part in (item.strip() for item in value.split(",")) if part]
    if not isinstance(value, list) or not value:
        raise vol.Invalid("expected one entity id or a list of them")
    return [entity_id(item) for item in value]


def duration(value: Any) -> dt.timedelta:
    """Seconds, ``HH:MM[:SS[.fff]]`` or ``{days, hours, minutes, seconds, milliseconds}``; never negative."""
    if isinstance(value, dt.timedelta):
        result = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        result = dt.timedelta(seconds=value)
    elif isinstance(value, str):
        parts = value.strip().split(":")
        try:
            numbers = [float(part) for part in parts]
        except ValueError:
            raise vol.Invalid(f"invalid duration {value!r} (use seconds or HH:MM:SS)") from None
        if len(numbers) == 1:
            result = dt.timedelta(seconds=numbers[0])
        elif len(numbers) in (2, 3):
            hours, minutes, *seconds = numbers
            result = dt.timedelta(hours=hours, minutes=minutes, seconds=seconds[0] if seconds else 0)
        else:
            raise vol.Invalid(f"invalid duration {value!r} (use seconds or HH:MM:SS)")
    elif isinstance(value, dict):
        allowed = {"days", "hours", "minutes", "seconds", "milliseconds"}
        unknown = set(value) - allowed
        if unknown or not value:
            raise vol.Invalid(f"a duration mapping takes {', '.join(sorted(allowed))}")
        try:
            result = dt.timedelta(**{key: float(item) for key, item in value.items()})
        except (TypeError, ValueError):
            raise vol.Invalid("duration values must be numbers") from None
    else:
        raise vol.Invalid("expected a duration (seconds, HH:MM:SS or a mapping)")
    if result < dt.timedelta(0):
        raise vol.Invalid("a duration cannot be negative")
    return result


def duration_or_template(value: Any) -> dt.timedelta | str:
    """A duration, or a template (checked when it is rendered)."""
    if is_template(value):
        return str(value)
    return duration(value)


def render_duration(value: Any, variables: dict[str, Any]) -> dt.timedelta:
    """The duration of a validated value that may be a compiled template (vol.Invalid when it renders badly)."""
    if isinstance(value, Template):
        value = value.render(variables)
    return duration(value)


def time_of_day(value: Any) -> dt.time:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        # YAML 1.1 reads an unquoted 12:30 as the sexagesimal number 750, and 12:30:15 as 45015
        hours_minutes = value < 24 * 60
        seconds = value * 60 if hours_minutes else value
        value = f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    match = _TIME.match(string(value).strip())
    if match is None:
        raise vol.Invalid(f"invalid time {value!r} (use HH:MM or HH:MM:SS)")
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise vol.Invalid(f"invalid time {value!r}")
    return dt.time(hour, minute, second)


def time_or_entity(value: Any) -> dt.time | str:
    """``HH:MM[:SS]`` or the id of an entity whose state (or ``hour``/``minute``/``second`` attributes) is one."""
    if isinstance(value, str) and "." in value and ":" not in value:
        return entity_id(value)
    return time_of_day(value)


def weekdays(value: Any) -> list[str]:
    days = [day.lower() for day in string_list(value)]
    for day in days:
        if day not in WEEKDAYS:
            raise vol.Invalid(f"invalid weekday {day!r} (use {', '.join(WEEKDAYS)})")
    return days


def template_string(value: Any) -> str:
    """A value that must be a template (``value_template``, ``wait_template``)."""
    if isinstance(value, bool):
        return "{{ true }}" if value else "{{ false }}"
    text = string(value)
    if not is_template(text):
        raise vol.Invalid("expected a template ({{ ... }})")
    return text


def string_list_or_times(value: Any) -> list[Any]:
    """One value or a list, kept as they are for a per-item validator (``at: "07:00"`` or ``at: [...]``)."""
    return value if isinstance(value, list) else [value]
