"""Automations of the caller's tenant: list, read (with its YAML), create, edit, delete, enable, disable, trigger,
traces; the errors of refused automations; reload (platform administrators).

Viewers read, operators enable/disable/trigger, admins create/edit/delete. An automation of another tenant does
not exist here (404), like every other tenant-owned thing. A body is the automation's configuration as
``automations.yaml`` holds it (JSON), or ``{"yaml": "<text>"}`` as the dashboard's editor sends it; a refused
configuration answers 400 with ``fields`` = ``{dotted key: reason}`` (YAML: with the line of the key).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import voluptuous as vol
from aiohttp import web

from hub.auth.scope import NotFound, Role, TenantScope
from hub.automation.const import CONF_ID, CONF_TENANT
from hub.automation.errors import AutomationError, AutomationInvalid
from hub.http import audit, hub_of, json_response, scope_of
from hub.http.automation_yaml import config_as_yaml, parse_automation_yaml, with_lines
from hub.http.errors import ApiError
from hub.http.params import acting_tenant, boolean
from hub.http.routing import ApiRoutes, body_of, query_of

if TYPE_CHECKING:
    from hub.automation.automation import Automation
    from hub.automation.manager import AutomationManager

routes = ApiRoutes("automations")

#: Any JSON object: the automation's own schema (the engine's) says what is wrong with it, key by key.
CONFIG_BODY = vol.Schema(
    {vol.Optional("yaml", description="the configuration as YAML text"): str}, extra=vol.ALLOW_EXTRA
)
TRIGGER_BODY = vol.Schema(
    {
        vol.Optional("variables", default=dict): dict,
        vol.Optional("skip_condition", default=True): boolean,
    }
)
LIST_QUERY = vol.Schema({vol.Optional("tenant", description="platform administrators: one tenant's (id or code)"): str})


def manager_of(request: web.Request) -> AutomationManager:
    """The hub's automation engine (``hub.automations``)."""
    manager: AutomationManager | None = getattr(hub_of(request), "automations", None)
    if manager is None:
        raise ApiError(503, "automations_unavailable", "the automation engine is not running")
    return manager


def visible_automation(request: web.Request) -> Automation:
    """The automation named in the path, if the caller's tenant owns it (404 otherwise, never 403)."""
    automation_id = request.match_info["automation_id"]
    automation = manager_of(request).get(automation_id)
    if automation is None or not scope_of(request).sees(automation.tenant_id):
        raise NotFound("automation", automation_id)
    return automation


def tenant_named(scope: TenantScope, value: str | None) -> str:
    """The tenant a write acts for: the caller's, or one named by id or code (another tenant's is 404)."""
    if not value:
        return acting_tenant(scope, None)
    tenant = scope.hub.tenants.get(value) or scope.hub.tenants.get_by_code(value)
    if tenant is None or not scope.sees(tenant.id):
        raise NotFound("tenant", value)  # as named: an unseen tenant's id is never told
    return tenant.id


def automation_dict(automation: Automation) -> dict[str, Any]:
    """What the API shows of one automation: the engine's view plus its configuration as YAML for editors."""
    return {**automation.as_dict(), "yaml": config_as_yaml(automation.config)}


def _config_of(body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The configuration in a body (JSON, or parsed from ``yaml``), and the YAML text when there was one."""
    if "yaml" in body:
        text = body["yaml"]
        return parse_automation_yaml(text), text
    return dict(body), None


def _refused(error: AutomationInvalid, yaml_text: str | None) -> ApiError:
    fields = error.fields()
    if yaml_text is not None:
        fields = with_lines(fields, yaml_text)
    return ApiError(400, "invalid_automation", f"the automation was refused: {error}", fields)


# ------------------------------------------------------------------------------------------------- reading


@routes.api_route("GET", "/api/automations", summary="Automations of the caller's tenant", query=LIST_QUERY)
async def get_automations(request: web.Request) -> web.Response:
    """Platform administrators see every tenant's, or one tenant's with ``?tenant=``."""
    scope = scope_of(request)
    tenant_id = scope.tenant_filter
    if (named := query_of(request).get("tenant")) is not None:
        tenant_id = tenant_named(scope, named)
    automations = sorted(
        manager_of(request).all(tenant_id), key=lambda item: ((item.alias or item.id).lower(), item.id)
    )
    return json_response([automation.as_dict() for automation in automations if scope.sees(automation.tenant_id)])


@routes.api_route("GET", "/api/automations/{automation_id}", summary="One automation, with its configuration")
async def get_automation(request: web.Request) -> web.Response:
    return json_response(automation_dict(visible_automation(request)))


@routes.api_route("GET", "/api/automations/{automation_id}/traces", summary="The last runs of an automation")
async def get_traces(request: web.Request) -> web.Response:
    """Newest first; each with its trigger, steps (path, result, error, variables) and final result."""
    automation = visible_automation(request)
    return json_response([trace.as_dict() for trace in manager_of(request).traces(automation.id)])


@routes.api_route("GET", "/api/automations/{automation_id}/traces/{run_id}", summary="One run of an automation")
async def get_trace(request: web.Request) -> web.Response:
    automation = visible_automation(request)
    run_id = request.match_info["run_id"]
    for trace in manager_of(request).traces(automation.id):
        data = trace.as_dict()
        if str(data.get("run_id")) == run_id:
            return json_response(data)
    raise NotFound("trace", run_id)


@routes.api_route("GET", "/api/automation_errors", summary="Why automations were refused at the last load")
async def get_automation_errors(request: web.Request) -> web.Response:
    """Each refused automation's id, the dotted key at fault and the reason (the tenant's own)."""
    scope = scope_of(request)
    return json_response([error.as_dict() for error in visible_errors(scope, manager_of(request).errors)])


def visible_errors(scope: TenantScope, errors: list[AutomationError]) -> list[AutomationError]:
    """A refused automation belongs to the tenant its entry names; one whose tenant is unknown, to the platform."""
    return [error for error in errors if scope.sees(error.tenant_id)]


# ------------------------------------------------------------------------------------------------- writing


@routes.api_route(
    "POST", "/api/automations", role=Role.ADMIN, summary="Create an automation", body=CONFIG_BODY, status=201
)
async def create_automation(request: web.Request) -> web.Response:
    """From a whole configuration or ``use_blueprint: {path, input}``; ``id`` is generated when absent.
    ``tenant`` (id or code) defaults to the caller's; naming another tenant is 404."""
    scope = scope_of(request)
    config, yaml_text = _config_of(body_of(request))
    tenant_id = tenant_named(scope, _text_or_none(config.pop(CONF_TENANT, None)))
    manager = manager_of(request)
    if (wanted := config.get(CONF_ID)) is not None and manager.get(str(wanted)) is not None:
        raise ApiError(409, "automation_exists", f"an automation with id {wanted} exists", {CONF_ID: "already used"})
    automation = await _save(manager, config, tenant_id, yaml_text)
    await audit(request, "automation.create", target=automation.id, tenant_id=tenant_id)
    return json_response(automation_dict(automation), status=201)


