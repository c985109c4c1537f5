"""Trigger platforms: what a trigger type is, the context it fires through, and the registry of all of them.

A platform (``state``, ``event``, ``access``...) is a name, a voluptuous schema for its own keys and an
``attach`` function that starts listening and returns the function that stops. Platforms come from the
``automation_triggers`` hook only, the core ones included (``hub.automation.core_triggers``), so the core and
integrations use the same door.

The schema sees the trigger's configuration without the keys every trigger has (``trigger``/``platform``,
``id``, ``alias``, ``enabled``, ``variables``); ``attach`` gets the validated configuration with ``platform``
and those keys put back. ``fire`` takes the platform's own ``trigger`` variables (``entity_id``,
``to_state``, ``event``, a ``description``...): the engine adds ``platform``, ``id``, ``idx`` and ``alias``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from hub.auth.scope import TenantScope
from hub.core import Context

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = [
    "COMMON_KEYS",
    "Detach",
    "FireCallback",
    "TriggerContext",
    "TriggerPlatform",
    "TriggerPlatforms",
]

#: Called with the platform's ``trigger`` variables and the context of what fired it.
FireCallback = Callable[[dict[str, Any], Context | None], None]
Detach = Callable[[], None]

#: Keys every trigger may have, validated by the engine, never by a platform's schema.
COMMON_KEYS = frozenset({"platform", "trigger", "id", "alias", "enabled", "variables"})


@dataclass(frozen=True, slots=True)
class TriggerContext:
    """What a platform's ``attach`` needs about the automation it serves.

    ``scope`` is the automation's tenant: use ``scope.event_visible(event)`` / ``scope.sees(tenant_id)`` on
    everything you listen to, so a trigger never fires on another tenant's events or states.
    """

    automation_id: str
    #: None only for a platform administrator's ``subscribe_trigger`` (every tenant visible).
    tenant_id: str | None
    scope: TenantScope
    fire: FireCallback
    #: The trigger's position in the automation's list, as a string ("0", "1", ...).
    idx: str = "0"
    #: The trigger's ``id`` (defaults to ``idx``), also set in the variables the engine builds.
    trigger_id: str = "0"


@dataclass(frozen=True, slots=True)
class TriggerPlatform:
    """One trigger type: ``name`` is what ``trigger:`` (or ``platform:``) says in the configuration."""

    name: str
    schema: vol.Schema
    attach: Callable[[Hub, dict[str, Any], TriggerContext], Detach]
    description: str = ""


@dataclass
class TriggerPlatforms:
    """Every trigger platform by name, gathered from the ``automation_triggers`` hook."""

    platforms: dict[str, TriggerPlatform] = field(default_factory=dict)

    @classmethod
    def from_plugins(cls, hub: Hub) -> TriggerPlatforms:
        registry = cls()
        for platforms in hub.plugins.hook.automation_triggers():
            for platform in platforms or ():
                registry.add(platform)
        return registry

    def add(self, platform: TriggerPlatform) -> None:
        if platform.name in self.platforms:
            raise ValueError(f"trigger platform {platform.name!r} is registered twice")
        self.platforms[platform.name] = platform

    def get(self, name: str) -> TriggerPlatform | None:
        return self.platforms.get(name)

    def names(self) -> list[str]:
        return sorted(self.platforms)

    def validate(self, config: Any) -> dict[str, Any]:
        """Validate one trigger; raises vol.Invalid whose path names the bad key (relative to the trigger)."""
        if not isinstance(config, Mapping):
            raise vol.Invalid("expected a trigger object (a mapping with 'trigger:')")
        config = dict(config)
        type_key = "platform" if "platform" in config else "trigger"  # errors name the key the user wrote
        name = config.pop(type_key, None)
        config.pop("trigger", None)
        if not isinstance(name, str):
            raise vol.Invalid("a trigger needs 'trigger:' naming its type", path=[type_key])
        platform = self.platforms.get(name)
        if platform is None:
            known = ", ".join(self.names())
            raise vol.Invalid(f"unknown trigger type {name!r} (known: {known})", path=[type_key])
        common = {key: config.pop(key) for key in list(config) if key in COMMON_KEYS}
        common = _COMMON_SCHEMA(common)
        try:
            own = platform.schema(config)
        except vol.Invalid as error:
            errors = error.errors if isinstance(error, vol.MultipleInvalid) else [error]
            first = errors[0]
            raise vol.Invalid(first.msg, path=list(first.path)) from None
        return {"platform": name, **common, **own}


def _string_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise vol.Invalid("expected a string")
    return str(value)


_COMMON_SCHEMA = vol.Schema(
    {
        vol.Optional("id"): _string_id,
        vol.Optional("alias"): str,
        vol.Optional("enabled"): bool,
        vol.Optional("variables"): dict,
    }
)


def attach_all(
    hub: Hub,
    platforms: TriggerPlatforms,
    configs: list[dict[str, Any]],
    *,
    automation_id: str,
    tenant_id: str | None,
    scope: TenantScope,
    fire: FireCallback,
) -> Detach:
    """Attach every enabled trigger; ``fire`` gets complete ``trigger`` variables. Returns the detach-all.

    A platform whose ``attach`` raises detaches what was attached and re-raises (the automation is refused).
    """
    detachers: list[Detach] = []

    def detach_all() -> None:
        while detachers:
            detachers.pop()()

    for index, config in enumerate(configs):
        if config.get("enabled", True) is False:
            continue
        platform = platforms.get(config["platform"])
        if platform is None:
            detach_all()
            raise ValueError(f"trigger type {config['platform']!r} is no longer available")
        idx = str(index)
        trigger_id = config.get("id", idx)
        base = {"platform": config["platform"], "id": trigger_id, "idx": idx, "alias": config.get("alias")}

        def fired(variables: dict[str, Any], context: Context | None, base: dict[str, Any] = base) -> None:
            fire({**variables, **base}, context)

        trigger_context = TriggerContext(automation_id, tenant_id, scope, fired, idx, trigger_id)
        try:
            detachers.append(platform.attach(hub, config, trigger_context))
        except Exception:
            detach_all()
            raise
    return detach_all
