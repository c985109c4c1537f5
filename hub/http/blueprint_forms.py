"""The form for a new automation from a blueprint: one field per input, generated from its selector.

The blueprint module describes each input (``form_schema``: name, description, default, required and the
selector's field: type, entity domains, number range, select options...). Here those descriptions meet the
caller's tenant: an entity field offers the tenant's entities of the wanted domains, a device field the
tenant's devices, so the form never lists another tenant's things.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hub.auth.scope import NotFound, TenantScope
from hub.automation import blueprints
from hub.automation.blueprints import BlueprintError
from hub.core import Hub

__all__ = ["BlueprintChoice", "FormField", "FormView", "blueprint_choices", "form_for"]


@dataclass(frozen=True, slots=True)
class BlueprintChoice:
    path: str
    name: str
    description: str


@dataclass(slots=True)
class FormField:
    """One input as the template renders it; ``choices`` are (value, label) pairs for entity/device/select."""

    name: str
    label: str
    type: str
    description: str = ""
    required: bool = True
    default: Any = None
    multiple: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def default_text(self) -> str:
        """The default as the input's text (durations as HH:MM:SS)."""
        value = self.default
        if value is None:
            return ""
        if isinstance(value, dict) and self.type == "duration":
            seconds = int(
                value.get("days", 0) * 86400 + value.get("hours", 0) * 3600 + value.get("minutes", 0) * 60
                + value.get("seconds", 0)
            )  # fmt: skip
            return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        return str(value)

    def selected(self, value: str) -> bool:
        default = self.default
        return value in default if isinstance(default, list) else value == default


@dataclass(slots=True)
class FormView:
    path: str
    name: str
    description: str
    fields: list[FormField]


def blueprint_choices(hub: Hub) -> list[BlueprintChoice]:
    """Every blueprint the hub knows (shipped and the config directory's), by name."""
    choices = [
        BlueprintChoice(item.path, item.name, item.description or "") for item in blueprints.list_blueprints(hub)
    ]
    return sorted(choices, key=lambda choice: choice.name.lower())


def form_for(hub: Hub, scope: TenantScope, path: str) -> FormView:
    """The form of the blueprint at ``path``; NotFound when there is none."""
    try:
        blueprint = blueprints.get(hub, path)
    except BlueprintError:
        raise NotFound("blueprint", path) from None
    fields = [_field(scope, item) for item in blueprint.form_schema()]
    return FormView(blueprint.path, blueprint.name, blueprint.description or "", fields)


def _field(scope: TenantScope, described: dict[str, Any]) -> FormField:
    kind = str(described.get("type", "text"))
    name = str(described["name"])
    result = FormField(
        name=name,
        label=str(described.get("label") or name.replace("_", " ").capitalize()),
        type=kind,
        description=str(described.get("description") or ""),
        required=bool(described.get("required", "default" not in described)),
        default=described.get("default"),
        multiple=bool(described.get("multiple")) or (kind == "text" and isinstance(described.get("default"), list)),
        extra={key: described[key] for key in ("min", "max", "step", "unit_of_measurement", "multiline")
               if described.get(key) is not None},
    )  # fmt: skip
    if kind == "entity":
        domains = set(described.get("domain") or [])
        result.choices = [
            (state.entity_id, f"{state.name} ({state.entity_id})")
            for state in sorted(scope.states(), key=lambda state: state.entity_id)
            if not domains or state.domain in domains
        ]
    elif kind == "device":
        wanted = {str(name).lower() for name in described.get("manufacturer") or []}
        result.choices = [
            (device.id, f"{device.name} · {device.manufacturer} {device.serial_number}")
            for device in sorted(scope.devices(), key=lambda device: device.name.lower())
            if not wanted or device.manufacturer.lower() in wanted
        ]
    elif kind == "select":
        result.choices = [(str(option["value"]), str(option["label"])) for option in described.get("options") or []]
    return result
