"""The core's trigger platforms, registered through the ``automation_triggers`` hook like any plugin's.

Loaded by ``hub.plugins`` as a default plugin. It also mounts the webhook route through ``http_routes``.
"""

from __future__ import annotations

from aiohttp import web

from hub.automation import state_triggers, time_triggers, webhook
from hub.automation.triggers import TriggerPlatform
from hub.core import Hub
from hub.hookspecs import hookimpl


@hookimpl
def automation_triggers() -> list[TriggerPlatform]:
    return [*state_triggers.PLATFORMS, *time_triggers.PLATFORMS, *webhook.PLATFORMS]


@hookimpl
def http_routes(hub: Hub) -> list[web.RouteDef]:
    return webhook.routes(hub)