@routes.api_route(
    "PUT", "/api/automations/{automation_id}", role=Role.ADMIN, summary="Replace an automation", body=CONFIG_BODY
)
async def update_automation(request: web.Request) -> web.Response:
    """The whole configuration (its ``id`` is the path's); it stays with its tenant."""
    existing = visible_automation(request)
    config, yaml_text = _config_of(body_of(request))
    config.pop(CONF_TENANT, None)
    config[CONF_ID] = existing.id
    automation = await _save(manager_of(request), config, existing.tenant_id, yaml_text)
    await audit(request, "automation.update", target=automation.id, tenant_id=existing.tenant_id)
    return json_response(automation_dict(automation))


async def _save(
    manager: AutomationManager, config: dict[str, Any], tenant_id: str, yaml_text: str | None
) -> Automation:
    try:
        return await manager.save(config, tenant_id=tenant_id)
    except AutomationInvalid as error:
        raise _refused(error, yaml_text) from None


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


@routes.api_route("DELETE", "/api/automations/{automation_id}", role=Role.ADMIN, summary="Delete an automation")
async def delete_automation(request: web.Request) -> web.Response:
    automation = visible_automation(request)
    try:
        await manager_of(request).delete(automation.id)
    except KeyError:  # removed from automations.yaml meanwhile
        raise NotFound("automation", automation.id) from None
    await audit(request, "automation.delete", target=automation.id, tenant_id=automation.tenant_id)
    return json_response({"id": automation.id, "deleted": True})


async def _set_enabled(request: web.Request, enabled: bool) -> web.Response:
    automation = visible_automation(request)
    manager = manager_of(request)
    try:
        await manager.set_enabled(automation.id, enabled)
    except KeyError:
        raise NotFound("automation", automation.id) from None
    action = "automation.enable" if enabled else "automation.disable"
    await audit(request, action, target=automation.id, tenant_id=automation.tenant_id)
    updated = manager.get(automation.id)
    return json_response((updated or automation).as_dict())


@routes.api_route(
    "POST", "/api/automations/{automation_id}/enable", role=Role.OPERATOR, summary="Turn an automation on"
)
async def enable_automation(request: web.Request) -> web.Response:
    """Its triggers listen again; kept in automations.yaml (``enabled: true``)."""
    return await _set_enabled(request, True)


@routes.api_route(
    "POST", "/api/automations/{automation_id}/disable", role=Role.OPERATOR, summary="Turn an automation off"
)
async def disable_automation(request: web.Request) -> web.Response:
    """Its triggers stop listening; kept in automations.yaml (``enabled: false``)."""
    return await _set_enabled(request, False)


@routes.api_route(
    "POST", "/api/automations/{automation_id}/trigger", role=Role.OPERATOR, summary="Run an automation now",
    body=TRIGGER_BODY,
)  # fmt: skip
async def trigger_automation(request: web.Request) -> web.Response:
    """Runs its actions (conditions skipped unless ``skip_condition`` is false) and answers the run's trace."""
    automation = visible_automation(request)
    body = body_of(request)
    try:
        trace = await manager_of(request).trigger(
            automation.id, body.get("variables") or {}, skip_condition=body.get("skip_condition", True)
        )
    except AutomationError as error:  # its mode refuses another run now
        raise ApiError(409, "automation_busy", str(error), {error.key or "mode": error.reason}) from None
    await audit(request, "automation.trigger", target=automation.id, tenant_id=automation.tenant_id)
    return json_response(trace.as_dict())


@routes.api_route("POST", "/api/automations/reload", platform_admin=True, summary="Read automations.yaml again")
async def reload_automations(request: web.Request) -> web.Response:
    """Answers the errors of the automations refused; the others are loaded and running."""
    errors = await manager_of(request).reload()
    await audit(request, "automation.reload")
    return json_response({"loaded": len(manager_of(request).all()), "errors": [error.as_dict() for error in errors]})
