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
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from aiohttp import web

    from hub.core import Hub
    from hub.integration import Integration

hookspec = pluggy.HookspecMarker("gatehouse")
hookimpl = pluggy.HookimplMarker("gatehouse")


@hookspec
def integration() -> Integration:
    """Describe this integration: domain, name, version, iot class, schemas and the entry life cycle.

    Every integration implements it exactly once; the domain must be unique across the hub.
    """


@hookspec
def http_routes(hub: Hub) -> list[web.AbstractRouteDef]:
    """Return aiohttp route definitions to mount on the hub's HTTP server (a webhook, a device endpoint).

    Paths should start with ``/api/<domain>/`` or another prefix owned by the integration. Routes under ``/api``
    need a signed-in caller (read it with ``hub.http.scope_of(request)``) unless the handler is decorated with
    ``hub.http.routing.public``, as a device's push endpoint or a signed webhook must be.
    """


@hookspec
def cli_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add sub-commands to the ``gatehouse`` command line (``gatehouse simulate <device>``, exports).

    Add parsers with ``subparsers.add_parser(...)`` and set ``func`` with ``set_defaults(func=...)``:
    the function receives the parsed arguments and returns the exit code.
    """
