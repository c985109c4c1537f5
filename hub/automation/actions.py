"""Validating actions (a script): service calls, delay, waits, choose, if, repeat, event, variables, stop...

``ActionValidator.sequence`` checks a list of actions when the automation is loaded and raises vol.Invalid
whose path names the bad key (``[2, "action"]`` becomes ``actions.2.action``). Unknown services are refused
here, against the services registered at load time. The schemas are built once, at import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import voluptuous as vol

from hub.automation import validators as cv
from hub.automation.conditions import validate_condition, validate_conditions
from hub.automation.const import MAX_REPEAT
from hub.automation.templates import is_template
from hub.automation.triggers import TriggerPlatforms
from hub.core import ServiceRegistry

#: The key that tells each action type apart, in the order Home Assistant checks them.
ACTION_KEYS = (
    "action",
    "service",
    "delay",
    "wait_template",
    "wait_for_trigger",
    "event",
    "condition",
    "choose",
    "if",
    "repeat",
    "variables",
    "stop",
    "parallel",
    "sequence",
)


def action_type(action: Mapping[str, Any]) -> str:
    for key in ACTION_KEYS:
        if key in action:
            return "service" if key == "action" else key
    raise vol.Invalid(f"unknown action: give one of {', '.join(ACTION_KEYS)}")


def _service_name(value: Any) -> str:
    text = cv.string(value).strip()
    if is_template(text):
        return text
    domain, dot, service = text.partition(".")
    if not dot or not domain or not service:
        raise vol.Invalid(f"invalid service {value!r} (expected domain.service)")
    return text


_COMMON: dict[Any, Any] = {
    vol.Optional("alias"): str,
    vol.Optional("enabled"): bool,
    vol.Optional("continue_on_error"): bool,
}
_WAIT: dict[Any, Any] = {
    vol.Optional("timeout"): cv.duration_or_template,
    vol.Optional("continue_on_timeout", default=True): bool,
    **_COMMON,
}
_TARGET = vol.Schema(
    {
        vol.Optional("entity_id"): vol.Any(cv.template_string, cv.entity_ids),
        vol.Optional("device_id"): vol.Any(str, [str]),
    }
)
SERVICE_SCHEMA = vol.Schema(
    {
        vol.Required("action"): _service_name,
        vol.Optional("target"): _TARGET,
        vol.Optional("data"): vol.Any(dict, cv.template_string),
        vol.Optional("data_template"): dict,
        vol.Optional("entity_id"): vol.Any(cv.template_string, cv.entity_ids),
        vol.Optional("device_id"): vol.Any(str, [str]),
        vol.Optional("response_variable"): str,
        **_COMMON,
    }
)
DELAY_SCHEMA = vol.Schema({vol.Required("delay"): cv.duration_or_template, **_COMMON})
WAIT_TEMPLATE_SCHEMA = vol.Schema({vol.Required("wait_template"): cv.template_string, **_WAIT})
WAIT_FOR_TRIGGER_SCHEMA = vol.Schema({vol.Required("wait_for_trigger"): object, **_WAIT})
EVENT_SCHEMA = vol.Schema(
    {
        vol.Required("event"): cv.string,
        vol.Optional("event_data"): dict,
        vol.Optional("event_data_template"): dict,
        **_COMMON,
    }
)
CHOOSE_SCHEMA = vol.Schema({vol.Required("choose"): object, vol.Optional("default"): object, **_COMMON})
IF_SCHEMA = vol.Schema(
    {vol.Required("if"): object, vol.Required("then"): object, vol.Optional("else"): object, **_COMMON}
)
REPEAT_SCHEMA = vol.Schema({vol.Required("repeat"): dict, **_COMMON})
VARIABLES_SCHEMA = vol.Schema({vol.Required("variables"): dict, **_COMMON})
STOP_SCHEMA = vol.Schema(
    {
        vol.Required("stop"): cv.string,
        vol.Optional("error", default=False): bool,
        **_COMMON,
    }
)
PARALLEL_SCHEMA = vol.Schema({vol.Required("parallel"): object, **_COMMON})
SEQUENCE_SCHEMA = vol.Schema({vol.Required("sequence"): object, **_COMMON})


def _checked(schema: vol.Schema, value: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = schema(value)
    return result


class ActionValidator:
    """Checks actions against the trigger platforms (for ``wait_for_trigger``) and the registered services."""

    def __init__(self, platforms: TriggerPlatforms, services: ServiceRegistry) -> None:
        self._platforms = platforms
        self._services = services

    def sequence(self, value: Any) -> list[dict[str, Any]]:
        items = value if isinstance(value, list) else [value]
        validated = []
        for index, item in enumerate(items):
            try:
                validated.append(self.action(item))
            except vol.Invalid as error:
                raise vol.Invalid(error.msg, path=[index, *error.path]) from None
        return validated

    def action(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise vol.Invalid("expected an action (a mapping such as 'action: light.turn_on')")
        value = dict(value)
        validate: Callable[[dict[str, Any]], dict[str, Any]] = getattr(self, f"_{action_type(value)}")
        return validate(value)

    # ----------------------------------------------------------------------------------------- types

    def _service(self, value: dict[str, Any]) -> dict[str, Any]:
        if "action" in value and "service" in value:
            raise vol.Invalid("give 'action' or 'service', not both", path=["service"])
        key = "action" if "action" in value else "service"
        value["action"] = value.pop(key)
        try:
            validated = _checked(SERVICE_SCHEMA, value)
        except vol.Invalid as error:
            if key == "service" and getattr(error, "path", None) == ["action"]:
                raise vol.Invalid(error.msg, path=["service"]) from None
            raise
        name = validated["action"]
        if not is_template(name):
            domain, _, service = name.partition(".")
            if not self._services.has(domain, service):
                raise vol.Invalid(f"unknown service {name!r}", path=[key])
        return validated

    def _delay(self, value: dict[str, Any]) -> dict[str, Any]:
        return _checked(DELAY_SCHEMA, value)

    def _wait_template(self, value: dict[str, Any]) -> dict[str, Any]:
        return _checked(WAIT_TEMPLATE_SCHEMA, value)

    def _wait_for_trigger(self, value: dict[str, Any]) -> dict[str, Any]:
        validated = _checked(WAIT_FOR_TRIGGER_SCHEMA, value)
        triggers = validated["wait_for_trigger"]
        triggers = triggers if isinstance(triggers, list) else [triggers]
        checked = []
        for index, trigger in enumerate(triggers):
            try:
                checked.append(self._platforms.validate(trigger))
            except vol.Invalid as error:
                raise vol.Invalid(error.msg, path=["wait_for_trigger", index, *error.path]) from None
        validated["wait_for_trigger"] = checked
        return validated

    def _event(self, value: dict[str, Any]) -> dict[str, Any]:
        return _checked(EVENT_SCHEMA, value)

    def _condition(self, value: dict[str, Any]) -> dict[str, Any]:
        extra = {key: value.pop(key) for key in ("continue_on_error",) if key in value}
        return {**validate_condition(value), **extra}

    def _choose(self, value: dict[str, Any]) -> dict[str, Any]:
        validated = _checked(CHOOSE_SCHEMA, value)
        options = validated["choose"] if isinstance(validated["choose"], list) else [validated["choose"]]
        checked = []
        for index, option in enumerate(options):
            if not isinstance(option, Mapping):
                raise vol.Invalid("expected an option with 'conditions' and 'sequence'", path=["choose", index])
            unknown = set(option) - {"conditions", "condition", "sequence", "alias"}
            if unknown:
                raise vol.Invalid("unknown key", path=["choose", index, sorted(unknown)[0]])
            conditions_key = "conditions" if "conditions" in option else "condition"
            for required in (conditions_key, "sequence"):
                if required not in option:
                    raise vol.Invalid("required", path=["choose", index, required])
            checked.append(
                {
                    "conditions": self._nested(
                        validate_conditions, option[conditions_key], ["choose", index, conditions_key]
                    ),
                    "sequence": self._nested(self.sequence, option["sequence"], ["choose", index, "sequence"]),
                    **({"alias": option["alias"]} if "alias" in option else {}),
                }
            )
        validated["choose"] = checked
        if "default" in validated:
            validated["default"] = self._nested(self.sequence, validated["default"], ["default"])
        return validated

    def _if(self, value: dict[str, Any]) -> dict[str, Any]:
        validated = _checked(IF_SCHEMA, value)
        validated["if"] = self._nested(validate_conditions, validated["if"], ["if"])
        validated["then"] = self._nested(self.sequence, validated["then"], ["then"])
        if "else" in validated:
            validated["else"] = self._nested(self.sequence, validated["else"], ["else"])
        return validated

    def _repeat(self, value: dict[str, Any]) -> dict[str, Any]:
        validated = _checked(REPEAT_SCHEMA, value)
        repeat = dict(validated["repeat"])
        kinds = [key for key in ("count", "while", "until", "for_each") if key in repeat]
        if len(kinds) != 1:
            raise vol.Invalid("repeat needs exactly one of count, while, until, for_each", path=["repeat"])
        kind = kinds[0]
        unknown = set(repeat) - {kind, "sequence"}
        if unknown:
            raise vol.Invalid("unknown key", path=["repeat", sorted(unknown)[0]])
        if "sequence" not in repeat:
            raise vol.Invalid("required", path=["repeat", "sequence"])
        if kind == "count":
            repeat["count"] = _repeat_count(repeat["count"])
        elif kind in ("while", "until"):
            repeat[kind] = self._nested(validate_conditions, repeat[kind], ["repeat", kind])
        elif not is_template(repeat["for_each"]) and not isinstance(repeat["for_each"], list):
            raise vol.Invalid("expected a list or a template", path=["repeat", "for_each"])
        repeat["sequence"] = self._nested(self.sequence, repeat["sequence"], ["repeat", "sequence"])
        validated["repeat"] = repeat
        return validated

    def _variables(self, value: dict[str, Any]) -> dict[str, Any]:
        return _checked(VARIABLES_SCHEMA, value)

    def _stop(self, value: dict[str, Any]) -> dict[str, Any]:
        return _checked(STOP_SCHEMA, value)

    def _parallel(self, value: dict[str, Any]) -> dict[str, Any]:
        validated = _checked(PARALLEL_SCHEMA, value)
        branches = validated["parallel"] if isinstance(validated["parallel"], list) else [validated["parallel"]]
        checked = []
        for index, branch in enumerate(branches):
            if isinstance(branch, Mapping) and set(branch) <= {"sequence", "alias"} and "sequence" in branch:
                checked.append(self._nested(self.sequence, branch["sequence"], ["parallel", index, "sequence"]))
            else:
                checked.append(self._nested(self.sequence, [branch], ["parallel", index]))
        validated["parallel"] = checked
        return validated

    def _sequence(self, value: dict[str, Any]) -> dict[str, Any]:
        validated = _checked(SEQUENCE_SCHEMA, value)
        validated["sequence"] = self._nested(self.sequence, validated["sequence"], ["sequence"])
        return validated

    @staticmethod
    def _nested(validate: Callable[[Any], Any], value: Any, path: list[Any]) -> Any:
        try:
            return validate(value)
        except vol.Invalid as error:
            raise vol.Invalid(error.msg, path=[*path, *error.path]) from None


def _repeat_count(count: Any) -> Any:
    if is_template(count):
        return count
    try:
        number = int(count)
    except (TypeError, ValueError):
        raise vol.Invalid("expected a whole number", path=["repeat", "count"]) from None
    if not 0 <= number <= MAX_REPEAT:
        raise vol.Invalid(f"must be from 0 to {MAX_REPEAT}", path=["repeat", "count"])
    return number
