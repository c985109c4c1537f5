"""The ``automation.*`` services: trigger, turn_on, turn_off, toggle (targets: automation entities) and reload.

Targets are checked by ``authorize_service_call`` like any entity, so a tenant only reaches its automations;
``reload`` rereads the whole file and is for the hub and platform administrators only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import voluptuous as vol

from hub.automation.const import (
    DOMAIN,
    SERVICE_RELOAD,
    SERVICE_TOGGLE,
    SERVICE_TRIGGER,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
)
from hub.core import Hub, ServiceCall
from hub.exceptions import ServiceValidationError, Unauthorized

if TYPE_CHECKING:
    from hub.automation.automation import Automation
    from hub.automation.manager import AutomationManager


TRIGGER_SCHEMA = vol.Schema({vol.Optional("skip_condition", default=True): bool, vol.Optional("variables"): dict})
EMPTY_SCHEMA = vol.Schema({})


def register_services(hub: Hub, manager: AutomationManager) -> None:
    def targets(call: ServiceCall) -> list[Automation]:
        if not call.entity_ids:
            raise ServiceValidationError(DOMAIN, call.service, {"entity_id": "required (automation entities)"})
        found = []
        for entity_id in call.entity_ids:
            automation = manager.by_entity_id(entity_id)
            if automation is None:
                raise ServiceValidationError(DOMAIN, call.service, {"entity_id": f"{entity_id} is no automation"})
            found.append(automation)
        return found

    async def trigger(call: ServiceCall) -> None:
        for automation in targets(call):
            variables: dict[str, Any] = dict(call.data.get("variables") or {})
            await manager.trigger(automation.id, variables, skip_condition=call.data["skip_condition"])

    async def turn_on(call: ServiceCall) -> None:
        for automation in targets(call):
            await manager.set_enabled(automation.id, True)

    async def turn_off(call: ServiceCall) -> None:
        for automation in targets(call):
            await manager.set_enabled(automation.id, False)

    async def toggle(call: ServiceCall) -> None:
        for automation in targets(call):
            await manager.set_enabled(automation.id, not automation.enabled)

    async def reload(call: ServiceCall) -> None:
        if call.context is not None and call.context.tenant_id is not None:
            raise Unauthorized("only platform administrators may reload every automation")
        await manager.reload()

    services = hub.services
    services.register(DOMAIN, SERVICE_TRIGGER, trigger, TRIGGER_SCHEMA, description="Run automations now")
    services.register(DOMAIN, SERVICE_TURN_ON, turn_on, EMPTY_SCHEMA, description="Enable automations")
    services.register(DOMAIN, SERVICE_TURN_OFF, turn_off, EMPTY_SCHEMA, description="Disable automations")
    services.register(DOMAIN, SERVICE_TOGGLE, toggle, EMPTY_SCHEMA, description="Enable or disable automations")
    services.register(DOMAIN, SERVICE_RELOAD, reload, EMPTY_SCHEMA, description="Reload automations.yaml")
