"""Automation pages: the list (``/automations``: on/off, last run, run now, why some were refused), a new one
from a blueprint through a form generated from its inputs' selectors (``/automations/new``), the YAML editor
(``/automations/new/yaml`` and ``/automations/{id}``) and the trace viewer (``/automations/{id}/traces``).

Everything is read through the caller's scope: another tenant's automation is the 404 page. The scripts
(``automations.js``, ``automation-form.js``, ``automation-editor.js``) act through the REST API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from hub.auth.scope import NotFound, Role
from hub.http.api_automations import visible_errors
from hub.http.automation_yaml import config_as_yaml
from hub.http.pages.rendering import Page, Rendered, page_handler

if TYPE_CHECKING:
    from hub.automation.automation import Automation
    from hub.automation.manager import AutomationManager
    from hub.automation.trace import Trace

NAV = "/automations"

#: What the editor starts from for a new automation (the tenant is filled in on save).
NEW_AUTOMATION_YAML = """\
alias: New automation
description: ""
mode: single
triggers:
  - trigger: event
    event_type: access
conditions: []
actions:
  - action: notify.persistent_notification
    data:
      title: Access
      message: "{{ trigger.event.data.person | default('someone') }} at the door"
"""


def _timed(trace: Trace) -> dict[str, Any]:
    """The trace as JSON plus epoch seconds for its times (the pages show them in the reader's time zone)."""
    data = trace.as_dict()
    data["start_ts"] = trace.start
    data["finish_ts"] = trace.finish
    for step, timed in zip(trace.steps, data["steps"], strict=True):
        timed["ts"] = step.timestamp
    return data


def _manager(page: Page) -> AutomationManager | None:
    manager: AutomationManager | None = getattr(page.hub, "automations", None)
    return manager


def _visible(page: Page, automation_id: str) -> Automation:
    manager = _manager(page)
    automation = manager.get(automation_id) if manager is not None else None
    if automation is None or not page.scope.sees(automation.tenant_id):
        raise NotFound("automation", automation_id)
    return automation


@page_handler(nav=NAV)
async def automation_list(request: web.Request, page: Page) -> Rendered:
    manager = _manager(page)
    automations = manager.all(page.scope.tenant_filter) if manager is not None else []
    visible = sorted(
        (item for item in automations if page.scope.sees(item.tenant_id)),
        key=lambda item: ((item.alias or item.id).lower(), item.id),
    )
    errors = visible_errors(page.scope, manager.errors) if manager is not None else []
    return Rendered(
        "automations.html",
        {
            "title": page.t("automations.title"),
            "automations": visible,
            "errors": errors,
            "running": manager is not None,
        },
    )


@page_handler(nav=NAV, role=Role.ADMIN)
async def automation_new(request: web.Request, page: Page) -> Rendered:
    """Pick a blueprint; with ``?blueprint=<path>``, its inputs as a form."""
    from hub.http.blueprint_forms import blueprint_choices, form_for

    path = request.query.get("blueprint")
    form = form_for(page.hub, page.scope, path) if path else None
    return Rendered(
        "automation_new.html",
        {
            "title": page.t("automations.new.title"),
            "blueprints": blueprint_choices(page.hub),
            "form": form,
            "path": path,
        },
    )


@page_handler(nav=NAV, role=Role.ADMIN)
async def automation_new_yaml(request: web.Request, page: Page) -> Rendered:
    return Rendered(
        "automation_edit.html",
        {"title": page.t("automations.new_yaml"), "automation": None, "yaml": NEW_AUTOMATION_YAML, "traces": []},
    )


@page_handler(nav=NAV)
async def automation_detail(request: web.Request, page: Page) -> Rendered:
    """Its YAML (editable by admins, read-only otherwise) and its last runs."""
    automation = _visible(page, request.match_info["automation_id"])
    manager = _manager(page)
    traces = [_timed(trace) for trace in manager.traces(automation.id)] if manager is not None else []
    return Rendered(
        "automation_edit.html",
        {
            "title": automation.alias or automation.id,
            "automation": automation,
            "yaml": config_as_yaml(automation.config),
            "traces": traces,
        },
    )


@page_handler(nav=NAV)
async def automation_traces(request: web.Request, page: Page) -> Rendered:
    """One run (``?run=<run_id>``, the newest by default): trigger, steps with results and errors, variables."""
    automation = _visible(page, request.match_info["automation_id"])
    manager = _manager(page)
    traces: list[dict[str, Any]] = [_timed(trace) for trace in manager.traces(automation.id)] if manager else []
    wanted = request.query.get("run")
    current = next((trace for trace in traces if str(trace.get("run_id")) == wanted), None) if wanted else None
    if wanted and current is None:
        raise NotFound("trace", wanted)
    return Rendered(
        "automation_traces.html",
        {
            "title": page.t("automations.traces.title", name=automation.alias or automation.id),
            "automation": automation,
            "traces": traces,
            "trace": current or (traces[0] if traces else None),
        },
    )
