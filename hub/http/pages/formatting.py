"""How states, times and numbers read on the dashboard: jinja2 filters, mirrored by ``frontend/static/js/format.js``.

The server renders a complete page (readable without JavaScript, checkable by tests); the scripts then rewrite
the same elements with the same words when states change, so both sides must agree on these rules.
"""

from __future__ import annotations

import datetime
import re
import time
from typing import Any

from hub.core import State
from hub.http.i18n import Translator

_NOT_CLASS_CHARACTERS = re.compile(r"[^a-z0-9_]+")

#: What ``on`` and ``off`` mean for a binary sensor of each device class, as Home Assistant words them.
BINARY_SENSOR_WORDS = {
    "connectivity": ("disconnected", "connected"),
    "door": ("closed", "open"),
    "lock": ("locked", "unlocked"),
    "motion": ("clear", "detected"),
    "occupancy": ("clear", "detected"),
    "opening": ("closed", "open"),
    "problem": ("ok", "problem"),
    "tamper": ("clear", "tampered"),
}
#: States that carry no value, so no unit either.
NO_VALUE_STATES = frozenset({"unknown", "unavailable"})
#: What a missing value reads as (an en dash, as typeset tables show one).
NO_VALUE = "\u2013"
#: Domains shown first, in this order: what a security officer looks at first.
DOMAIN_ORDER = ("lock", "camera", "binary_sensor", "sensor")


def state_word(state: State) -> str:
    """The state in words: a binary sensor's ``on`` of device class ``door`` reads ``open``."""
    if state.domain == "binary_sensor" and state.state in ("on", "off"):
        words = BINARY_SENSOR_WORDS.get(str(state.attributes.get("device_class")))
        if words is not None:
            return words[state.state == "on"]
    return state.state


def state_class(word: str) -> str:
    """A state as a CSS class suffix (``state-excellent``, ``state-unlocked``); format.js makes the same."""
    return _NOT_CLASS_CHARACTERS.sub("-", word.lower()).strip("-") or "empty"


def translated_word(word: str, t: Translator) -> str:
    """``locked`` reads ``verrouillé`` in French; states we have no word for (numbers, names) stay as they are."""
    return t.get(f"state.{word}", word)


def display_state(state: State, t: Translator) -> str:
    """The state as people read it: translated, with its unit when it has one (``21.5 °C``)."""
    unit = state.attributes.get("unit_of_measurement")
    word = state_word(state)
    text = translated_word(word, t)
    return f"{text} {unit}" if unit and word not in NO_VALUE_STATES else text


def is_numeric(state: State) -> bool:
    try:
        float(state.state)
    except ValueError:
        return False
    return True


def iso_time(timestamp: float | None) -> str:
    """ISO 8601 in UTC for ``<time datetime>``; the browser rewrites it in its own locale (format.js)."""
    if timestamp is None:
        return ""
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).isoformat(timespec="seconds")


def utc_text(timestamp: float | None) -> str:
    """What a ``<time>`` shows before the script formats it (and without JavaScript)."""
    if timestamp is None:
        return NO_VALUE
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def relative_time(timestamp: float, t: Translator, now: float | None = None) -> str:
    """``just now``, ``5 min ago``, ``3 h ago``, ``2 days ago``: the same words format.js writes."""
    seconds = max(0.0, (time.time() if now is None else now) - timestamp)
    if seconds < 45:
        return t("time.just_now")
    if seconds < 3600:
        return t("time.minutes_ago", n=max(1, int(seconds // 60)))
    if seconds < 86400:
        return t("time.hours_ago", n=int(seconds // 3600))
    days = int(seconds // 86400)
    return t("time.day_ago") if days == 1 else t("time.days_ago", n=days)


def number(value: Any, digits: int = 1) -> str:
    if value is None:
        return NO_VALUE
    return f"{float(value):.{digits}f}"


def domain_rank(domain: str) -> tuple[int, str]:
    return (DOMAIN_ORDER.index(domain) if domain in DOMAIN_ORDER else len(DOMAIN_ORDER), domain)


def sort_states(states: list[State]) -> list[State]:
    """Doors first, then cameras, contacts, sensors, others; by name within a domain."""
    return sorted(states, key=lambda state: (domain_rank(state.domain), state.name.lower(), state.entity_id))
