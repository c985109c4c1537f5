"""Conditions: ``state``, ``numeric_state``, ``template``, ``time``, ``trigger``, ``and``/``or``/``not``.

A bare template string is shorthand for a ``template`` condition, and ``and: [...]`` / ``or:`` / ``not:`` for
the logical ones, as in Home Assistant. ``validate_condition`` checks the configuration when the automation is
loaded; ``check`` evaluates it during a run and records one trace step per condition.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from typing import Any, Protocol

import voluptuous as vol

from hub.automation import validators as cv
from hub.automation.templates import Template, TenantStates
from hub.automation.trace import Trace

LOGICAL = ("and", "or", "not")


class ConditionEnv(Protocol):
    """What evaluating a condition needs from the run: the tenant's states, the clock, the variables."""

    @property
    def states(self) -> TenantStates: ...
    @property
    def trace(self) -> Trace: ...
    def now(self) -> dt.datetime: ...
    def template_variables(self) -> dict[str, Any]: ...


_COMMON: dict[Any, Any] = {vol.Optional("alias"): str, vol.Optional("enabled"): bool}

STATE_SCHEMA = vol.Schema(
    {
        vol.Required("condition"): "state",
        vol.Required("entity_id"): cv.entity_ids,
        vol.Required("state"): vol.Any(None, cv.string_list),
        vol.Optional("attribute"): str,
        vol.Optional("for"): cv.duration,
        vol.Optional("match", default="all"): vol.In(("all", "any")),
        **_COMMON,
    }
)
NUMERIC_STATE_SCHEMA = vol.All(
    vol.Schema(
        {
            vol.Required("condition"): "numeric_state",
            vol.Required("entity_id"): cv.entity_ids,
            vol.Optional("attribute"): str,
            vol.Optional("above"): vol.Coerce(float),
            vol.Optional("below"): vol.Coerce(float),
            **_COMMON,
        }
    ),
    vol.Any(
        vol.Schema({vol.Required("above"): object}, extra=vol.ALLOW_EXTRA),
        vol.Schema({vol.Required("below"): object}, extra=vol.ALLOW_EXTRA),
        msg="numeric_state needs 'above' or 'below'",
    ),
)
TEMPLATE_SCHEMA = vol.Schema(
    {vol.Required("condition"): "template", vol.Required("value_template"): cv.template_string, **_COMMON}
)
TIME_SCHEMA = vol.Schema(
    {
        vol.Required("condition"): "time",
        vol.Optional("after"): cv.time_or_entity,
        vol.Optional("before"): cv.time_or_entity,
        vol.Optional("weekday"): cv.weekdays,
        **_COMMON,
    }
)
TRIGGER_SCHEMA = vol.Schema({vol.Required("condition"): "trigger", vol.Required("id"): cv.string_list, **_COMMON})
_SCHEMAS: dict[str, Any] = {
    "state": STATE_SCHEMA,
    "numeric_state": NUMERIC_STATE_SCHEMA,
    "template": TEMPLATE_SCHEMA,
    "time": TIME_SCHEMA,
    "trigger": TRIGGER_SCHEMA,
}


def validate_condition(value: Any) -> dict[str, Any]:
    """One condition, shorthands expanded; raises vol.Invalid with a path relative to the condition."""
    if isinstance(value, str):
        return TEMPLATE_SCHEMA({"condition": "template", "value_template": value})
    if not isinstance(value, Mapping):
        raise vol.Invalid("expected a condition (a mapping with 'condition:' or a template string)")
    value = dict(value)
    if "condition" not in value:
        shorthand = [key for key in LOGICAL if key in value]
        if len(shorthand) == 1:
            kind = shorthand[0]
            value = {"condition": kind, "conditions": value.pop(kind), **value}
        else:
            raise vol.Invalid("a condition needs 'condition:'", path=["condition"])
    kind = value["condition"]
    if kind in LOGICAL:
        return _validate_logical(value)
    schema = _SCHEMAS.get(kind) if isinstance(kind, str) else None
    if schema is None:
        known = ", ".join([*LOGICAL, *_SCHEMAS])
        raise vol.Invalid(f"unknown condition {kind!r} (known: {known})", path=["condition"])
    return schema(value)


def _validate_logical(value: dict[str, Any]) -> dict[str, Any]:
    unknown = set(value) - {"condition", "conditions", "alias", "enabled"}
    if unknown:
        raise vol.Invalid("unknown key", path=[sorted(unknown)[0]])
    items = value.get("conditions")
    if items is None:
        raise vol.Invalid("required", path=["conditions"])
    items = items if isinstance(items, list) else [items]
    validated = []
    for index, item in enumerate(items):
        try:
            validated.append(validate_condition(item))
        except vol.Invalid as error:
            raise vol.Invalid(error.msg, path=["conditions", index, *error.path]) from None
    return {**value, "conditions": validated}


