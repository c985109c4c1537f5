"""Validating one automation from automations.yaml: every key checked, every template compiled.

Errors are ``AutomationError(automation_id, key, reason)`` with ``key`` a dotted path into the configuration as
written (``actions.2.action``, ``triggers.0.entity_id``); the singular keys ``trigger``/``condition``/``action``
are accepted and reported under the key the user wrote.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import voluptuous as vol

from hub.automation.actions import ActionValidator
from hub.automation.conditions import validate_conditions
from hub.automation.const import (
    CONF_ACTIONS,
    CONF_CONDITIONS,
    CONF_TRIGGERS,
    DEFAULT_MAX,
    MODE_SINGLE,
    MODES,
)
from hub.automation.errors import AutomationError, TemplateError
from hub.automation.templates import compile_templates, render
from hub.automation.triggers import TriggerPlatforms
from hub.core import Hub

_PLURALS = {"trigger": CONF_TRIGGERS, "condition": CONF_CONDITIONS, "action": CONF_ACTIONS}
_LOG_LEVELS = ("silent", "critical", "error", "warning", "info", "debug")

TOP_SCHEMA = vol.Schema(
    {
        vol.Required("id"): vol.All(vol.Any(str, int), vol.Coerce(str), vol.Length(min=1, max=255)),
        vol.Required("tenant"): vol.All(str, vol.Length(min=1)),
        vol.Optional("alias"): str,
        vol.Optional("description"): str,
        vol.Optional("mode", default=MODE_SINGLE): vol.In(MODES),
        vol.Optional("max", default=DEFAULT_MAX): vol.All(int, vol.Range(min=1, max=10_000)),
        vol.Optional("max_exceeded", default="warning"): vol.All(str, vol.Lower, vol.In(_LOG_LEVELS)),
        vol.Required(CONF_TRIGGERS): object,
        vol.Optional(CONF_CONDITIONS, default=list): object,
        vol.Required(CONF_ACTIONS): object,
        vol.Optional("variables", default=dict): dict,
        vol.Optional("trigger_variables", default=dict): dict,
        vol.Optional("enabled", default=True): bool,
        vol.Optional("use_blueprint"): dict,
    }
)


@dataclass(frozen=True, slots=True)
class AutomationConfig:
    """One automation, valid: what ``Automation`` runs. ``raw`` is the configuration as written."""

    id: str
    tenant_id: str
    alias: str
    description: str
    mode: str
    max: int
    max_exceeded: str
    triggers: list[dict[str, Any]]
    conditions: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    variables: dict[str, Any]
    trigger_variables: dict[str, Any]
    enabled: bool
    raw: dict[str, Any]
    blueprint_path: str | None = None
    #: What was validated: ``raw``, or for a blueprint automation its expansion (a reload compares it).
    expanded: dict[str, Any] | None = None

    @property
    def max_exceeded_level(self) -> int | None:
        return None if self.max_exceeded == "silent" else logging.getLevelName(self.max_exceeded.upper())


def dotted(path: list[Any]) -> str:
    return ".".join(str(part) for part in path)


def plain(value: Any) -> Any:
    """YAML node classes (NodeDict, NodeStr...) as plain dicts, lists and strings."""
    if isinstance(value, Mapping):
        return {plain(key): plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, str):
        return str(value)
    return value


def automation_id_of(raw: Any) -> str | None:
    if isinstance(raw, Mapping) and isinstance(raw.get("id"), str | int) and not isinstance(raw.get("id"), bool):
        return str(raw["id"])
    return None


def validate_automation(
    hub: Hub, platforms: TriggerPlatforms, raw: Any, *, blueprint_path: str | None = None
) -> AutomationConfig:
    """Validate one (already blueprint-expanded) automation; raises AutomationError for the first thing wrong."""
    automation_id = automation_id_of(raw)
    if not isinstance(raw, Mapping):
        raise AutomationError(None, "", "an automation must be a mapping with id, tenant, triggers and actions")
    raw = plain(raw)
    written: dict[str, str] = {}  # plural key -> the key the user wrote
    config = dict(raw)
    for singular, plural in _PLURALS.items():
        if singular in config:
            if plural in config:
                raise AutomationError(automation_id, singular, f"give '{plural}' or '{singular}', not both")
            config[plural] = config.pop(singular)
            written[plural] = singular
        else:
            written[plural] = plural

    def key_of(path: list[Any]) -> str:
        if path and path[0] in written:
            path = [written[path[0]], *path[1:]]
        return dotted(path)

    try:
        config = TOP_SCHEMA(config)
    except vol.MultipleInvalid as error:
        first = error.errors[0]
        raise AutomationError(automation_id, key_of(list(first.path)), _reason(first)) from None
    assert automation_id is not None
    tenant = hub.tenants.get_by_code(config["tenant"]) or hub.tenants.get(config["tenant"])
    if tenant is None:
        raise AutomationError(automation_id, "tenant", f"unknown tenant {config['tenant']!r}")

    def section(key: str, validate: Any) -> Any:
        try:
            return validate(config[key])
        except vol.Invalid as error:
            raise AutomationError(automation_id, key_of([key, *error.path]), _reason(error)) from None

    def one_by_one(value: Any) -> list[dict[str, Any]]:
        items = value if isinstance(value, list) else [value]
        if not items:
            raise vol.Invalid("at least one trigger is needed")
        checked = []
        for index, item in enumerate(items):
            try:
                checked.append(platforms.validate(item))
            except vol.Invalid as error:
                raise vol.Invalid(error.msg, path=[index, *error.path]) from None
        return checked

    triggers = section(CONF_TRIGGERS, one_by_one)
    conditions = section(CONF_CONDITIONS, lambda value: validate_conditions(value) if value else [])
    actions = section(CONF_ACTIONS, ActionValidator(platforms, hub.services).sequence)
    try:
        compiled_conditions = compile_templates(conditions, written[CONF_CONDITIONS])
        compiled_actions = _compile_actions(actions, written[CONF_ACTIONS])
        variables = compile_templates(config["variables"], "variables")
        # limited templates, as in Home Assistant: rendered once, at load, without states
        trigger_variables = render(compile_templates(config["trigger_variables"], "trigger_variables"), {})
        for index, trigger in enumerate(triggers):
            if trigger.get("variables"):
                key = f"{written[CONF_TRIGGERS]}.{index}.variables"
                trigger["variables"] = compile_templates(trigger["variables"], key)
    except TemplateError as error:
        where = f" (line {error.line} of the template)" if error.line is not None else ""
        raise AutomationError(automation_id, error.key, f"{error.reason}{where}") from None
    return AutomationConfig(
        id=automation_id,
        tenant_id=tenant.id,
        alias=config.get("alias") or automation_id,
        description=config.get("description", ""),
        mode=config["mode"],
        max=config["max"],
        max_exceeded=config["max_exceeded"],
        triggers=triggers,
        conditions=compiled_conditions,
        actions=compiled_actions,
        variables=variables,
        trigger_variables=trigger_variables,
        enabled=config["enabled"],
        raw=raw,
        blueprint_path=blueprint_path,
        expanded=raw,
    )


def _compile_actions(actions: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Compile templates everywhere in the actions except inside ``wait_for_trigger`` (its platform's own)."""
    compiled = []
    for index, action in enumerate(actions):
        path = f"{key}.{index}"
        item: dict[str, Any] = {}
        for name, value in action.items():
            if name == "wait_for_trigger":
                item[name] = value
            elif name in ("sequence", "then", "else", "default") and isinstance(value, list):
                item[name] = _compile_actions(value, f"{path}.{name}")
            elif name == "choose":
                item[name] = [
                    {
                        **compile_templates({k: v for k, v in option.items() if k != "sequence"}, f"{path}.choose.{i}"),
                        "sequence": _compile_actions(option["sequence"], f"{path}.choose.{i}.sequence"),
                    }
                    for i, option in enumerate(value)
                ]
            elif name == "repeat":
                item[name] = {
                    **compile_templates({k: v for k, v in value.items() if k != "sequence"}, f"{path}.repeat"),
                    "sequence": _compile_actions(value["sequence"], f"{path}.repeat.sequence"),
                }
            elif name == "parallel":
                item[name] = [_compile_actions(branch, f"{path}.parallel.{i}") for i, branch in enumerate(value)]
            else:
                item[name] = compile_templates(value, f"{path}.{name}")
        compiled.append(item)
    return compiled


def _reason(error: vol.Invalid) -> str:
    message = error.error_message if hasattr(error, "error_message") else str(error)
    if message == "extra keys not allowed":
        return "unknown key"
    if message == "required key not provided":
        return "required"
    return str(message)
