"""Every hook an integration may implement. Each docstring is the reference; docs/plugin_hooks.md mirrors it.

Implement a hook with ``@hookimpl`` from this module, in the integration's top-level module:

    from hub.hookspecs import hookimpl

    @hookimpl
    def integration():
        return Integration(domain="turnstile", name="Turnstile")

Hooks are added here only together with the core code that calls them; tests/test_docs.py fails when a
hook is missing from docs/plugin_hooks.md or documented with another signature.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from aiohttp import web

    from hub.automation.triggers import TriggerPlatform
    from hub.core import Hub
    from hub.http.dashboard import DashboardPages
    from hub.http.routing import ApiRoute
    from hub.integration import Integration

hookspec = pluggy.HookspecMarker("gatehouse")
hookimpl = pluggy.HookimplMarker("gatehouse")


@hookspec
def integration() -> Integration:
    """Describe this integration: domain, name, version, iot class, schemas and the entry life cycle.

    Every integration implements it exactly once; the domain must be unique across the hub.
    """


@hookspec
def http_routes(hub: Hub) -> list[web.AbstractRouteDef | ApiRoute]:
    """Return aiohttp route definitions to mount on the hub's HTTP server (a webhook, a device endpoint).

    Paths should start with ``/api/<domain>/`` or another prefix owned by the integration. Routes under ``/api``
    need a signed-in caller (read it with ``hub.http.scope_of(request)``) unless the handler is decorated with
    ``hub.http.routing.public``, as a device's push endpoint or a signed webhook must be. The list may also hold
    ``ApiRoute`` declarations (iterate a ``hub.http.routing.ApiRoutes``): they get the core's treatment, the
    declared role enforced, body and query validated, and a place in ``/api/openapi.json``.
    """


@hookspec
def dashboard_pages(hub: Hub) -> DashboardPages | None:
    """Return the integration's dashboard pages: routes wrapped with ``page_handler``, a templates folder (its
    templates are named ``<domain>/<file>.html`` and may extend the core's ``base.html``), static files (served
    under ``/static/<domain>/``), a ``locales`` folder (``en.json``, ``fr.json``; keys prefixed with the domain)
    and header links with the least role that sees them. Pages read the hub through ``page.scope`` only.
    """


@hookspec
def cli_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add sub-commands to the ``gatehouse`` command line (``gatehouse simulate <device>``, exports).

    Add parsers with ``subparsers.add_parser(...)`` and set ``func`` with ``set_defaults(func=...)``:
    the function receives the parsed arguments and returns the exit code.
    """


@hookspec
def migration_folders() -> list[Path]:
    """Return Alembic version folders holding this integration's own tables (``integrations/x/migrations``).

    The hub migrates them with its own, to all heads, at every start and in ``gatehouse db upgrade``. Give each
    integration's revisions their own branch (``branch_labels=("x",)``, ``down_revision=None`` for the first)
    and make the first one ``depends_on`` the core revision it needs, so it runs after the core tables exist.
    """


@hookspec
def automation_triggers() -> list[TriggerPlatform]:
    """Return the automation trigger types this plugin adds (``hub.automation.triggers.TriggerPlatform``).

    Each is a ``name`` (what ``trigger:`` says in automations.yaml), a voluptuous ``schema`` for the trigger's own
    keys (the engine validates ``trigger``/``platform``, ``id``, ``alias``, ``enabled`` and ``variables``) and
    ``attach(hub, config, context)``, which starts listening and returns the function that stops. Call
    ``context.fire(trigger_variables, event_context)`` when the trigger fires, and only for what
    ``context.scope`` sees: automations are tenant-owned. The core's ``state``, ``event``, ``time``,
    ``time_pattern``, ``template`` and ``webhook`` triggers come through this hook too.
    """