def validate_conditions(value: Any) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else [value]
    validated = []
    for index, item in enumerate(items):
        try:
            validated.append(validate_condition(item))
        except vol.Invalid as error:
            raise vol.Invalid(error.msg, path=[index, *error.path]) from None
    return validated


# -------------------------------------------------------------------------------------------- evaluation


def check_all(conditions: list[dict[str, Any]], env: ConditionEnv, path: str) -> bool:
    """True when every enabled condition holds; each is traced at ``{path}/{index}``."""
    return all(check(condition, env, f"{path}/{index}") for index, condition in enumerate(conditions))


def check(condition: dict[str, Any], env: ConditionEnv, path: str) -> bool:
    """Evaluate one condition and trace it; a disabled condition holds. TemplateError propagates."""
    step = env.trace.step(path)
    if condition.get("enabled") is False:
        step.result = {"result": True, "enabled": False}
        return True
    try:
        result = _evaluate(condition, env, path)
    except Exception as error:
        step.error = str(error)
        raise
    step.result = {"result": result}
    return result


def _evaluate(condition: dict[str, Any], env: ConditionEnv, path: str) -> bool:
    kind = condition["condition"]
    if kind == "and":
        return all(check(item, env, f"{path}/conditions/{i}") for i, item in enumerate(condition["conditions"]))
    if kind == "or":
        return any(check(item, env, f"{path}/conditions/{i}") for i, item in enumerate(condition["conditions"]))
    if kind == "not":
        return not any(check(item, env, f"{path}/conditions/{i}") for i, item in enumerate(condition["conditions"]))
    if kind == "template":
        return template_true(condition["value_template"], env.template_variables())
    if kind == "state":
        return _state(condition, env)
    if kind == "numeric_state":
        return _numeric_state(condition, env)
    if kind == "time":
        return _time(condition, env)
    if kind == "trigger":
        trigger = env.template_variables().get("trigger") or {}
        return str(trigger.get("id")) in condition["id"]
    raise ValueError(f"unknown condition {kind!r}")


def template_true(template: Any, variables: Mapping[str, Any]) -> bool:
    """Home Assistant's truthiness of a rendered template: true, yes, on, enable or a non-zero number."""
    value = template.render(variables) if isinstance(template, Template) else template
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "on", "enable", "1")
    if isinstance(value, int | float):
        return value != 0
    return bool(value)


def _state(condition: dict[str, Any], env: ConditionEnv) -> bool:
    wanted = condition["state"]
    attribute = condition.get("attribute")
    hold = condition.get("for")
    results = []
    for entity_id in condition["entity_id"]:
        state = env.states.get(entity_id)
        if state is None:
            results.append(False)
            continue
        value = state.attributes.get(attribute) if attribute else state.state
        matched = (value is None) if wanted is None else (str(value) in wanted or value in wanted)
        if matched and hold is not None:
            matched = time.time() - state.last_changed >= hold.total_seconds()
        results.append(matched)
    return any(results) if condition["match"] == "any" else all(results)


def _numeric_state(condition: dict[str, Any], env: ConditionEnv) -> bool:
    attribute = condition.get("attribute")
    for entity_id in condition["entity_id"]:
        state = env.states.get(entity_id)
        if state is None:
            return False
        try:
            number = float(state.attributes.get(attribute) if attribute else state.state)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
        if "above" in condition and not number > condition["above"]:
            return False
        if "below" in condition and not number < condition["below"]:
            return False
    return True


def _time(condition: dict[str, Any], env: ConditionEnv) -> bool:
    now = env.now()
    if "weekday" in condition and cv.WEEKDAYS[now.weekday()] not in condition["weekday"]:
        return False
    after = _time_value(condition.get("after"), env) or dt.time(0)
    before = _time_value(condition.get("before"), env) or dt.time(23, 59, 59, 999999)
    current = now.time().replace(tzinfo=None)
    if after <= before:
        return after <= current < before if "before" in condition else after <= current
    return current >= after or current < before  # crosses midnight: 22:00 to 06:00


def _time_value(value: Any, env: ConditionEnv) -> dt.time | None:
    if value is None or isinstance(value, dt.time):
        return value
    return entity_time(env.states, value)


def entity_time(states: TenantStates, entity_id: str) -> dt.time | None:
    """The time of day an input_datetime-like entity holds: its state ``HH:MM[:SS]`` or ISO datetime, or
    ``hour``/``minute``/``second`` attributes."""
    state = states.get(entity_id)
    if state is None:
        return None
    attributes = state.attributes
    if "hour" in attributes and "minute" in attributes:
        try:
            return dt.time(int(attributes["hour"]), int(attributes["minute"]), int(attributes.get("second", 0)))
        except (TypeError, ValueError):
            return None
    text = state.state
    try:
        return cv.time_of_day(text)
    except vol.Invalid:
        pass
    try:
        return dt.datetime.fromisoformat(text).time().replace(tzinfo=None)
    except ValueError:
        return None
